import { parseEventLogs, type Account, type Address, type Hex } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { sendTx, type ChainContext } from './context.ts'
import type { Deployment } from './deployment.ts'
import { Instruct3Error } from '../util/errors.ts'

/** What the oracle attests when it proves fraud: gold-task failures of one labeler, with evidence. */
export type FraudProof = { campaignId: bigint; labeler: Address; goldFailures: number; goldTotal: number; evidenceCid: string }

/** EIP-712 domain and types of LabelingEscrow's FraudProof (must match the contract's typehash). */
export function fraudProofTypedData(d: Pick<Deployment, 'chainId' | 'escrow'>, proof: FraudProof) {
  return {
    domain: { name: 'instruct3 LabelingEscrow', version: '1', chainId: d.chainId, verifyingContract: d.escrow },
    types: {
      FraudProof: [
        { name: 'campaignId', type: 'uint256' },
        { name: 'labeler', type: 'address' },
        { name: 'goldFailures', type: 'uint32' },
        { name: 'goldTotal', type: 'uint32' },
        { name: 'evidenceCid', type: 'string' },
      ],
    },
    primaryType: 'FraudProof' as const,
    message: proof,
  }
}

export async function signFraudProof(oracle: Account, d: Pick<Deployment, 'chainId' | 'escrow'>, proof: FraudProof): Promise<Hex> {
  if (!oracle.signTypedData) throw new Instruct3Error('the oracle account cannot sign typed data', { code: 'EKEY' })
  return oracle.signTypedData(fraudProofTypedData(d, proof))
}

/** Whether gold results prove fraud under a campaign's limit (strictly above `limitBps`, as on chain). */
export function isProvenFraud(goldFailures: number, goldTotal: number, limitBps: number): boolean {
  return goldTotal > 0 && goldFailures <= goldTotal && goldFailures * 10_000 > goldTotal * limitBps
}

/** Submit a signed fraud proof (any account may relay it); returns the amounts slashed. */
export async function slashLabeler(ctx: ChainContext, proof: FraudProof, signature: Hex): Promise<{ fromStake: bigint; fromVesting: bigint; fromBonusReserve: bigint; txHash: Hex }> {
  const { receipt } = await sendTx(ctx, 'LabelingEscrow.slash', {
    address: ctx.deployment.escrow,
    abi: labelingEscrowAbi,
    functionName: 'slash',
    args: [proof.campaignId, proof.labeler, proof.goldFailures, proof.goldTotal, proof.evidenceCid, signature],
  })
  const [ev] = parseEventLogs({ abi: labelingEscrowAbi, logs: receipt.logs, eventName: 'Slashed' })
  return { fromStake: ev?.args.fromStake ?? 0n, fromVesting: ev?.args.fromVesting ?? 0n, fromBonusReserve: ev?.args.fromBonusReserve ?? 0n, txHash: receipt.transactionHash }
}
