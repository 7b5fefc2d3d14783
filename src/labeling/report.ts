import type { LabelingContext } from './context.ts'
import { listLabels, type StoredLabel } from './labels.ts'
import { computeQuality, DEFAULT_SPAM, type QualityReport, type QualityTask, type SpamThresholds } from './quality.ts'
import { getCampaign } from './campaigns.ts'

export type CampaignData = { labels: StoredLabel[]; tasks: Map<number, QualityTask & { payload: Record<string, unknown> }>; quality: QualityReport }

/** Load a campaign's labels and tasks and compute its quality report. */
export async function loadCampaignQuality(ctx: LabelingContext, campaignId: string, spam: SpamThresholds = DEFAULT_SPAM): Promise<CampaignData> {
  const c = await getCampaign(ctx, campaignId)
  const labels = await listLabels(ctx, campaignId)
  const rows = await ctx.db.selectFrom('tasks').select(['id', 'kind', 'prompt', 'gold', 'payload']).where('campaign_id', '=', campaignId).execute()
  const tasks = new Map<number, QualityTask & { payload: Record<string, unknown> }>()
  for (const r of rows) tasks.set(r.id, { id: r.id, kind: r.kind, prompt: r.prompt, gold: r.gold ? JSON.parse(r.gold) : null, k: c.k, payload: JSON.parse(r.payload) })
  return { labels, tasks, quality: computeQuality(labels, tasks, spam, await missedGold(ctx, campaignId)) }
}

/** Per labeler: gold tasks of the campaign they leased and let expire without a label. */
async function missedGold(ctx: LabelingContext, campaignId: string): Promise<Map<string, number>> {
  const rows = await ctx.db
    .selectFrom('assignments as a')
    .innerJoin('tasks as t', 't.id', 'a.task_id')
    .select(['a.labeler', (eb) => eb.fn.countAll<number>().as('n')])
    .where('a.campaign_id', '=', campaignId)
    .where('a.status', '=', 'leased')
    .where('a.lease_expires_at', '<=', ctx.now())
    .where('t.gold', 'is not', null)
    .groupBy('a.labeler')
    .execute()
  return new Map(rows.map((r) => [r.labeler, Number(r.n)]))
}

/**
 * Publish the campaign's per-labeler quality as of now (called at export). /api/me/stats shows
 * labelers only this snapshot, so gold results never show up right after a submission.
 */
export async function saveQualitySnapshot(ctx: LabelingContext, campaignId: string, quality: QualityReport): Promise<void> {
  const at = ctx.now()
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('labeler_quality').where('campaign_id', '=', campaignId).execute()
    for (let i = 0; i < quality.labelers.length; i += 200)
      await trx
        .insertInto('labeler_quality')
        .values(quality.labelers.slice(i, i + 200).map((q) => ({ campaign_id: campaignId, labeler: q.address, quality: JSON.stringify(q), exported_at: at })))
        .execute()
  })
}
