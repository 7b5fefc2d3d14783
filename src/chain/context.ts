import type { Abi, Account, Address, TransactionReceipt } from 'viem'
import { createChainClients, type ChainClients } from './client.ts'
import { chainError } from './errors.ts'
import type { Deployment } from './deployment.ts'
import { Instruct3Error } from '../util/errors.ts'

/** A deployment plus clients; `account` signs the transactions (absent for read-only use). */
export type ChainContext = ChainClients & { deployment: Deployment }

export function createChainContext(init: { deployment: Deployment; account?: Account; rpcUrl?: string }): ChainContext {
  const clients = createChainClients({ rpcUrl: init.rpcUrl ?? init.deployment.rpcUrl, chainId: init.deployment.chainId, account: init.account })
  return { ...clients, deployment: init.deployment }
}

export type WriteCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }

/**
 * Simulate, send and wait for one contract call. Simulating first makes a revert surface as the
 * contract's named custom error (through chainError) before any gas is spent.
 */
export async function sendTx(ctx: ChainContext, what: string, call: WriteCall): Promise<{ receipt: TransactionReceipt; result: unknown }> {
  if (!ctx.walletClient || !ctx.account) throw new Instruct3Error(`${what}: no account to sign with`, { code: 'ENOACCOUNT' })
  try {
    // viem's call types are generic over each ABI; this one helper takes any ABI, hence the casts.
    const { request, result } = await ctx.publicClient.simulateContract({ ...(call as any), account: ctx.account })
    const hash = await ctx.walletClient.writeContract(request as any)
    const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return { receipt, result }
  } catch (err) {
    throw chainError(err, what)
  }
}
