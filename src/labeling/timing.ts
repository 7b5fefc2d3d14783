import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'

/**
 * Time on task and effective pay.
 *
 * Definitions (docs/labeling.md, "Fair pay"):
 *  - The web app sends an activity heartbeat (POST /api/tasks/:id/activity) every HEARTBEAT_MS
 *    while the task is on screen, the tab is visible, and the labeler typed, clicked, scrolled or
 *    moved the pointer since the previous heartbeat. The server stores at most one per MIN_BEAT_MS.
 *  - The events of an assignment are: first view (when the task was first served to the labeler),
 *    its heartbeats, and its end (submission, skip or report).
 *  - Active time = the sum of the gaps between consecutive events that are <= IDLE_GAP_MS. A gap
 *    longer than that means no activity was seen for that long: the whole gap counts as idle.
 *  - Effective pay per hour (per labeler and campaign) = accepted labels x reward per label /
 *    active hours over all of the labeler's finished assignments in the campaign (skipped and
 *    reported ones included: that time was worked too).
 */
export const HEARTBEAT_MS = 15_000
export const IDLE_GAP_MS = 60_000
export const MIN_BEAT_MS = 5_000

/** Active milliseconds between `start` and `end` given heartbeat times (any order; those outside [start, end] are ignored). */
export function activeMs(start: number, beats: readonly number[], end: number, idleGapMs = IDLE_GAP_MS): number {
  if (!(end > start)) return 0
  const ts = [start, ...beats.filter((t) => t > start && t < end).sort((a, b) => a - b), end]
  let sum = 0
  for (let i = 1; i < ts.length; i++) {
    const gap = ts[i] - ts[i - 1]
    if (gap <= idleGapMs) sum += gap
  }
  return sum
}

/** Record a heartbeat for the caller's leased task (ignored when the previous one is under MIN_BEAT_MS old). */
export async function recordActivity(ctx: LabelingContext, who: Principal, taskIdParam: string): Promise<{ recorded: boolean }> {
  const taskId = Number(taskIdParam)
  if (!Number.isSafeInteger(taskId) || taskId <= 0) throw new ApiError(400, 'task id must be a positive integer', { details: { field: 'taskId' } })
  const now = ctx.now()
  const a = await ctx.db.selectFrom('assignments').select(['id', 'status', 'lease_expires_at']).where('task_id', '=', taskId).where('labeler', '=', who.address).executeTakeFirst()
  if (!a || a.status !== 'leased' || a.lease_expires_at <= now) throw new ApiError(409, `task ${taskId} is not leased to you`, { code: 'ENOTLEASED', details: { field: 'taskId' } })
  const last = await ctx.db.selectFrom('activity').select('at').where('assignment_id', '=', a.id).orderBy('at', 'desc').limit(1).executeTakeFirst()
  if (last && now - last.at < (ctx.heartbeat?.minGapMs ?? MIN_BEAT_MS)) return { recorded: false }
  await ctx.db.insertInto('activity').values({ assignment_id: a.id, at: now }).execute()
  return { recorded: true }
}

export type LabelerTime = { address: string; activeMs: number; finished: number }

/** Active time per labeler over their finished assignments in a campaign. */
export async function campaignActiveTime(ctx: LabelingContext, campaignId: string, labeler?: string): Promise<Map<string, LabelerTime>> {
  let q = ctx.db
    .selectFrom('assignments')
    .select(['id', 'labeler', 'assigned_at', 'first_served_at', 'submitted_at', 'released_at'])
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['submitted', 'skipped', 'reported'])
  if (labeler) q = q.where('labeler', '=', labeler)
  const rows = await q.execute()
  const beats = new Map<number, number[]>()
  if (rows.length) {
    let bq = ctx.db.selectFrom('activity as v').innerJoin('assignments as a', 'a.id', 'v.assignment_id').select(['v.assignment_id', 'v.at']).where('a.campaign_id', '=', campaignId)
    if (labeler) bq = bq.where('a.labeler', '=', labeler)
    for (const b of await bq.execute()) (beats.get(b.assignment_id) ?? beats.set(b.assignment_id, []).get(b.assignment_id)!).push(b.at)
  }
  const out = new Map<string, LabelerTime>()
  for (const r of rows) {
    const end = r.submitted_at ?? r.released_at
    if (end === null) continue
    const t = out.get(r.labeler) ?? { address: r.labeler, activeMs: 0, finished: 0 }
    // First view = when the task's content was first sent to this labeler (trust-label's markServed).
    t.activeMs += activeMs(r.first_served_at ?? r.assigned_at, beats.get(r.id) ?? [], end)
    t.finished++
    out.set(r.labeler, t)
  }
  return out
}

/**
 * basis `live`: accepted labels as quality.ts counts them now (the requester's view).
 * basis `export`: accepted as published at the latest export (what a labeler may see).
 * basis `provisional`: not exported yet; counts every submitted label as if accepted (an upper
 * bound), because a live accepted count would tell a labeler which of their labels were gold.
 */
export type PayRow = { address: string; activeMs: number; basis: 'live' | 'export' | 'provisional'; accepted: number; earned: number; perHour: number | null; meetsTarget: boolean | null }

/** Effective pay per hour from accepted labels, reward per label (currency units) and active time; null when no active time was measured. */
export function effectivePay(accepted: number, rewardPerLabel: number, activeMsTotal: number): number | null {
  if (activeMsTotal <= 0) return null
  return (accepted * rewardPerLabel) / (activeMsTotal / 3600_000)
}

/**
 * Distribution summary for the requester: quantiles of the per-labeler rates (linear interpolation
 * between the sorted rates, so p50 is the usual median) and whether the target is met, defined as
 * median >= target (half the labelers or more earn at least the target).
 */
export function payDistribution(rates: number[], target: number | null) {
  const s = [...rates].sort((a, b) => a - b)
  const q = (p: number) => {
    if (!s.length) return null
    const x = p * (s.length - 1)
    const lo = Math.floor(x)
    return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (x - lo) : s[lo]
  }
  const median = q(0.5)
  return {
    labelers: s.length,
    min: s[0] ?? null,
    p25: q(0.25),
    median,
    p75: q(0.75),
    max: s.at(-1) ?? null,
    target,
    atOrAboveTarget: target === null ? null : s.filter((r) => r >= target).length,
    targetMet: target === null || median === null ? null : median >= target,
  }
}
