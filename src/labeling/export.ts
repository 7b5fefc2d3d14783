import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { getAddress } from 'viem'
import { writeDirAtomic } from '../util/atomic.ts'
import { toJsonl } from '../util/jsonl.ts'
import type { LabelingContext } from './context.ts'
import { getCampaign } from './campaigns.ts'
import { loadCampaignQuality } from './report.ts'
import { BATCH_VERSION, buildMerkleTree, type BatchManifest } from '../batch/index.ts'
import { mergeRankings, type SpamThresholds } from './quality.ts'
import { labelDomain, LABEL_TYPES } from './signature.ts'
import { FLAGS } from './content.ts'

export type { BatchManifest } from '../batch/index.ts'

export type ExportResult = { dir: string; files: string[]; manifest: BatchManifest; counts: { demonstrations: number; comparisons: number; labels: number; prompts: number } }

/**
 * Write a campaign's datasets and batch manifest to `outDir` (replaced atomically):
 *  demonstrations.jsonl  accepted demonstrations: {id, prompt, response, labeler, signature}
 *  comparisons.jsonl     per ranking task, the Copeland merge of its accepted rankings:
 *                        {id, prompt, responses, ranking, likert? (median per output), flags? (majority)}
 *  prompts.jsonl         accepted labeler-written prompts: {id, prompt, task: style, category, labeler, signature}
 *                        (the pipeline's prompts format, and what `promptsPath` / `promptsFrom` of a new campaign take)
 *  labels.jsonl          every signed label: content, labeler, EIP-712 signature, labelHash, accepted, spam
 *  batch.json            the batch manifest (schema in src/batch/manifest.ts): Merkle root over all
 *                        label hashes (in label id order), per-label proofs, and each labeler's
 *                        CUMULATIVE accepted count and quality. Every export covers the whole
 *                        campaign; the escrow pays only what a labeler's count grew since it last
 *                        settled, so settling successive exports pays each label once.
 * `addToStore` (optional) adds the three dataset files' directory to the content store; its CID
 * goes into batch.json as datasetCid.
 */
export async function exportCampaign(ctx: LabelingContext, campaignId: string, outDir: string, opts: { addToStore?: (dir: string) => Promise<string>; spam?: SpamThresholds } = {}): Promise<ExportResult> {
  const c = await getCampaign(ctx, campaignId)
  const { labels, tasks, quality } = await loadCampaignQuality(ctx, campaignId, opts.spam)
  const demos: unknown[] = []
  const comps: unknown[] = []
  const prompts: unknown[] = []
  const rankingByTask = new Map<number, typeof labels>()
  for (const l of labels) {
    if (!quality.accepted.has(l.id)) continue
    if (l.kind === 'demonstration') demos.push({ id: l.labelHash, prompt: tasks.get(l.taskId)!.prompt, response: l.content.response, labeler: l.labeler, signature: l.signature })
    if (l.kind === 'prompt') {
      const p = tasks.get(l.taskId)!.payload as { style?: string; category?: string }
      prompts.push({ id: l.labelHash, prompt: l.content.prompt, task: p.style, category: p.category, labeler: l.labeler, signature: l.signature })
    }
    if (l.kind === 'ranking') (rankingByTask.get(l.taskId) ?? rankingByTask.set(l.taskId, []).get(l.taskId)!).push(l)
  }
  for (const [taskId, ls] of [...rankingByTask].sort((a, b) => a[0] - b[0])) {
    const t = tasks.get(taskId)!
    const outputs = t.payload.outputs as string[]
    const row: Record<string, unknown> = { id: `${campaignId}/${taskId}`, prompt: t.prompt, responses: outputs, ranking: mergeRankings(ls.map((l) => l.content.ranking!), c.k) }
    if (ls.every((l) => l.content.likert)) row.likert = outputs.map((_, i) => median(ls.map((l) => l.content.likert![i])))
    const flags: Record<string, boolean> = {}
    for (const f of FLAGS) {
      const n = ls.filter((l) => (l.content.flags?.[f]?.length ?? 0) > 0).length
      if (n * 2 > ls.length) flags[f] = true
    }
    if (Object.keys(flags).length) row.flags = flags
    comps.push(row)
  }
  const tree = buildMerkleTree(labels.map((l) => l.labelHash))
  const labelRows = labels.map((l) => ({
    id: l.id,
    labelHash: l.labelHash,
    labeler: l.labeler,
    kind: l.kind,
    campaign: l.campaign,
    taskId: l.taskId,
    content: l.content,
    signature: l.signature,
    chainId: ctx.chainId,
    accepted: quality.accepted.has(l.id),
    spam: quality.spam.get(l.id) ?? [],
    createdAt: new Date(l.createdAt).toISOString(),
  }))
  let manifest!: BatchManifest
  const files = ['demonstrations.jsonl', 'comparisons.jsonl', 'prompts.jsonl', 'labels.jsonl', 'batch.json']
  await writeDirAtomic(outDir, async (tmp) => {
    await writeFile(join(tmp, 'demonstrations.jsonl'), toJsonl(demos))
    await writeFile(join(tmp, 'comparisons.jsonl'), toJsonl(comps))
    await writeFile(join(tmp, 'prompts.jsonl'), toJsonl(prompts))
    await writeFile(join(tmp, 'labels.jsonl'), toJsonl(labelRows))
    const datasetCid = opts.addToStore ? await opts.addToStore(tmp) : null
    manifest = {
      version: BATCH_VERSION,
      campaignId,
      chainCampaignId: c.chain_campaign_id,
      createdAt: new Date(ctx.now()).toISOString(),
      merkleRoot: tree.root,
      labelCount: labels.length,
      labels: labels.map((l, i) => ({ labelHash: l.labelHash, labeler: getAddress(l.labeler), kind: l.kind, proof: tree.proofs[i], accepted: quality.accepted.has(l.id) })),
      labelers: quality.labelers.map((q) => ({ address: getAddress(q.address), accepted: q.accepted, qualityBps: q.qualityBps, goldFailures: q.goldFailures, goldTotal: q.goldTotal })),
      datasetCid,
      eip712: { domain: labelDomain(ctx.chainId), types: LABEL_TYPES, primaryType: 'Label' },
    }
    await writeFile(join(tmp, 'batch.json'), JSON.stringify(manifest, null, 2) + '\n')
  })
  return { dir: outDir, files: files.map((f) => join(outDir, f)), manifest, counts: { demonstrations: demos.length, comparisons: comps.length, labels: labels.length, prompts: prompts.length } }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2)
}
