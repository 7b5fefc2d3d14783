import { randomBytes } from 'node:crypto'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import { CATEGORIES, isCategory, PASS_SCORE, publicQuiz, QUIZZES, type Category } from './categories.ts'

/**
 * Qualification for a category through its gold quiz (categories.ts):
 *  - POST /api/qualifications/:category/quiz starts an attempt (questions without answers);
 *  - POST /api/qualifications/:category/answers {attempt, answers} grades it once;
 *  - a failed attempt blocks a new one for QUIZ_COOLDOWN_MS, so the four questions cannot be
 *    brute-forced; an attempt must be answered within QUIZ_TTL_MS.
 * A pass stores level 1 for the category. Tasks of a campaign with a category other than
 * `general` go only to labelers qualified for it (requireQualified, called by claimTasks).
 */
export const QUIZ_COOLDOWN_MS = 60 * 60_000
export const QUIZ_TTL_MS = 30 * 60_000
export const LEVEL_NAMES = ['none', 'qualified', 'expert'] as const

/**
 * Level 2 ("expert") in a category: qualified, and over the category's exported campaigns (quality
 * as published at export, labeler_quality) at least `minAccepted` accepted labels with an
 * accepted-weighted mean quality of at least `minQualityBps`. Computed when read, never stored, so it
 * follows the latest exports (and can be lost again).
 */
export const EXPERT = { minAccepted: 20, minQualityBps: 7500 }

export type Qualification = { category: Category; level: number; levelName: string; score: number; since: number; accepted: number; meanQualityBps: number | null }

/** Level from the quiz pass and the per-campaign export snapshots of one category. */
export function categoryLevel(passed: boolean, snapshots: Array<{ accepted: number; qualityBps: number }>, t = EXPERT): { level: number; accepted: number; meanQualityBps: number | null } {
  const accepted = snapshots.reduce((a, s) => a + s.accepted, 0)
  const meanQualityBps = accepted ? Math.round(snapshots.reduce((a, s) => a + s.accepted * s.qualityBps, 0) / accepted) : null
  const level = !passed ? 0 : accepted >= t.minAccepted && meanQualityBps !== null && meanQualityBps >= t.minQualityBps ? 2 : 1
  return { level, accepted, meanQualityBps }
}

const badCategory = (v: string) => new ApiError(400, `unknown category ${JSON.stringify(v)} (known: ${CATEGORIES.join(', ')})`, { code: 'EBADCATEGORY', details: { field: 'category' } })

function quizCategory(v: string): Exclude<Category, 'general'> {
  if (!isCategory(v)) throw badCategory(v)
  if (v === 'general') throw new ApiError(400, 'general needs no qualification', { code: 'EBADCATEGORY', details: { field: 'category' } })
  return v
}

export async function listQualifications(ctx: LabelingContext, address: string): Promise<Qualification[]> {
  const a = address.toLowerCase()
  const rows = await ctx.db.selectFrom('qualifications').selectAll().where('address', '=', a).orderBy('category').execute()
  if (!rows.length) return []
  const snaps = await ctx.db
    .selectFrom('labeler_quality as q')
    .innerJoin('campaigns as c', 'c.id', 'q.campaign_id')
    .select(['c.category', 'q.quality'])
    .where('q.labeler', '=', a)
    .execute()
  return rows.map((r) => {
    const mine = snaps.filter((s) => s.category === r.category).map((s) => JSON.parse(s.quality) as { accepted: number; qualityBps: number })
    const { level, accepted, meanQualityBps } = categoryLevel(r.level >= 1, mine)
    return { category: r.category as Category, level, levelName: LEVEL_NAMES[level] ?? String(level), score: r.score, since: r.created_at, accepted, meanQualityBps }
  })
}

export async function isQualified(ctx: LabelingContext, address: string, category: string): Promise<boolean> {
  if (category === 'general') return true
  const r = await ctx.db.selectFrom('qualifications').select('level').where('address', '=', address).where('category', '=', category).executeTakeFirst()
  return (r?.level ?? 0) >= 1
}

