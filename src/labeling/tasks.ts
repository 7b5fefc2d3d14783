import { sql } from 'kysely'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import type { TaskKind } from './content.ts'
import { getCampaign } from './campaigns.ts'
import { getGuidelines } from './guidelines.ts'
import { requireQualified } from './qualify.ts'

/** A task as a labeler sees it (never says whether it is gold). */
export type TaskView = {
  taskId: number
  campaign: string
  kind: TaskKind
  prompt: string
  outputs?: string[]
  response?: string
  target?: string
  taskHash: string
  k: number
  leaseExpiresAt: number
  /** The campaign's current guidelines: the label names (and signs) this version. */
  guidelines: { version: number; hash: string }
  category: string
  /** Prompt-writing tasks: plain | few_shot | user_based. */
  style?: string
}

type CampaignFacts = { k: number; category: string; guidelines: { version: number; hash: string } }

function view(t: { id: number; campaign_id: string; kind: string; prompt: string; payload: string; task_hash: string }, c: CampaignFacts, leaseExpiresAt: number): TaskView {
  const p = JSON.parse(t.payload) as { outputs?: string[]; response?: string; target?: string; style?: string }
  const v: TaskView = { taskId: t.id, campaign: t.campaign_id, kind: t.kind as TaskKind, prompt: t.prompt, taskHash: t.task_hash, k: c.k, leaseExpiresAt, guidelines: c.guidelines, category: c.category }
  if (p.style) v.style = p.style
  if (p.outputs) v.outputs = p.outputs
  if (p.response !== undefined) v.response = p.response
  if (p.target !== undefined) v.target = p.target
  return v
}

/**
 * Make sure the labeler holds up to `count` (max 1000) leased tasks of an open campaign and return them.
 *  - Leases the labeler still holds come back first (a reloaded page does not lose work).
 *  - A task has `overlap` slots; a slot is taken by a submitted label or an unexpired lease, so an
 *    expired lease silently returns the slot to the pool.
 *  - Nobody gets the same task twice, and nobody reviews their own work.
 *  - Every `gold_every`-th task a labeler gets is a gold task they have not seen, when one is left.
 *  - Review tasks go only to reviewers.
 *  - A campaign with a category other than `general` serves only labelers qualified in it (403).
 *  - Gold quota: the next task is gold while the labeler's gold tasks that were not skipped or
 *    reported are fewer than floor((assignments + 1) / gold_every); without skips that is every
 *    gold_every-th task, and skipping a gold task does not lower the share of gold (skip.ts).
 */
export async function claimTasks(ctx: LabelingContext, who: Principal, campaignId: string, opts: { count?: number; kinds?: TaskKind[] } = {}): Promise<TaskView[]> {
  const count = Math.max(1, Math.min(1000, Math.floor(opts.count ?? 1)))
  const c = await getCampaign(ctx, campaignId)
  if (c.status !== 'open') throw new ApiError(409, `campaign ${campaignId} is closed`, { code: 'ECLOSED' })
  await requireQualified(ctx, who, c.category)
  const g = await getGuidelines(ctx, campaignId)
  const facts: CampaignFacts = { k: c.k, category: c.category, guidelines: { version: g.version, hash: g.hash } }
  let kinds: TaskKind[] = opts.kinds?.length ? opts.kinds : ['demonstration', 'ranking', 'review', 'prompt']
  if (!who.roles.includes('reviewer')) kinds = kinds.filter((k) => k !== 'review')
  if (!who.roles.includes('labeler') && !who.roles.includes('reviewer')) throw new ApiError(403, 'this needs the labeler role', { code: 'EFORBIDDEN' })
  if (!kinds.length) return [] // e.g. only "review" asked by a non-reviewer (and `IN ()` is not valid SQL everywhere)
  const me = who.address
  return ctx.db.transaction().execute(async (trx) => {
    const now = ctx.now()
    const out: TaskView[] = []
    const held = await trx
      .selectFrom('assignments as a')
      .innerJoin('tasks as t', 't.id', 'a.task_id')
      .select(['t.id', 't.campaign_id', 't.kind', 't.prompt', 't.payload', 't.task_hash', 'a.lease_expires_at'])
      .where('a.campaign_id', '=', campaignId)
      .where('a.labeler', '=', me)
      .where('a.status', '=', 'leased')
      .where('a.lease_expires_at', '>', now)
      .where('t.kind', 'in', kinds)
      .orderBy('a.id')
      .limit(count)
      .execute()
    for (const t of held) out.push(view(t, facts, t.lease_expires_at))
    if (out.length >= count) return out

    const mine = await trx.selectFrom('assignments').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('labeler', '=', me).executeTakeFirst()
    let nAssigned = Number(mine?.n ?? 0)
    const goldKept = await trx
      .selectFrom('assignments as a')
      .innerJoin('tasks as t', 't.id', 'a.task_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('a.campaign_id', '=', campaignId)
      .where('a.labeler', '=', me)
      .where('t.gold', 'is not', null)
      .where('a.status', 'not in', ['skipped', 'reported'])
      .executeTakeFirst()
    let nGold = Number(goldKept?.n ?? 0)
    const want = count - out.length
    const base = () =>
      trx
        .selectFrom('tasks as t')
        .select(['t.id', 't.campaign_id', 't.kind', 't.prompt', 't.payload', 't.task_hash'])
        .where('t.campaign_id', '=', campaignId)
        .where('t.kind', 'in', kinds)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('assignments as a').select('a.id').whereRef('a.task_id', '=', 't.id').where('a.labeler', '=', me))))
        .where((eb) => eb.or([eb('t.target_labeler', 'is', null), eb('t.target_labeler', '<>', me)]))
        .orderBy('t.id')
    const open = await base()
      .where('t.gold', 'is', null)
      .where(
        (eb) =>
          eb.selectFrom('assignments as a')
            .select((e) => e.fn.countAll<number>().as('n'))
            .whereRef('a.task_id', '=', 't.id')
            .where((e) => e.or([e('a.status', '=', 'submitted'), e('a.lease_expires_at', '>', now)])),
        '<',
        sql<number>`t.overlap`,
      )
      .limit(want)
      .execute()
    const gold = kinds.includes('ranking') ? await base().where('t.gold', 'is not', null).limit(want).execute() : []
    const picked: typeof open = []
    for (let i = 0; picked.length < want && (open.length || gold.length); i++) {
      const goldTurn = nGold < Math.floor((nAssigned + 1) / c.gold_every)
      const isGold = goldTurn && gold.length > 0
      const next = isGold ? gold.shift()! : open.length ? open.shift()! : null
      if (!next) break
      picked.push(next)
      nAssigned++
      if (isGold) nGold++
    }
    const leaseUntil = now + c.lease_ms
    for (const t of picked) {
      const r = await trx
        .insertInto('assignments')
        .values({ task_id: t.id, campaign_id: campaignId, labeler: me, status: 'leased', assigned_at: now, lease_expires_at: leaseUntil, submitted_at: null })
        .onConflict((oc) => oc.columns(['task_id', 'labeler']).doNothing())
        .executeTakeFirst()
      if (Number(r.numInsertedOrUpdatedRows ?? 1n) > 0) out.push(view(t, facts, leaseUntil))
    }
    return out
  })
}
