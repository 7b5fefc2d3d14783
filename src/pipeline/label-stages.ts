/**
 * Label batches as pipeline inputs (config `labels.batches`):
 *  - `labels` takes each batch as an external input (a folder or a CID; the manifest records it by CID
 *    as `labels:<origin>:<campaign>`) and verifies it before anything uses it (src/batch/label-input.ts: signatures, Merkle
 *    root, campaign, and with `labels.deployment` the root settled on chain); one failing batch stops
 *    the run with an error naming the label or root, before any row is written. It outputs the verified
 *    batch folders (`batches`, with index.json), their comparisons and demonstrations with `origin`.
 *  - `reward-labels` trains a reward model from the SFT model on those comparisons (4 in 5 by a hash
 *    of the id; the fifth held out) and reports its held-out accuracy per origin, next to the synthetic
 *    validation comparisons (origin `synthetic`).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { toJsonl } from '../util/jsonl.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { Comparison, Demonstration } from '../data/formats.ts'
import type { PipelineConfig } from './config.ts'
import { out, sha, type StageDef } from './stage.ts'

const limits = { resources: { cpu: '1', memory: '2gb', disk: '4gb' }, timeouts: { executionSeconds: 3600, totalSeconds: 7200 } }

/** The batches' identity for the stage key: a folder by its batch.json's root, a CID as itself. */
function batchKeys(c: PipelineConfig): unknown {
  return c.labels.batches.map((b) => {
    const f = join(b.source, 'batch.json')
    const root = existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { merkleRoot?: string }).merkleRoot : undefined
    return { ...b, ...(root ? { root } : {}) }
  })
}

/** The external-input name of batch `b`: `labels:<origin>:<campaign>` (what lineage walks look for). */
export const batchInputName = (b: { origin: string; campaign: string }): string => `labels:${b.origin}:${b.campaign}`

export const labelsStage: StageDef = {
  name: 'labels',
  inputs: [],
  outputs: ['batches', 'comparisons', 'demonstrations', 'summary'],
  // each batch is an external input (a folder or its CID): recorded by CID in the run manifest
  external: (c) => Object.fromEntries(c.labels.batches.map((b) => [batchInputName(b), b.source])),
  ...limits,
  config: (c) => ({ batches: batchKeys(c), deployment: c.labels.deployment, fraudGoldFailBps: c.labels.fraudGoldFailBps }),
  async run(ctx, dir) {
    const { verifyLabelBatch } = await import('../batch/label-input.ts')
    const cfg = ctx.cfg.labels
    let settled
    if (cfg.deployment) {
      const { readDeployment } = await import('../chain/deployment.ts')
      const { settledRootChecker } = await import('../batch/settled.ts')
      settled = settledRootChecker(readDeployment(cfg.deployment))
    }
    mkdirSync(dir, { recursive: true })
    // verify every batch first: nothing is written for training unless all of them pass
    const verified = []
    for (const [i, b] of cfg.batches.entries()) {
      const folder = ctx.external.get(batchInputName(b))
      if (!folder) throw new Instruct3Error(`label batch ${b.source} was not handed to the stage`, { code: 'ELABELBATCH', details: { field: `labels.batches[${i}].source` } })
      const v = await verifyLabelBatch(folder, { origin: b.origin, campaign: b.campaign, settled, fraudGoldFailBps: cfg.fraudGoldFailBps })
      ctx.log(`labels: batch ${i} (${b.origin}, campaign ${v.campaignId}): ${v.signaturesVerified} signatures verified, root ${v.merkleRoot}${v.settledOnChain ? ' settled on chain' : ''}; ${v.labelsUsed} labels used, ${v.comparisons.length} comparisons`)
      verified.push(v)
    }
    const batchesDir = join(dir, 'batches')
    rmSync(batchesDir, { recursive: true, force: true })
    const index = verified.map((v, i) => {
      cpSync(v.dir, join(batchesDir, String(i)), { recursive: true })
      return { dir: String(i), origin: v.origin, campaign: v.campaignId, chainCampaignId: v.chainCampaignId, merkleRoot: v.merkleRoot, labels: v.labels, signaturesVerified: v.signaturesVerified, labelsUsed: v.labelsUsed, settledOnChain: v.settledOnChain, labelers: v.labelers }
    })
    writeFileAtomicSync(join(batchesDir, 'index.json'), JSON.stringify(index, null, 2) + '\n')
    const comparisons: Comparison[] = verified.flatMap((v) => v.comparisons)
    const demonstrations: Demonstration[] = verified.flatMap((v) => v.demonstrations)
    writeFileAtomicSync(join(dir, 'comparisons.jsonl'), toJsonl(comparisons))
    writeFileAtomicSync(join(dir, 'demonstrations.jsonl'), toJsonl(demonstrations))
    writeFileAtomicSync(join(dir, 'summary.json'), JSON.stringify(index.map(({ dir: _d, ...r }) => r), null, 2) + '\n')
    const labelers = new Set(verified.flatMap((v) => v.labelers.map((l) => l.address)))
    return {
      outputs: { batches: batchesDir, comparisons: join(dir, 'comparisons.jsonl'), demonstrations: join(dir, 'demonstrations.jsonl'), summary: join(dir, 'summary.json') },
      metrics: {
        batches: verified.length,
        labels: verified.reduce((s, v) => s + v.labels, 0),
        signatures_verified: verified.reduce((s, v) => s + v.signaturesVerified, 0),
        labels_used: verified.reduce((s, v) => s + v.labelsUsed, 0),
        comparisons: comparisons.length,
        demonstrations: demonstrations.length,
        labelers: labelers.size,
      },
    }
  },
}

