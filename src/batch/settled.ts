/**
 * The chain check of a label batch: did the escrow settle this Merkle root for this campaign?
 * Reads LabelingEscrow.batchIndexOf(campaign, root), which is 0 for a root never settled.
 */
import type { Hex } from 'viem'
import { createChainContext } from '../chain/context.ts'
import type { Deployment } from '../chain/deployment.ts'
import { labelingEscrowAbi } from '../chain/generated/index.ts'
import type { SettledRootCheck } from './label-input.ts'

/** The settled batch index of `root` in on-chain campaign `id` (0: not settled). */
export async function settledBatchIndex(deployment: Deployment, id: bigint, root: Hex): Promise<number> {
  const ctx = createChainContext({ deployment })
  const index = await ctx.publicClient.readContract({ address: deployment.escrow, abi: labelingEscrowAbi, functionName: 'batchIndexOf', args: [id, root] })
  return Number(index)
}

export function settledRootChecker(deployment: Deployment): SettledRootCheck {
  return async (id, root) => (await settledBatchIndex(deployment, id, root)) > 0
}
