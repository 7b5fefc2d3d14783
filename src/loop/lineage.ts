/**
 * Lineage down to the labelers: from a round or pipeline manifest, every label batch a model was
 * trained on (run-manifest inputs named `labels:<origin>:<campaign>`: a round's, or the pipeline `labels`
 * stage's, whose batches the stages taking `from:labels/...` rest on) is fetched from the store and
 * verified again: every EIP-712 signature, the Merkle root, and, given a deployment, that the escrow
 * settled that root for the batch's campaign. `instruct3 verify <cid>` prints the result.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { PIPELINE_KIND, RUN_KIND, type PipelineManifest, type RunManifest } from '../store/manifest.ts'
import type { ContentStore } from '../store/types.ts'
import type { Deployment } from '../chain/deployment.ts'
import { ROW_ORIGINS, type RowOrigin } from '../data/formats.ts'
import { verifyLabelBatch, type VerifiedLabelBatch } from '../batch/label-input.ts'
import { settledRootChecker } from '../batch/settled.ts'

export type BatchLineage = { cid: string; campaign: string; origin: RowOrigin; merkleRoot: string; labels: number; signaturesVerified: number; labelsUsed: number; labelers: number; settledOnChain: boolean; error?: string }

export type ModelLineage = { stage: string; manifest: string; models: string[]; batches: string[]; labels: number; labelsUsed: number; labelers: number }

export type LabelLineageReport = { ok: boolean; batches: BatchLineage[]; models: ModelLineage[]; signaturesVerified: number; problems: string[] }

/** Parse `labels:<origin>:<campaign>`; undefined for other input names. */
export function parseLabelsInput(name: string): { origin: RowOrigin; campaign: string } | undefined {
  const m = /^labels:([a-z-]+):(.+)$/.exec(name)
  if (!m || !ROW_ORIGINS.includes(m[1] as RowOrigin)) return undefined
  return { origin: m[1] as RowOrigin, campaign: m[2] }
}

/** The run manifests under a pipeline manifest, or a run manifest and its `previous` chain (oldest first). */
async function runManifests(store: Pick<ContentStore, 'getDag'>, root: CID | string): Promise<Array<{ cid: string; m: RunManifest }>> {
  const top = await store.getDag<RunManifest | PipelineManifest>(root, { timeoutMs: 10_000 })
  if (top.kind === PIPELINE_KIND) {
    const out: Array<{ cid: string; m: RunManifest }> = []
    for (const s of top.stages) out.push({ cid: s.toString(), m: await store.getDag<RunManifest>(s, { timeoutMs: 10_000 }) })
    return out
  }
  if (top.kind !== RUN_KIND) return []
  const out = [{ cid: root.toString(), m: top }]
  const seen = new Set([root.toString()])
  let prev = top.previous
  while (prev && !seen.has(prev.toString())) {
    seen.add(prev.toString())
    const m = await store.getDag<RunManifest>(prev, { timeoutMs: 10_000 })
    out.unshift({ cid: prev.toString(), m })
    prev = m.previous
  }
  return out
}

/** Walk from a manifest to its label batches and verify each once (see the module comment). */
export async function verifyLabelLineage(store: Pick<ContentStore, 'getDag' | 'get'>, root: CID | string, opts: { deployment?: Deployment; fraudGoldFailBps?: number } = {}): Promise<LabelLineageReport> {
  const problems: string[] = []
  const batches = new Map<string, BatchLineage & { verified?: VerifiedLabelBatch }>()
  const models: ModelLineage[] = []
  const tmp = mkdtempSync(join(tmpdir(), 'instruct3-lineage-'))
  const checkBatch = async (key: string, dir: string, origin: RowOrigin, campaign: string, where: string) => {
    const b: BatchLineage & { verified?: VerifiedLabelBatch } = { cid: key, campaign, origin, merkleRoot: '', labels: 0, signaturesVerified: 0, labelsUsed: 0, labelers: 0, settledOnChain: false }
    try {
      const v = await verifyLabelBatch(dir, { origin, campaign, ...(opts.deployment ? { settled: settledRootChecker(opts.deployment) } : {}), fraudGoldFailBps: opts.fraudGoldFailBps })
      Object.assign(b, { merkleRoot: v.merkleRoot, labels: v.labels, signaturesVerified: v.signaturesVerified, labelsUsed: v.labelsUsed, labelers: v.labelers.length, settledOnChain: v.settledOnChain, verified: v })
    } catch (err) {
      b.error = (err as Error).message
      problems.push(`${where}: ${b.error}`)
    }
    return b
  }
  try {
    // which stages took the pipeline `labels` stage's outputs (their models rest on its batches)
    const labelsStageBatches = new Map<string, string[]>()
    for (const { cid, m } of await runManifests(store, root)) {
      const used: string[] = []
      if (Object.keys(m.inputs).some((name) => name.startsWith('from:labels/'))) used.push(...(labelsStageBatches.get('labels') ?? []))
      for (const [name, link] of Object.entries(m.inputs)) {
        const li = parseLabelsInput(name)
        if (!li) continue
        const key = link.toString()
        if (!used.includes(key)) used.push(key)
        if (batches.has(key)) continue
        const dir = join(tmp, key)
        try {
          await store.get(link, dir, { timeoutMs: 30_000 })
        } catch (err) {
          problems.push(`${m.stage}: input ${name} (${key}) cannot be fetched: ${(err as Error).message}`)
          continue
        }
        batches.set(key, await checkBatch(key, dir, li.origin, li.campaign, `${m.stage}: input ${name} (${key})`))
      }
      // the pipeline's `labels` stage only verifies: the stages taking `from:labels/...` rest on its batches
      if (m.stage === 'labels') {
        labelsStageBatches.set('labels', used)
        continue
      }
      if (used.length === 0) continue
      const bs = used.map((k) => batches.get(k)).filter((b) => b !== undefined)
      const labelers = new Set(bs.flatMap((b) => b.verified?.labelers.map((l) => l.address) ?? []))
      models.push({
        stage: m.stage,
        manifest: cid,
        models: Object.entries(m.outputs).filter(([k]) => k !== 'batch').map(([k, v]) => `${k} ${v}`),
        batches: used,
        labels: bs.reduce((s, b) => s + b.labels, 0),
        labelsUsed: bs.reduce((s, b) => s + b.labelsUsed, 0),
        labelers: labelers.size,
      })
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const list = [...batches.values()].map(({ verified: _v, ...b }) => b)
  return { ok: problems.length === 0, batches: list, models, signaturesVerified: list.reduce((s, b) => s + b.signaturesVerified, 0), problems }
}
