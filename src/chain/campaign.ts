import { erc20Abi, parseEventLogs, type Address, type Hex } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { sendTx, type ChainContext } from './context.ts'
import { chainError } from './errors.ts'
import { Instruct3Error } from '../util/errors.ts'

/** LabelingEscrow.CampaignParams (see docs/chain.md for what each does to pay). */
export type CampaignParams = {
  rewardPerLabel: bigint
  requiredStake: bigint
  qualityThresholdBps: number
  immediateBps: number
  bonusBps: number
  fraudGoldFailBps: number
  vestingPeriod: bigint
  /** Unix time after which anyone may close the campaign (at most 730 days ahead). */
  deadline: bigint
  /** Seconds after close during which settle and slash still land (1 to 30 days). */
  settlementWindow: bigint
}

export type CampaignState = {
  id: bigint
  requester: Address
  oracle: Address
  token: Address
  open: boolean
  batches: number
  /** Unix time of close; 0 while open. */
  closedAt: bigint
  params: CampaignParams
  budget: bigint
  committed: bigint
  stakes: bigint
  funded: bigint
  stakedIn: bigint
  paidOut: bigint
  refunded: bigint
  stakeReturned: bigint
  slashed: bigint
}

export type Position = {
  stake: bigint
  claimable: bigint
  vesting: bigint
  unlockAt: bigint
  /** Cumulative accepted labels already paid for; settlement pays only what an export adds. */
  settledAccepted: number
  joined: boolean
  slashed: boolean
  withdrawn: bigint
  /** Bonus set aside for `vesting`, paid at unlock if quality holds. */
  bonusReserve: bigint
}

const escrowOf = (ctx: ChainContext) => ({ address: ctx.deployment.escrow, abi: labelingEscrowAbi })

/** Approve the escrow for `amount` of `token` when the current allowance is short. */
export async function ensureAllowance(ctx: ChainContext, token: Address, amount: bigint): Promise<void> {
  if (amount === 0n) return
  const allowance = await ctx.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [ctx.account!.address, ctx.deployment.escrow] })
  if (allowance >= amount) return
  await sendTx(ctx, 'ERC20.approve', { address: token, abi: erc20Abi, functionName: 'approve', args: [ctx.deployment.escrow, amount] })
}

export async function createCampaign(
  ctx: ChainContext,
  init: { token: Address; oracle: Address; params: CampaignParams; funding: bigint },
): Promise<{ campaignId: bigint; txHash: Hex }> {
  await ensureAllowance(ctx, init.token, init.funding)
  const { receipt, result } = await sendTx(ctx, 'LabelingEscrow.createCampaign', {
    ...escrowOf(ctx),
    functionName: 'createCampaign',
    args: [init.token, init.oracle, init.params, init.funding],
  })
  return { campaignId: result as bigint, txHash: receipt.transactionHash }
}

export async function fundCampaign(ctx: ChainContext, id: bigint, amount: bigint): Promise<Hex> {
  const c = await getCampaign(ctx, id)
  await ensureAllowance(ctx, c.token, amount)
  return (await sendTx(ctx, 'LabelingEscrow.fund', { ...escrowOf(ctx), functionName: 'fund', args: [id, amount] })).receipt.transactionHash
}

export async function joinCampaign(ctx: ChainContext, id: bigint, stake?: bigint): Promise<Hex> {
  const c = await getCampaign(ctx, id)
  const amount = stake ?? c.params.requiredStake
  await ensureAllowance(ctx, c.token, amount)
  return (await sendTx(ctx, 'LabelingEscrow.join', { ...escrowOf(ctx), functionName: 'join', args: [id, amount] })).receipt.transactionHash
}

/**
 * Close the campaign (the requester any time; anyone after the deadline). Returns when its
 * settlement window ends: until then the oracle can still settle and slash; after it stakes
 * unlock and `refundCampaign` returns the unspent budget.
 */
export async function closeCampaign(ctx: ChainContext, id: bigint): Promise<{ settlementEndsAt: bigint; txHash: Hex }> {
  const { receipt } = await sendTx(ctx, 'LabelingEscrow.close', { ...escrowOf(ctx), functionName: 'close', args: [id] })
  const [ev] = parseEventLogs({ abi: labelingEscrowAbi, logs: receipt.logs, eventName: 'CampaignClosed' })
  return { settlementEndsAt: ev?.args.settlementEndsAt ?? 0n, txHash: receipt.transactionHash }
}

/** After the settlement window, send the unspent budget to the requester (anyone may call); returns the amount. */
export async function refundCampaign(ctx: ChainContext, id: bigint): Promise<{ refunded: bigint; txHash: Hex }> {
  const { receipt, result } = await sendTx(ctx, 'LabelingEscrow.refund', { ...escrowOf(ctx), functionName: 'refund', args: [id] })
  return { refunded: result as bigint, txHash: receipt.transactionHash }
}

/** Withdraw claimable pay (and matured vesting stake) of the context's account. */
export async function withdrawPay(ctx: ChainContext, id: bigint): Promise<bigint> {
  return (await sendTx(ctx, 'LabelingEscrow.withdraw', { ...escrowOf(ctx), functionName: 'withdraw', args: [id] })).result as bigint
}

export async function withdrawStake(ctx: ChainContext, id: bigint): Promise<bigint> {
  return (await sendTx(ctx, 'LabelingEscrow.withdrawStake', { ...escrowOf(ctx), functionName: 'withdrawStake', args: [id] })).result as bigint
}

export async function getCampaign(ctx: ChainContext, id: bigint): Promise<CampaignState> {
  try {
    const c = await ctx.publicClient.readContract({ ...escrowOf(ctx), functionName: 'getCampaign', args: [id] })
    return { id, ...c, params: { ...c.params } }
  } catch (err) {
    throw chainError(err, `campaign ${id}`)
  }
}

export async function getPosition(ctx: ChainContext, id: bigint, labeler: Address): Promise<Position> {
  const p = await ctx.publicClient.readContract({ ...escrowOf(ctx), functionName: 'getPosition', args: [id, labeler] })
  return { ...p }
}

export async function campaignCount(ctx: ChainContext): Promise<bigint> {
  return ctx.publicClient.readContract({ ...escrowOf(ctx), functionName: 'campaignCount' })
}

/** Fail early, naming the field, when `amount` is not a sane token amount. */
export function checkAmount(amount: bigint, field: string): bigint {
  if (amount < 0n || amount >= 2n ** 128n) throw new Instruct3Error('amount out of range', { code: 'EAMOUNT', details: { field } })
  return amount
}
