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
 * Before the export the accepted count is provisional: it is what the export would accept now.
 */
export async function campaignPay(ctx: LabelingContext, campaignId: string, opts: { spam?: SpamThresholds; labeler?: string } = {}): Promise<CampaignPay> {
  const c = await getCampaign(ctx, campaignId)
  const { quality } = await loadCampaignQuality(ctx, campaignId, opts.spam)
  const times = await campaignActiveTime(ctx, campaignId, opts.labeler)
  const reward = units(c.reward_micros)!
  const target = units(c.target_hourly_micros)
  const rows: PayRow[] = []
  for (const t of times.values()) {
    const accepted = quality.labelers.find((l) => l.address === t.address)?.accepted ?? 0
    const perHour = effectivePay(accepted, reward, t.activeMs)
    rows.push({ address: t.address, activeMs: t.activeMs, accepted, earned: accepted * reward, perHour, meetsTarget: target === null || perHour === null ? null : perHour >= target })
  }
  rows.sort((a, b) => (a.address < b.address ? -1 : 1))
  const rates = rows.map((r) => r.perHour).filter((x): x is number => x !== null)
  return { campaign: campaignId, currency: c.currency, rewardPerLabel: reward, targetHourly: target, rows, distribution: payDistribution(rates, target) }
}
