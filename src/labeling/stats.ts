import { sql } from 'kysely'
import type { LabelingContext } from './context.ts'
import type { LabelerQuality } from './quality.ts'

/**
 * "My work" for one labeler: per campaign they took tasks in, their live label and lease counts,
 * and their quality as published at the campaign's latest export (report.ts saveQualitySnapshot).
 * Quality is never recomputed here: gold results stay hidden until export, and a request costs
 * three indexed queries however many campaigns and labels exist (bounded to MAX_STATS_CAMPAIGNS).
 */
export type LabelerCampaignStats = {
  campaign: string
  name: string
  /** Labels submitted (live). */
  labels: number
  /** Unexpired leases held now (live). */
  leased: number
  /** ISO time of the export the quality fields come from; null before the first export. */
  qualityAsOf: string | null
} & Omit<LabelerQuality, 'address' | 'labels' | 'agreementN'> // quality fields as of that export; qualityBps 5000 (the newcomer prior) before it

export const MAX_STATS_CAMPAIGNS = 100

const BEFORE_EXPORT = { accepted: 0, agreement: null, goldAccuracy: null, goldTotal: 0, goldFailures: 0, reviewApproval: null, reviews: 0, spamRate: 0, qualityBps: 5000 }

export async function labelerStats(ctx: LabelingContext, address: string): Promise<LabelerCampaignStats[]> {
  const now = ctx.now()
  const mine = await ctx.db
    .selectFrom('assignments')
    .select([
      'campaign_id',
      sql<number>`sum(case when status = 'submitted' then 1 else 0 end)`.as('labels'),
      sql<number>`sum(case when status = 'leased' and lease_expires_at > ${now} then 1 else 0 end)`.as('leased'),
      (eb) => eb.fn.max('assigned_at').as('last'),
    ])
    .where('labeler', '=', address)
    .groupBy('campaign_id')
    .orderBy('last', 'desc')
    .limit(MAX_STATS_CAMPAIGNS)
    .execute()
  if (!mine.length) return []
  const ids = mine.map((m) => m.campaign_id)
  const names = new Map((await ctx.db.selectFrom('campaigns').select(['id', 'name']).where('id', 'in', ids).execute()).map((c) => [c.id, c.name]))
  const snaps = new Map(
    (await ctx.db.selectFrom('labeler_quality').select(['campaign_id', 'quality', 'exported_at']).where('labeler', '=', address).where('campaign_id', 'in', ids).execute()).map((r) => [r.campaign_id, r]),
  )
  return mine.map((m) => {
    const snap = snaps.get(m.campaign_id)
    const q = snap ? (JSON.parse(snap.quality) as LabelerQuality) : null
    return {
      campaign: m.campaign_id,
      name: names.get(m.campaign_id) ?? m.campaign_id,
      labels: Number(m.labels),
      leased: Number(m.leased),
      ...(q
        ? { accepted: q.accepted, agreement: q.agreement, goldAccuracy: q.goldAccuracy, goldTotal: q.goldTotal, goldFailures: q.goldFailures, reviewApproval: q.reviewApproval, reviews: q.reviews, spamRate: q.spamRate, qualityBps: q.qualityBps }
        : BEFORE_EXPORT),
      qualityAsOf: snap ? new Date(snap.exported_at).toISOString() : null,
    }
  })
}

/**
 * A small TTL cache with single-flight loads and a size bound (oldest entry dropped first), for
 * per-address answers: concurrent requests for one key share one load, and a burst of requests
 * for many keys cannot grow memory past `maxEntries`.
 */
export function createTtlCache<V>(opts: { ttlMs: number; maxEntries: number; now?: () => number }) {
  const now = opts.now ?? Date.now
  const entries = new Map<string, { until: number; value: Promise<V> }>()
  return {
    get(key: string, load: () => Promise<V>): Promise<V> {
      const hit = entries.get(key)
      if (hit && hit.until > now()) return hit.value
      if (hit) entries.delete(key)
      if (entries.size >= opts.maxEntries) entries.delete(entries.keys().next().value!)
      const value = load()
      entries.set(key, { until: now() + opts.ttlMs, value })
      value.catch(() => entries.delete(key)) // a failed load is not cached
      return value
    },
    delete(key: string): void {
      entries.delete(key)
    },
    clear(): void {
      entries.clear()
    },
    get size(): number {
      return entries.size
    },
  }
}
