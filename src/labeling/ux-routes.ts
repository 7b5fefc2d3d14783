import type { Context, Hono } from 'hono'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import { requireRole } from './auth.ts'
import { getCampaign, listCampaigns } from './campaigns.ts'
import { CATEGORIES, CATEGORY_NAMES, QUIZZES, PASS_SCORE } from './categories.ts'
import { checkGuidelinesMarkdown, getGuidelines, publishGuidelines } from './guidelines.ts'
import { answerQuiz, listQualifications, startQuiz } from './qualify.ts'
import { campaignReports, releaseTask, REPORT_REASONS } from './skip.ts'
import { HEARTBEAT_MS, IDLE_GAP_MS, recordActivity } from './timing.ts'
import { campaignPay } from './pay.ts'
import { getProfile, leaderboard, setProfile } from './leaderboard.ts'
import type { SpamThresholds } from './quality.ts'

type Helpers = { who: (c: Context) => Promise<Principal>; body: (c: Context) => Promise<Record<string, unknown>>; spam: SpamThresholds }

/**
 * Routes of issue 20 (guidelines, skip/report, qualification, time on task, pay, leaderboard),
 * kept out of server.ts so that file only gains one line. Registered before the /api 404.
 */
export function registerUxRoutes(app: Hono, ctx: LabelingContext, h: Helpers): void {
  const { who, body, spam } = h

  // Categories, with the caller's qualifications and the quiz size per category.
  app.get('/api/categories', async (c) => {
    const p = await who(c)
    const mine = await listQualifications(ctx, p.address)
    return c.json({
      categories: CATEGORIES.map((id) => {
        const q = mine.find((x) => x.category === id)
        return { id, name: CATEGORY_NAMES[id], quizQuestions: id === 'general' ? 0 : QUIZZES[id].length, passScore: id === 'general' ? 0 : PASS_SCORE, qualified: id === 'general' || !!q, level: q?.level ?? 0, levelName: q?.levelName ?? null }
      }),
      reportReasons: REPORT_REASONS,
      heartbeatMs: ctx.heartbeat?.intervalMs ?? HEARTBEAT_MS,
      idleGapMs: IDLE_GAP_MS,
    })
  })
  app.get('/api/me/qualifications', async (c) => c.json({ qualifications: await listQualifications(ctx, (await who(c)).address) }))
  app.post('/api/qualifications/:category/quiz', async (c) => c.json(await startQuiz(ctx, await who(c), c.req.param('category'))))
  app.post('/api/qualifications/:category/answers', async (c) => {
    const p = await who(c)
    return c.json(await answerQuiz(ctx, p, c.req.param('category'), await body(c)))
  })

  // Guidelines: anyone signed in reads them (current or ?version=N); requesters publish a new version.
  app.get('/api/campaigns/:id/guidelines', async (c) => {
    await who(c)
    const v = c.req.query('version')
    if (v !== undefined && !/^[1-9][0-9]{0,8}$/.test(v)) throw new ApiError(400, 'version must be a positive integer', { details: { field: 'version' } })
    return c.json(await getGuidelines(ctx, (await getCampaign(ctx, c.req.param('id'))).id, v === undefined ? undefined : Number(v)))
  })
  app.post('/api/campaigns/:id/guidelines', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const camp = await getCampaign(ctx, c.req.param('id'))
    const b = await body(c)
    return c.json(await ctx.db.transaction().execute((trx) => publishGuidelines(ctx, p, camp.id, checkGuidelinesMarkdown(b.markdown, 'markdown'), trx)), 201)
  })

  // Skip / report / activity heartbeats on a task leased to the caller.
  app.post('/api/tasks/:taskId/skip', async (c) => {
    const p = await who(c)
    await body(c)
    return c.json(await releaseTask(ctx, p, c.req.param('taskId'), {}))
  })
  app.post('/api/tasks/:taskId/report', async (c) => {
    const p = await who(c)
    const b = await body(c)
    for (const k of Object.keys(b)) if (k !== 'reason' && k !== 'note') throw new ApiError(400, `unknown field "${k}"`, { details: { field: k } })
    return c.json(await releaseTask(ctx, p, c.req.param('taskId'), { report: { reason: b.reason, note: b.note } }))
  })
  app.post('/api/tasks/:taskId/activity', async (c) => c.json(await recordActivity(ctx, await who(c), c.req.param('taskId'))))
  app.get('/api/campaigns/:id/reports', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    return c.json(await campaignReports(ctx, (await getCampaign(ctx, c.req.param('id'))).id))
  })

  // Fair pay: the requester sees every labeler and the distribution; a labeler their own rows.
  app.get('/api/campaigns/:id/pay', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    return c.json(await campaignPay(ctx, c.req.param('id'), { spam }))
  })
  app.get('/api/me/pay', async (c) => {
    const p = await who(c)
    const out = []
    for (const camp of await listCampaigns(ctx)) {
      const r = await campaignPay(ctx, camp.id, { spam, labeler: p.address })
      const mine = r.rows[0]
      if (mine) out.push({ campaign: camp.id, name: camp.name, currency: r.currency, rewardPerLabel: r.rewardPerLabel, targetHourly: r.targetHourly, ...mine })
    }
    return c.json({ campaigns: out })
  })

  // Leaderboard and the profile that opts in to a display name.
  app.get('/api/campaigns/:id/leaderboard', async (c) => c.json(await leaderboard(ctx, await who(c), c.req.param('id'))))
  app.get('/api/me/profile', async (c) => c.json(await getProfile(ctx, (await who(c)).address)))
  app.post('/api/me/profile', async (c) => {
    const p = await who(c)
    return c.json(await setProfile(ctx, p, await body(c)))
  })
}
