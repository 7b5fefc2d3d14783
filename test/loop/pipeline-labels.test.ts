// Label batches as pipeline inputs, through the stage model: a tiny pipeline (real shared data) whose
// config names a real, settled label export. The `labels` stage verifies it (signatures, root, settled
// on anvil), `reward-labels` trains on it and reports held-out accuracy per origin, and verify walks
// from the pipeline manifest to every signature. A forged batch and an unsettled one stop the run with
// an error naming the label or root, and no reward model is trained on them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeConfig, demoConfig, type PipelineConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { writeDeployment } from '../../src/chain/deployment.ts'
import { devAccount } from '../../src/chain/client.ts'
import { signLabel } from '../../src/labeling/client.ts'
import { createStore } from '../../src/store/index.ts'
import { verifyLabelLineage } from '../../src/loop/lineage.ts'
import { sharedDataDir } from '../../src/util/paths.ts'
import { twoExports, type TwoExports } from './exports.ts'
import { TINY_BASE } from '../pipeline/tiny.ts'

const skip = !existsSync(sharedDataDir()) && 'shared data not found'
let root: string
let t: TwoExports
let deploymentFile: string

before(async () => {
  if (skip) return
  root = mkdtempSync(join(tmpdir(), 'instruct3-pipeline-labels-'))
  t = await twoExports(root)
  deploymentFile = join(root, 'deployment.json')
  writeDeployment(t.d, deploymentFile)
})

after(async () => {
  await t?.close()
  if (root) rmSync(root, { recursive: true, force: true })
})

function config(name: string, batches: PipelineConfig['labels']['batches']): PipelineConfig {
  return mergeConfig(demoConfig(), {
    name,
    // one work folder: the base stages run once and are skipped by the later runs
    workDir: join(root, 'run'),
    store: { kind: 'helia', dir: join(root, 'ipfs') },
    ...TINY_BASE,
    samples: { enabled: false },
    reward: { maxComparisons: 12, batchSize: 4 },
    hh: { enabled: false },
    labels: { batches, deployment: deploymentFile },
  })
}

test('a settled batch trains reward-labels; accuracy per origin; verify reaches every signature', { timeout: 900_000, skip }, async () => {
  const cfg = config('labels-ok', [{ source: t.A.dir, origin: 'simulated-labeler', campaign: t.A.campaign }])
  const r = await runPipeline(cfg, { quiet: true, until: 'reward-labels' })
  const labels = r.stages.find((s) => s.stage === 'labels')!
  const labelCount = readFileSync(join(t.A.dir, 'labels.jsonl'), 'utf8').trim().split('\n').length
  assert.equal(labels.metrics.signatures_verified, labelCount)
  assert.ok(labels.metrics.comparisons > 0)
  const rows = readFileSync(join(cfg.workDir, 'labels', 'comparisons.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.ok(rows.every((c: { origin: string }) => c.origin === 'simulated-labeler'))
  const rm = r.stages.find((s) => s.stage === 'reward-labels')!
  assert.ok(rm.metrics.train_comparisons > 0)
  assert.ok(Number.isFinite(rm.metrics.accuracy_synthetic), JSON.stringify(rm.metrics))
  const report = readFileSync(r.reportFile, 'utf8')
  assert.match(report, /## Reward model on label batches/)
  assert.match(report, /\| synthetic \| [0-9.]+ \| \d+ \|/)

  const store = await createStore({ kind: 'helia', dir: join(root, 'ipfs') })
  try {
    const lin = await verifyLabelLineage(store, r.manifest!, { deployment: t.d })
    assert.equal(lin.ok, true, lin.problems.join('; '))
    assert.equal(lin.signaturesVerified, labelCount, JSON.stringify(lin.batches.map((b) => [b.cid, b.labels])))
    assert.equal(lin.batches[0].settledOnChain, true)
    const m = lin.models.find((x) => x.stage === 'reward-labels')!
    assert.equal(m.labels, labelCount)
    assert.equal(m.labelers, 5)
  } finally {
    await store.close()
  }
})

test('a forged signature stops the run naming the label; nothing is trained on it', { timeout: 900_000, skip }, async () => {
  const forged = join(root, 'forged')
  cpSync(t.A.dir, forged, { recursive: true })
  const lines = readFileSync(join(forged, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  lines[3].signature = (await signLabel(devAccount(9), 31337, lines[3].content)).signature
  writeFileSync(join(forged, 'labels.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
  const cfg = config('labels-forged', [{ source: forged, origin: 'human', campaign: t.A.campaign }])
  rmSync(join(cfg.workDir, 'reward-labels'), { recursive: true, force: true })
  await assert.rejects(runPipeline(cfg, { quiet: true, until: 'reward-labels' }), (e: Error) => e.message.includes(`signature of label ${lines[3].labelHash} does not recover its labeler`))
  assert.equal(existsSync(join(cfg.workDir, 'reward-labels', 'stage.json')), false, 'no reward model on a forged batch')
  assert.equal(existsSync(join(cfg.workDir, 'reward-labels', 'model')), false)
})

test('a batch not settled on chain stops the run naming its root', { timeout: 900_000, skip }, async () => {
  const cfg = config('labels-unsettled', [{ source: t.B.dir, origin: 'simulated-labeler', campaign: t.B.campaign }])
  rmSync(join(cfg.workDir, 'reward-labels'), { recursive: true, force: true })
  const rootHex = JSON.parse(readFileSync(join(t.B.dir, 'batch.json'), 'utf8')).merkleRoot
  await assert.rejects(runPipeline(cfg, { quiet: true, until: 'reward-labels' }), (e: Error) => e.message.includes(`Merkle root ${rootHex} was not settled by the escrow for on-chain campaign ${t.B.chainId}`))
  assert.equal(existsSync(join(cfg.workDir, 'reward-labels', 'stage.json')), false)
})
