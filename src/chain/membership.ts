import { getAddress, type Address } from 'viem'
import { createChainContext, type ChainContext } from './context.ts'
import { getPosition } from './campaign.ts'
import type { Deployment } from './deployment.ts'

/**
 * Whether `address` may label on-chain campaign `chainCampaignId`: it joined (staked) and was not
 * slashed. The labeling server takes this as its `membership` option and refuses to lease tasks to
 * anyone else, so no unpaid (unstaked) work reaches an export.
 */
export type MembershipCheck = (chainCampaignId: string, address: string) => Promise<boolean>

/** How long a "yes" is trusted before the chain is asked again (a slash turns it into "no"). */
export const MEMBERSHIP_CACHE_MS = 30_000

/**
 * A MembershipCheck reading LabelingEscrow.getPosition. Positive answers are cached for
 * MEMBERSHIP_CACHE_MS (one RPC call per labeler and campaign per 30 s at most); negative ones are
 * not, so a labeler who just joined can claim at once.
 */
export function createMembershipCheck(where: ChainContext | { deployment: Deployment }, now: () => number = Date.now): MembershipCheck {
  const ctx = 'publicClient' in where ? where : createChainContext({ deployment: where.deployment })
  const yes = new Map<string, number>() // `${campaign}:${address}` -> time of the answer
  return async (chainCampaignId, address) => {
    const who: Address = getAddress(address)
    const key = `${chainCampaignId}:${who}`
    const at = yes.get(key)
    if (at !== undefined && now() - at < MEMBERSHIP_CACHE_MS) return true
    const p = await getPosition(ctx, BigInt(chainCampaignId), who)
    const ok = p.joined && !p.slashed
    if (ok) {
      if (yes.size > 100_000) yes.clear() // bound memory; the next calls re-read the chain
      yes.set(key, now())
    } else yes.delete(key)
    return ok
  }
}
