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
  return { labels, tasks, quality: computeQuality(labels, tasks, spam) }
}
