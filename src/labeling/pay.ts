import type { LabelingContext } from './context.ts'
import { getCampaign } from './campaigns.ts'
import { loadCampaignQuality } from './report.ts'
import type { SpamThresholds } from './quality.ts'
import { campaignActiveTime, effectivePay, payDistribution, type PayRow } from './timing.ts'

const units = (micros: number | null) => (micros === null ? null : micros / 1e6)

export type CampaignPay = {
  campaign: string
  currency: string
  rewardPerLabel: number
  targetHourly: number | null
  rows: PayRow[]
  distribution: ReturnType<typeof payDistribution>
}

/**
 * Effective pay per hour for every labeler of a campaign (or one labeler), from accepted labels
 * (quality.ts: not flagged, not gold, not rejected in review) and measured active time (timing.ts).
 * The requester sees live accepted counts; a labeler sees the count published at the latest export
 * or, before one, a provisional rate over all their submitted labels (see PayRow's basis).
 */
export async function campaignPay(ctx: LabelingContext, campaignId: string, opts: { spam?: SpamThresholds; labeler?: string } = {}): Promise<CampaignPay> {
  const c = await getCampaign(ctx, campaignId)
  const times = await campaignActiveTime(ctx, campaignId, opts.labeler)
  const reward = units(c.reward_micros)!
  const target = units(c.target_hourly_micros)
  const acceptedOf = opts.labeler ? await publishedAccepted(ctx, campaignId, opts.labeler) : await liveAccepted(ctx, campaignId, opts.spam)
  const rows: PayRow[] = []
  for (const t of times.values()) {
    const { accepted, basis } = acceptedOf(t.address)
    const perHour = effectivePay(accepted, reward, t.activeMs)
    rows.push({ address: t.address, activeMs: t.activeMs, basis, accepted, earned: accepted * reward, perHour, meetsTarget: target === null || perHour === null ? null : perHour >= target })
  }
  rows.sort((a, b) => (a.address < b.address ? -1 : 1))
  const rates = rows.map((r) => r.perHour).filter((x): x is number => x !== null)
  return { campaign: campaignId, currency: c.currency, rewardPerLabel: reward, targetHourly: target, rows, distribution: payDistribution(rates, target) }
}

type AcceptedOf = (address: string) => { accepted: number; basis: PayRow['basis'] }

/** The requester's view: accepted labels as the export would count them now. */
async function liveAccepted(ctx: LabelingContext, campaignId: string, spam?: SpamThresholds): Promise<AcceptedOf> {
  const { quality } = await loadCampaignQuality(ctx, campaignId, spam)
  return (a) => ({ accepted: quality.labelers.find((l) => l.address === a)?.accepted ?? 0, basis: 'live' })
}

/** A labeler's view: accepted as published at the latest export, else every submitted label (provisional). */
async function publishedAccepted(ctx: LabelingContext, campaignId: string, labeler: string): Promise<AcceptedOf> {
  const snap = await ctx.db.selectFrom('labeler_quality').select('quality').where('campaign_id', '=', campaignId).where('labeler', '=', labeler).executeTakeFirst()
  if (snap) {
    const accepted = (JSON.parse(snap.quality) as { accepted: number }).accepted
    return () => ({ accepted, basis: 'export' })
  }
  const n = await ctx.db.selectFrom('labels').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('labeler', '=', labeler).executeTakeFirst()
  return () => ({ accepted: Number(n?.n ?? 0), basis: 'provisional' })
}
