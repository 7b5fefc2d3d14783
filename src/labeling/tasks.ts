import { randomInt } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import type { TaskKind } from './content.ts'
import { getCampaign } from './campaigns.ts'
import { getGuidelines } from './guidelines.ts'
import { requireQualified } from './qualify.ts'
import type { Database } from './db/schema.ts'

/** Default cap on the unexpired leases one wallet holds across all campaigns (LabelingContext.maxLeasesPerWallet). */
export const DEFAULT_MAX_LEASES = 20

/**
 * Record that these tasks' content was just sent to `labeler`: sets assignments.first_served_at once
 * (later calls leave it alone). Speed checks (quality.ts too_fast) and time on task count from here.
 */
export async function markServed(db: Kysely<Database> | Transaction<Database>, labeler: string, taskIds: number[], now: number): Promise<void> {
  if (!taskIds.length) return
  await db.updateTable('assignments').set({ first_served_at: now }).where('labeler', '=', labeler).where('task_id', 'in', taskIds).where('first_served_at', 'is', null).execute()
}

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
  /** Review tasks of a written prompt: "prompt" (else the reviewed label is a demonstration). */
  reviewOf?: string
}

type CampaignFacts = { k: number; category: string; guidelines: { version: number; hash: string } }

function view(t: { id: number; campaign_id: string; kind: string; prompt: string; payload: string; task_hash: string }, c: CampaignFacts, leaseExpiresAt: number): TaskView {
  const p = JSON.parse(t.payload) as { outputs?: string[]; response?: string; target?: string; style?: string; of?: string }
  const v: TaskView = { taskId: t.id, campaign: t.campaign_id, kind: t.kind as TaskKind, prompt: t.prompt, taskHash: t.task_hash, k: c.k, leaseExpiresAt, guidelines: c.guidelines, category: c.category }
  if (p.style) v.style = p.style
  if (p.of) v.reviewOf = p.of
  if (p.outputs) v.outputs = p.outputs
  if (p.response !== undefined) v.response = p.response
  if (p.target !== undefined) v.target = p.target
  return v
}

/**
 * Make sure the labeler holds up to `count` leased tasks of an open campaign and return them.
 *  - Leases the labeler still holds come back first (a reloaded page does not lose work).
 *  - One wallet holds at most ctx.maxLeasesPerWallet unexpired leases over all campaigns, so a few
 *    wallets cannot hoard a campaign's tasks or choose which ones others get.
 *  - A task has `overlap` slots; a slot is taken by a submitted label or an unexpired lease, so an
 *    expired lease silently returns the slot to the pool.
 *  - Nobody gets the same task twice, and nobody reviews their own work.
 *  - Each new task is a gold task (one the labeler has not seen) with probability 1/gold_every,
 *    drawn with a CSPRNG: gold positions cannot be predicted from the claim count.
 *  - Review tasks go only to reviewers.
 *  - A campaign with a category other than `general` serves only labelers qualified in it (403).
 *  - Skipping cannot dodge gold: while the labeler has skipped or reported more gold tasks than
 *    they have been given as make-up (assignments.gold_makeup), the next new task is gold when one
 *    is left, so skips never lower the share of gold a labeler answers (skip.ts).
 *  - Every returned task is marked served (markServed) the first time its content goes out.
 */
export async function claimTasks(ctx: LabelingContext, who: Principal, campaignId: string, opts: { count?: number; kinds?: TaskKind[] } = {}): Promise<TaskView[]> {
  const maxLeases = ctx.maxLeasesPerWallet ?? DEFAULT_MAX_LEASES
  const count = Math.max(1, Math.min(maxLeases, Math.floor(opts.count ?? 1) || 1))
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
    if (out.length >= count) {
      await markServed(trx, me, out.map((t) => t.taskId), now)
      return out
    }

    const active = await trx
      .selectFrom('assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('labeler', '=', me)
      .where('status', '=', 'leased')
      .where('lease_expires_at', '>', now)
      .executeTakeFirst()
    const want = Math.min(count - out.length, maxLeases - Number(active?.n ?? 0))
    if (want <= 0) {
      await markServed(trx, me, out.map((t) => t.taskId), now)
      return out
    }
    // Gold owed for skips: gold tasks skipped or reported minus make-up gold tasks already given.
    const owed = await trx
      .selectFrom('assignments as a')
      .innerJoin('tasks as t', 't.id', 'a.task_id')
      .select([
        (eb) => eb.fn.sum<number>(eb.case().when('a.status', 'in', ['skipped', 'reported']).then(1).else(0).end()).as('skipped'),
        (eb) => eb.fn.sum<number>('a.gold_makeup').as('madeUp'),
      ])
      .where('a.campaign_id', '=', campaignId)
      .where('a.labeler', '=', me)
      .where('t.gold', 'is not', null)
      .executeTakeFirst()
    let goldDebt = Number(owed?.skipped ?? 0) - Number(owed?.madeUp ?? 0)
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
    const rand = ctx.randomInt ?? randomInt
    const picked: typeof open = []
    const makeup = new Set<number>()
    // Gold only goes out mixed with normal tasks: once none are left, a task that still came would be gold.
    while (picked.length < want && open.length) {
      const owedTurn = goldDebt > 0 && gold.length > 0
      const goldTurn = owedTurn || (gold.length > 0 && rand(c.gold_every) === 0)
      const next = goldTurn ? gold.splice(rand(gold.length), 1)[0] : open.shift()!
      if (owedTurn) {
        makeup.add(next.id)
        goldDebt--
      }
      picked.push(next)
    }
    const leaseUntil = now + c.lease_ms
    for (const t of picked) {
      const r = await trx
        .insertInto('assignments')
        .values({ task_id: t.id, campaign_id: campaignId, labeler: me, status: 'leased', assigned_at: now, lease_expires_at: leaseUntil, submitted_at: null, first_served_at: null, gold_makeup: makeup.has(t.id) ? 1 : 0 })
        .onConflict((oc) => oc.columns(['task_id', 'labeler']).doNothing())
        .executeTakeFirst()
      if (Number(r.numInsertedOrUpdatedRows ?? 1n) > 0) out.push(view(t, facts, leaseUntil))
    }
    await markServed(trx, me, out.map((t) => t.taskId), now)
    return out
  })
}
