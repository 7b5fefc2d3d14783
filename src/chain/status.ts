import { getAddress, type Address } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { createChainContext, type ChainContext } from './context.ts'
import { campaignCount, getCampaign, getPosition } from './campaign.ts'
import { getBadge, type BadgeInfo } from './badges.ts'
import type { Deployment } from './deployment.ts'

export type LabelerCampaignStatus = {
  campaignId: string
  token: Address
  open: boolean
  stake: string
  claimable: string
  vesting: string
  /** Bonus set aside for the locked vesting, paid with it at unlock if quality holds. */
  bonusReserve: string
  unlockAt: number
  withdrawn: string
  /** withdrawn + claimable + vesting (+ the bonus of matured vesting): everything this campaign has paid or holds for the labeler. */
  earnings: string
  slashed: boolean
}

/** What the web app shows a labeler. Amounts are decimal strings in token base units (JSON-safe). */
export type LabelerOnchainStatus = {
  address: Address
  chainId: number
  totalAccepted: number
  avgQualityBps: number
  settlements: number
  /** Sums per token address. */
  earnings: Record<string, string>
  vestingStake: Record<string, string>
  campaigns: LabelerCampaignStatus[]
  badge: (Omit<BadgeInfo, 'tokenId'> & { tokenId: string }) | null
}

/** Most campaigns scanned for positions (the escrow keeps no per-labeler index; bounded on purpose). */
export const MAX_SCANNED_CAMPAIGNS = 500

/** Earnings, vesting stake and badge of one labeler, read from the chain. */
export async function getLabelerOnchainStatus(address: string, where: ChainContext | { deployment: Deployment }): Promise<LabelerOnchainStatus> {
  const ctx = 'publicClient' in where ? where : createChainContext({ deployment: where.deployment })
  const labeler = getAddress(address)
  const [totalAccepted, avgQualityBps, settlements] = await ctx.publicClient.readContract({
    address: ctx.deployment.escrow,
    abi: labelingEscrowAbi,
    functionName: 'labelerStats',
    args: [labeler],
  })
  const n = await campaignCount(ctx)
  const first = n > BigInt(MAX_SCANNED_CAMPAIGNS) ? n - BigInt(MAX_SCANNED_CAMPAIGNS) + 1n : 1n
  const campaigns: LabelerCampaignStatus[] = []
  const earnings: Record<string, bigint> = {}
  const vesting: Record<string, bigint> = {}
  const now = BigInt(Math.floor(Date.now() / 1000))
  for (let id = first; id <= n; id++) {
    const p = await getPosition(ctx, id, labeler)
    if (!p.joined) continue
    const c = await getCampaign(ctx, id)
    // a bonus reserve is earned once its vesting matures (it is forfeited if quality drops before)
    const earned = p.withdrawn + p.claimable + p.vesting + (p.unlockAt > now ? 0n : p.bonusReserve)
    earnings[c.token] = (earnings[c.token] ?? 0n) + earned
    // Matured vesting is claimable in all but bookkeeping: count only what is still locked.
    const locked = p.unlockAt > now ? p.vesting : 0n
    vesting[c.token] = (vesting[c.token] ?? 0n) + locked
    campaigns.push({
      campaignId: id.toString(),
      token: c.token,
      open: c.open,
      stake: p.stake.toString(),
      // matured vesting and its bonus are withdrawable: count them as claimable
      claimable: (p.claimable + p.vesting - locked + (p.unlockAt > now ? 0n : p.bonusReserve)).toString(),
      vesting: locked.toString(),
      bonusReserve: (p.unlockAt > now ? p.bonusReserve : 0n).toString(),
      unlockAt: Number(p.unlockAt),
      withdrawn: p.withdrawn.toString(),
      earnings: earned.toString(),
      slashed: p.slashed,
    })
  }
  const badge = await getBadge(ctx, labeler)
  const str = (r: Record<string, bigint>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toString()]))
  return {
    address: labeler,
    chainId: ctx.deployment.chainId,
    totalAccepted: Number(totalAccepted),
    avgQualityBps,
    settlements,
    earnings: str(earnings),
    vestingStake: str(vesting),
    campaigns,
    badge: badge ? { ...badge, tokenId: badge.tokenId.toString() } : null,
  }
}
