import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import { getCampaign } from './campaigns.ts'
import type { LabelerQuality } from './quality.ts'

/**
 * Per-campaign leaderboard. A labeler appears by a shortened address (0x1234…abcd) unless they
 * opted in to a display name (POST /api/me/profile). Ranked by labels signed; accepted counts and
 * quality (qualityBps) come only from the snapshot published at the latest export (labeler_quality,
 * report.ts), so the board never leaks live quality signals (e.g. which labels were gold).
 */
export const DISPLAY_NAME = /^[\p{L}\p{N} _.-]{2,32}$/u

export const shortAddress = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`

export type Profile = { displayName: string | null; showOnLeaderboard: boolean }

export async function getProfile(ctx: LabelingContext, address: string): Promise<Profile> {
  const r = await ctx.db.selectFrom('profiles').selectAll().where('address', '=', address).executeTakeFirst()
  return { displayName: r?.display_name ?? null, showOnLeaderboard: r?.show_on_leaderboard === 1 }
}

export async function setProfile(ctx: LabelingContext, who: Principal, b: Record<string, unknown>): Promise<Profile> {
  for (const k of Object.keys(b)) if (k !== 'displayName' && k !== 'showOnLeaderboard') throw new ApiError(400, `unknown field "${k}"`, { details: { field: k } })
  if (typeof b.showOnLeaderboard !== 'boolean') throw new ApiError(400, 'showOnLeaderboard must be true or false', { details: { field: 'showOnLeaderboard' } })
  let name: string | null = null
  if (b.displayName !== undefined && b.displayName !== null && b.displayName !== '') {
    if (typeof b.displayName !== 'string' || !DISPLAY_NAME.test(b.displayName.trim()))
      throw new ApiError(400, 'displayName must be 2..32 letters, digits, spaces, _ . or -', { details: { field: 'displayName' } })
    name = b.displayName.trim()
    // A name that looks like an address would let someone pose as another labeler.
    if (/^0x[0-9a-f]/i.test(name)) throw new ApiError(400, 'displayName must not look like an address', { details: { field: 'displayName' } })
  }
  if (b.showOnLeaderboard && !name) throw new ApiError(400, 'choose a displayName to show on leaderboards', { details: { field: 'displayName' } })
  const row = { address: who.address, display_name: name, show_on_leaderboard: b.showOnLeaderboard ? 1 : 0, updated_at: ctx.now() }
  await ctx.db
    .insertInto('profiles')
    .values(row)
    .onConflict((oc) => oc.column('address').doUpdateSet({ display_name: name, show_on_leaderboard: row.show_on_leaderboard, updated_at: row.updated_at }))
    .execute()
  return { displayName: name, showOnLeaderboard: b.showOnLeaderboard }
}

export type LeaderboardRow = { rank: number; name: string; isDisplayName: boolean; labels: number; accepted?: number; qualityBps?: number; you: boolean }

export async function leaderboard(ctx: LabelingContext, who: Principal, campaignId: string): Promise<{ campaign: string; exported: boolean; rows: LeaderboardRow[] }> {
  await getCampaign(ctx, campaignId)
  const counts = await ctx.db
    .selectFrom('labels')
    .select(['labeler', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('labeler')
    .execute()
  const snap = new Map(
    (await ctx.db.selectFrom('labeler_quality').select(['labeler', 'quality']).where('campaign_id', '=', campaignId).execute()).map((r) => [r.labeler, JSON.parse(r.quality) as LabelerQuality]),
  )
  const exported = snap.size > 0
  const profiles = await ctx.db.selectFrom('profiles').selectAll().where('show_on_leaderboard', '=', 1).execute()
  const names = new Map(profiles.map((p) => [p.address, p.display_name!]))
  const ls = counts.map((r) => ({ address: r.labeler, labels: Number(r.n), q: snap.get(r.labeler) }))
  ls.sort((a, b) => (b.q?.accepted ?? 0) - (a.q?.accepted ?? 0) || b.labels - a.labels || (a.address < b.address ? -1 : 1))
  return {
    campaign: campaignId,
    exported,
    rows: ls.map((l, i) => ({
      rank: i + 1,
      name: names.get(l.address) ?? shortAddress(l.address),
      isDisplayName: names.has(l.address),
      labels: l.labels,
      ...(exported ? { accepted: l.q?.accepted ?? 0, qualityBps: l.q?.qualityBps ?? 5000 } : {}),
      you: l.address === who.address,
    })),
  }
}