export const rewardLabelsStage: StageDef = {
  name: 'reward-labels',
  inputs: ['fit', 'sft', 'samples', 'labels'],
  outputs: ['model', 'metrics', 'heldout'],
  resources: { cpu: '4', memory: '8gb', disk: '4gb' },
  timeouts: { executionSeconds: 3 * 3600, totalSeconds: 4 * 3600 },
  config: (c) => ({ reward: c.reward, seed: c.seed }),
  async run(ctx, dir) {
    const { trainReward, evaluateReward, defaultRewardConfig } = await import('../train/reward.ts')
    const { rewardConfigFrom } = await import('../train/reward-config.ts')
    const { loadComparisons } = await import('../data/formats.ts')
    mkdirSync(dir, { recursive: true })
    const rows = await loadComparisons(out(ctx, 'labels', 'comparisons'))
    const held = (r: Comparison) => parseInt(sha(r.id ?? JSON.stringify(r)).slice(0, 8), 16) % 5 === 0
    const train = rows.filter((r) => !held(r))
    if (train.length === 0) throw new Instruct3Error('the label batches hold no comparisons to train on', { code: 'ELABELBATCH', details: { file: out(ctx, 'labels', 'comparisons') } })
    const val = ctx.records.has('samples') ? out(ctx, 'samples', 'val') : join(out(ctx, 'fit', 'tasks'), 'val', 'comparisons.jsonl')
    const synthetic = (await loadComparisons(val)).slice(0, 64).map((c) => ({ ...c, origin: c.origin ?? ('synthetic' as const) }))
    writeFileAtomicSync(join(dir, 'comparisons.train.jsonl'), toJsonl(train))
    const heldout = [...rows.filter(held), ...synthetic]
    writeFileAtomicSync(join(dir, 'comparisons.heldout.jsonl'), toJsonl(heldout))
    const { maxComparisons: _n, ...st } = ctx.cfg.reward
    const { loop, ...settings } = { ...defaultRewardConfig, ...rewardConfigFrom(st) }
    const r = await trainReward({
      ...settings,
      base: out(ctx, 'sft', 'model'),
      train: { rows: train, file: join(dir, 'comparisons.train.jsonl') },
      outDir: dir,
      // no validation set here: the held-out batches are scored after training
      loop: { ...loop, evalEvery: 0, seed: ctx.cfg.seed },
      quiet: ctx.quiet,
    })
    const ev = await evaluateReward(r.modelDir, heldout)
    const metrics: Record<string, number> = { train_comparisons: train.length, heldout_accuracy: ev.accuracy }
    for (const o of ev.byOrigin) {
      metrics[`accuracy_${o.origin}`] = o.accuracy
      metrics[`prompts_${o.origin}`] = o.prompts
    }
    return { outputs: { model: r.modelDir, metrics: r.metricsFile, heldout: join(dir, 'comparisons.heldout.jsonl') }, metrics }
  },
}
