// The contract calls the app sends, built from the generated ABIs (viem encodes them; nothing is
// hand-encoded). Each returns a TxCall for sendCall, or null when the step is not needed.
import { erc20Abi, type Abi, type Address } from 'viem'
import { labelingEscrowAbi } from '../../../src/chain/generated/LabelingEscrow.ts'
import { testTokenAbi } from '../../../src/chain/generated/TestToken.ts'
import type { ChainInfo } from '../../../src/chain/app-reads.ts'
import type { WalletClients } from './eth.ts'
import type { TxCall } from './tx.ts'

export const escrowCall = (info: ChainInfo, functionName: string, args: readonly unknown[]): TxCall => ({ address: info.escrow, abi: labelingEscrowAbi as Abi, functionName, args })

/** ERC-20 approve of exactly `amount` for the escrow, skipped when the allowance already covers it. */
export function approveIfNeeded(info: ChainInfo, token: Address, amount: bigint) {
  return async (w: WalletClients): Promise<TxCall | null> => {
    if (amount === 0n) return null
    const allowance = await w.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [w.account, info.escrow] })
    return allowance >= amount ? null : { address: token, abi: erc20Abi as Abi, functionName: 'approve', args: [info.escrow, amount] }
  }
}

export const balanceOf = (w: WalletClients, token: Address): Promise<bigint> => w.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [w.account] })

/** Local chains only: the deployment's TestToken mints to anyone (a faucet for demos). */
export const mintTestTokens = (token: Address, to: Address, amount: bigint): TxCall => ({ address: token, abi: testTokenAbi as Abi, functionName: 'mint', args: [to, amount] })
