import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'

/**
 * Skip and report: both give a leased task back to the pool (its slot frees at once, the labeler
 * never gets it again: the (task, labeler) assignment stays, with status skipped | reported).
 *
 * - Skips and reports never count against quality (quality.ts only reads labels).
 * - They share a budget of `skips_per_hour` per labeler and campaign over a rolling hour (429
 *   ESKIPLIMIT beyond), so skipping cannot be used to hunt for easy tasks.
 * - Gold tasks: the answer is the same for gold and ordinary tasks, and a skipped or reported gold
 *   task does not count towards the labeler's gold quota (tasks.ts serves the next gold task as
 *   soon as the quota is short), so skipping cannot lower the share of gold a labeler answers.
 * - A report stores a reason (REPORT_REASONS) and an optional note for the requester's dashboard.
 */
export const REPORT_REASONS = ['broken_prompt', 'harmful_content', 'outputs_identical', 'other'] as const
export type ReportReason = (typeof REPORT_REASONS)[number]
const HOUR = 3600_000

export type ReleaseResult = { taskId: number; status: 'skipped' | 'reported'; skipsLeft: number }

export async function releaseTask(ctx: LabelingContext, who: Principal, taskIdParam: string, how: { report?: { reason: unknown; note?: unknown } }): Promise<ReleaseResult> {
  const taskId = Number(taskIdParam)
  if (!Number.isSafeInteger(taskId) || taskId <= 0) throw new ApiError(400, 'task id must be a positive integer', { details: { field: 'taskId' } })
  let reason: ReportReason | null = null
  let note: string | null = null
  if (how.report) {
    if (!(REPORT_REASONS as readonly unknown[]).includes(how.report.reason)) throw new ApiError(400, `reason must be one of ${REPORT_REASONS.join(', ')}`, { details: { field: 'reason' } })
    reason = how.report.reason as ReportReason
    if (how.report.note !== undefined) {
      if (typeof how.report.note !== 'string' || how.report.note.length > 1000) throw new ApiError(400, 'note must be a string of at most 1000 characters', { details: { field: 'note' } })
      note = how.report.note.trim() || null
    }
    if (reason === 'other' && !note) throw new ApiError(400, 'a report with reason "other" needs a note saying what is wrong', { details: { field: 'note' } })
  }
  const status = reason ? 'reported' : 'skipped'
  const now = ctx.now()
  return ctx.db.transaction().execute(async (trx) => {
    const a = await trx
      .selectFrom('assignments as a')
      .innerJoin('campaigns as c', 'c.id', 'a.campaign_id')
      .select(['a.id', 'a.status', 'a.lease_expires_at', 'a.campaign_id', 'c.skips_per_hour'])
      .where('a.task_id', '=', taskId)
      .where('a.labeler', '=', who.address)
      .executeTakeFirst()
    if (!a || a.status !== 'leased' || a.lease_expires_at <= now) throw new ApiError(409, `task ${taskId} is not leased to you (nothing to ${reason ? 'report' : 'skip'})`, { code: 'ENOTLEASED', details: { field: 'taskId' } })
    const used = await trx
      .selectFrom('assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('labeler', '=', who.address)
      .where('campaign_id', '=', a.campaign_id)
      .where('status', 'in', ['skipped', 'reported'])
      .where('released_at', '>', now - HOUR)
      .executeTakeFirst()
    const n = Number(used?.n ?? 0)
    if (n >= a.skips_per_hour)
      throw new ApiError(429, `you skipped or reported ${n} tasks in the last hour (limit ${a.skips_per_hour} in this campaign); label this one or come back later`, { code: 'ESKIPLIMIT', details: { field: 'taskId', limit: a.skips_per_hour } })
    // The lease ends now, so the slot counts as free for everyone else at once.
    await trx.updateTable('assignments').set({ status, released_at: now, lease_expires_at: now }).where('id', '=', a.id).where('status', '=', 'leased').execute()
    if (reason)
      await trx
        .insertInto('reports')
        .values({ campaign_id: a.campaign_id, task_id: taskId, labeler: who.address, reason, note, created_at: now })
        .onConflict((oc) => oc.columns(['task_id', 'labeler']).doNothing())
        .execute()
    return { taskId, status, skipsLeft: a.skips_per_hour - n - 1 }
  })
}

export type ReportSummary = { taskId: number; kind: string; prompt: string; reasons: Partial<Record<ReportReason, number>>; notes: string[]; count: number; lastAt: number }

/** Reports of a campaign grouped by task, most reported first (requester's dashboard). */
export async function campaignReports(ctx: LabelingContext, campaignId: string): Promise<{ total: number; byReason: Partial<Record<ReportReason, number>>; tasks: ReportSummary[] }> {
  const rows = await ctx.db
    .selectFrom('reports as r')
    .innerJoin('tasks as t', 't.id', 'r.task_id')
    .select(['r.task_id', 'r.reason', 'r.note', 'r.created_at', 't.kind', 't.prompt'])
    .where('r.campaign_id', '=', campaignId)
    .orderBy('r.id')
    .execute()
  const byTask = new Map<number, ReportSummary>()
  const byReason: Partial<Record<ReportReason, number>> = {}
  for (const r of rows) {
    const s = byTask.get(r.task_id) ?? { taskId: r.task_id, kind: r.kind, prompt: r.prompt, reasons: {}, notes: [], count: 0, lastAt: 0 }
    const reason = r.reason as ReportReason
    s.reasons[reason] = (s.reasons[reason] ?? 0) + 1
    byReason[reason] = (byReason[reason] ?? 0) + 1
    if (r.note) s.notes.push(r.note)
    s.count++
    s.lastAt = Math.max(s.lastAt, r.created_at)
    byTask.set(r.task_id, s)
  }
  return { total: rows.length, byReason, tasks: [...byTask.values()].sort((a, b) => b.count - a.count || a.taskId - b.taskId) }
}
