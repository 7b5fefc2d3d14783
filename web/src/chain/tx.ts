// One contract transaction from the user's wallet, with the states a user sees: checking (chain and
// simulation), waiting for the wallet's signature, pending (hash known), confirmed or reverted. A revert
// is shown as the contract's named error (e.g. "CampaignNotOpen(1)"), decoded by viem from the ABIs;
// a transaction that reverts after being mined is replayed with eth_call to get that error.
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, encodeFunctionData, type Abi, type Address, type Hex, type TransactionReceipt } from 'viem'
import { labelingEscrowAbi } from '../../../src/chain/generated/LabelingEscrow.ts'
import { labelerBadgeAbi } from '../../../src/chain/generated/LabelerBadge.ts'
import { testTokenAbi } from '../../../src/chain/generated/TestToken.ts'
import { ensureChain, hasCode, type WalletClients } from './eth.ts'

export type TxCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }

export type TxStatus = 'waiting' | 'checking' | 'wallet' | 'pending' | 'confirmed' | 'reverted' | 'failed' | 'skipped'
export type TxState = { status: TxStatus; hash?: Hex; error?: string; errorName?: string }

/** Every custom error the app's contracts can revert with (the token's are OpenZeppelin's ERC-20 errors). */
const ERRORS_ABI = [...labelingEscrowAbi, ...labelerBadgeAbi, ...testTokenAbi].filter((x) => x.type === 'error') as Abi

/** A sentence for the errors a user can meet in this app (the name and arguments are shown too). */
const EXPLAIN: Record<string, (args: readonly unknown[]) => string> = {
  CampaignNotOpen: () => 'the campaign is closed',
  CampaignStillOpen: () => 'the stake stays locked while the campaign is open',
  AlreadyJoined: () => 'this wallet has already joined the campaign',
  StakeBelowMinimum: () => 'the stake is below the campaign\'s required stake',
  NotRequester: () => 'only the requester who created the campaign may do this',
  NothingToWithdraw: () => 'there is nothing to withdraw',
  StillLocked: (a) => `the vesting stake is locked until ${new Date(Number(a[0]) * 1000).toLocaleString()}`,
  ZeroAmount: () => 'the amount must be more than zero',
  InvalidBps: () => 'a basis-point value is above 10000',
  ERC20InsufficientBalance: () => 'the wallet does not hold enough tokens',
  ERC20InsufficientAllowance: () => 'the escrow is not approved for this amount',
  EnforcedPause: () => 'the escrow is paused by its owner',
  JoinAfterDeadline: (a) => `the campaign's deadline passed at ${new Date(Number(a[1]) * 1000).toLocaleString()}`,
  SettlementWindowOpen: (a) => `the settlement window is open until ${new Date(Number(a[1]) * 1000).toLocaleString()}`,
  SettlementOver: () => 'the settlement window is over',
  CloseNotAllowed: (a) => `only the requester may close before the deadline (${new Date(Number(a[1]) * 1000).toLocaleString()})`,
  UntrustedOracle: () => 'the escrow owner does not trust this oracle',
  RequesterIsOracle: () => 'a requester cannot settle its own campaign',
  BadDeadline: () => 'the deadline must be in the future and at most 730 days ahead',
  BadSettlementWindow: () => 'the settlement window must be 1 to 30 days',
}

export class TxError extends Error {
  readonly errorName: string | undefined
  constructor(message: string, errorName?: string) {
    super(message)
    this.errorName = errorName
  }
}

const fmtArg = (a: unknown): string => (typeof a === 'bigint' ? a.toString() : typeof a === 'string' ? a : JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))

/** "ErrorName(arg, …): sentence" from a viem error, else its short message. */
export function describeError(err: unknown): { error: string; errorName?: string } {
  const named = (name: string, args: readonly unknown[]) => {
    const why = EXPLAIN[name]?.(args)
    return { error: `${name}(${args.map(fmtArg).join(', ')})${why ? `: ${why}` : ''}`, errorName: name }
  }
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) return named(revert.data.errorName, revert.data.args ?? [])
    // Raw revert data somewhere in the chain (e.g. a wallet's estimateGas error): decode it ourselves.
    const withData = err.walk((e: any) => typeof e?.data === 'string' && /^0x[0-9a-f]{8}/i.test(e.data)) as any
    const data: Hex | undefined = withData?.data ?? (typeof (withData as any)?.data?.data === 'string' ? (withData as any).data.data : undefined)
    if (data) {
      try {
        const d = decodeErrorResult({ abi: ERRORS_ABI, data })
        return named(d.errorName, (d.args ?? []) as readonly unknown[])
      } catch {}
    }
    if (revert instanceof ContractFunctionRevertedError && revert.reason) return { error: revert.reason }
    return { error: err.shortMessage }
  }
  return { error: (err as Error)?.message ?? String(err) }
}

/**
 * Send one call: ensure the wallet is on the deployment's chain, simulate (a revert is reported
 * before the wallet is even asked), ask the wallet to sign and send, wait for the receipt.
 * `on` gets every state. Throws TxError when the call does not end confirmed.
 */
export async function sendCall(w: WalletClients, call: TxCall, on: (s: TxState) => void): Promise<{ hash: Hex; receipt: TransactionReceipt; result: unknown }> {
  const fail = (status: 'reverted' | 'failed', d: { error: string; errorName?: string }, hash?: Hex): never => {
    on({ status, ...d, ...(hash ? { hash } : {}) })
    throw new TxError(d.error, d.errorName)
  }
  on({ status: 'checking' })
  try {
    await ensureChain(w)
  } catch (err) {
    fail('failed', { error: hasCode(err, 4001) ? 'you declined the network switch in your wallet' : `wrong network: ${describeError(err).error}` })
  }
  let request: unknown
  let result: unknown
  try {
    // viem's simulate/write types are generic over each ABI; this runner takes any call, hence the casts.
    ;({ request, result } = await w.publicClient.simulateContract({ ...(call as any), account: w.account }))
  } catch (err) {
    const d = describeError(err)
    fail(d.errorName ? 'reverted' : 'failed', d)
  }
  on({ status: 'wallet' })
  let hash: Hex
  try {
    hash = await w.wallet.writeContract(request as any)
  } catch (err) {
    if (hasCode(err, 4001)) fail('failed', { error: 'you rejected the transaction in your wallet' })
    const d = describeError(err)
    fail(d.errorName ? 'reverted' : 'failed', d)
  }
  on({ status: 'pending', hash: hash! })
  const receipt = await w.publicClient.waitForTransactionReceipt({ hash: hash! })
  if (receipt.status !== 'success') fail('reverted', await replayRevert(w, call, receipt.blockNumber), hash!)
  on({ status: 'confirmed', hash: hash! })
  return { hash: hash!, receipt, result }
}

/** The named error of a mined, reverted call: the same call replayed with eth_call at its block. */
export async function replayRevert(w: Pick<WalletClients, 'publicClient' | 'account'>, call: TxCall, blockNumber: bigint): Promise<{ error: string; errorName?: string }> {
  try {
    await w.publicClient.call({ account: w.account, to: call.address, data: encodeFunctionData(call as any), blockNumber })
  } catch (err) {
    return describeError(err)
  }
  return { error: 'the transaction reverted (the replay did not say why)' }
}