/** 403 EUNQUALIFIED unless the labeler may work on a campaign of this category. */
export async function requireQualified(ctx: LabelingContext, who: Principal, category: string): Promise<void> {
  if (!(await isQualified(ctx, who.address, category)))
    throw new ApiError(403, `this campaign's tasks are for labelers qualified in ${category}; take its quiz first (POST /api/qualifications/${category}/quiz)`, { code: 'EUNQUALIFIED', details: { field: 'category', category } })
}

export async function startQuiz(ctx: LabelingContext, who: Principal, categoryParam: string) {
  const category = quizCategory(categoryParam)
  if (await isQualified(ctx, who.address, category)) throw new ApiError(409, `you are already qualified in ${category}`, { code: 'EQUALIFIED', details: { field: 'category' } })
  const now = ctx.now()
  const lastFail = await ctx.db
    .selectFrom('quiz_attempts')
    .select('finished_at')
    .where('address', '=', who.address)
    .where('category', '=', category)
    .where('passed', '=', 0)
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (lastFail?.finished_at && now - lastFail.finished_at < QUIZ_COOLDOWN_MS) {
    const retryAt = lastFail.finished_at + QUIZ_COOLDOWN_MS
    throw new ApiError(429, `you can retake the ${category} quiz at ${new Date(retryAt).toISOString()}`, { code: 'EQUIZCOOLDOWN', details: { field: 'category', retryAt } })
  }
  const id = 'q_' + randomBytes(12).toString('hex')
  await ctx.db.insertInto('quiz_attempts').values({ id, address: who.address, category, started_at: now, finished_at: null, score: null, passed: null }).execute()
  return { attempt: id, category, passScore: PASS_SCORE, questions: publicQuiz(category), expiresAt: now + QUIZ_TTL_MS }
}

export async function answerQuiz(ctx: LabelingContext, who: Principal, categoryParam: string, b: Record<string, unknown>) {
  const category = quizCategory(categoryParam)
  const quiz = QUIZZES[category]
  if (typeof b.attempt !== 'string') throw new ApiError(400, 'attempt must be the id from the quiz you started', { details: { field: 'attempt' } })
  if (!Array.isArray(b.answers) || b.answers.length !== quiz.length || b.answers.some((a, i) => !Number.isInteger(a) || a < 0 || a >= quiz[i].options.length))
    throw new ApiError(400, `answers must be ${quiz.length} option indices, one per question`, { details: { field: 'answers' } })
  const answers = b.answers as number[]
  const now = ctx.now()
  const score = answers.filter((a, i) => a === quiz[i].answer).length
  const passed = score >= PASS_SCORE
  return ctx.db.transaction().execute(async (trx) => {
    // Conditional update: an attempt is graded once, by its owner, for its category, before it expires.
    const upd = await trx
      .updateTable('quiz_attempts')
      .set({ finished_at: now, score, passed: passed ? 1 : 0 })
      .where('id', '=', b.attempt as string)
      .where('address', '=', who.address)
      .where('category', '=', category)
      .where('finished_at', 'is', null)
      .where('started_at', '>', now - QUIZ_TTL_MS)
      .executeTakeFirst()
    if (Number(upd.numUpdatedRows) !== 1) throw new ApiError(409, 'no open quiz attempt with this id (answered already, expired, or not yours); start a new one', { code: 'EQUIZATTEMPT', details: { field: 'attempt' } })
    if (passed)
      await trx
        .insertInto('qualifications')
        .values({ address: who.address, category, level: 1, score, created_at: now })
        .onConflict((oc) => oc.columns(['address', 'category']).doNothing())
        .execute()
    return { category, score, of: quiz.length, passed, ...(passed ? {} : { retryAt: now + QUIZ_COOLDOWN_MS }) }
  })
}
