// The whole pipeline at a tiny size on the real shared data: every stage runs, the report has its
// plots, a second run skips every stage, and the pipeline manifest verifies in the store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeConfig, demoConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { createStore } from '../../src/store/index.ts'
import { verifyManifest } from '../../src/store/verify.ts'
import { reproduceStage } from '../../src/pipeline/reproduce.ts'
import { sharedDataDir } from '../../src/util/paths.ts'
import { TINY_BASE } from './tiny.ts'

test('tiny pipeline end to end: stages, report, skip on rerun, verified lineage', { timeout: 600_000, skip: !existsSync(sharedDataDir()) && !process.env.CI && 'shared data not found' }, async () => {
  // under CI the shared data must be there: a missing folder fails the test instead of skipping it
  assert.ok(existsSync(sharedDataDir()), `shared data not found at ${sharedDataDir()}`)
  const root = mkdtempSync(join(tmpdir(), 'instruct3-e2e-'))
  try {
    const cfg = mergeConfig(demoConfig(), {
      name: 'e2e',
      workDir: join(root, 'run'),
      store: { kind: 'helia', dir: join(root, 'ipfs') },
      ...TINY_BASE,
      reward: { maxComparisons: 12, batchSize: 4 },
      hh: { enabled: false },
      // ptxCoef 1: the demo has no pretraining mix; the mix's input by CID is part of what this checks
      ppo: { iterations: 1, rolloutBatch: 4, miniBatch: 4, ppoEpochs: 1, maxNewTokens: 6, maxPrompts: 16, ptxCoef: 1 },
      dpo: { steps: 2, maxComparisons: 12, batchPairs: 2 },
      eval: { maxPrompts: 4, maxNewTokens: 4, swcChoice: true },
    })
    const r1 = await runPipeline(cfg, { quiet: true })
    const names = r1.stages.map((s) => s.stage)
    assert.deepEqual(names, ['data', 'pretrain', 'fit', 'sft', 'samples', 'reward', 'judge', 'ppo', 'dpo', 'eval'])
    // fit shortened over-long prompts (keeping their instruction) instead of letting stages cut their start
    const fit = r1.stages.find((s) => s.stage === 'fit')!
    assert.ok(fit.metrics.shortened > 0, JSON.stringify(fit.metrics))
    const counts = JSON.parse(readFileSync(join(cfg.workDir, 'fit', 'fit.json'), 'utf8'))
    assert.equal(counts['train/demonstrations.jsonl'].dropped, 0)
    const fitted = readFileSync(join(cfg.workDir, 'fit', 'tasks', 'train', 'demonstrations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.ok(fitted.some((d: { prompt: string }) => d.prompt.endsWith('…')))
    for (const s of r1.stages) assert.ok(s.manifest, `${s.stage} has a run manifest`)
    const report = readFileSync(r1.reportFile, 'utf8')
    assert.match(report, /\| ppo \|/)
    assert.match(report, /win rate vs SFT/)
    const pngs = readdirSync(join(cfg.workDir, 'report')).filter((f) => f.endsWith('.png'))
    for (const p of ['pretrain_loss.png', 'sft_loss.png', 'reward_accuracy.png', 'ppo_reward.png', 'ppo_kl.png', 'judge_reward.png', 'win_rate.png'])
      assert.ok(pngs.includes(p), `${p} written`)
    // the reward model and the judge learn from their capped comparisons *and* every row ranking those comparisons' SFT samples
    const jsonl = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string })
    const sampled = jsonl(join(cfg.workDir, 'samples', 'comparisons.train.jsonl'))
    for (const which of ['reward', 'judge']) {
      const seen = jsonl(join(cfg.workDir, which, 'comparisons.train.jsonl'))
      const main = seen.filter((r) => !r.id.endsWith('#sft-ranking'))
      assert.equal(main.length, 12, `${which}: capped at maxComparisons`)
      const want = sampled.filter((r) => r.id.endsWith('#sft-ranking') && main.some((m) => m.id + '#sft-ranking' === r.id)).length
      assert.ok(want > 0, 'some ranking rows to check')
      assert.equal(seen.length - main.length, want, `${which}: every ranking row of its comparisons`)
    }
    const ev = JSON.parse(readFileSync(join(cfg.workDir, 'eval', 'eval.json'), 'utf8'))
    assert.deepEqual(ev.policies.map((p: { name: string }) => p.name).sort(), ['base', 'dpo', 'ppo', 'sft'])
    // reward-model accuracy is broken down by the kind of pair (from the comparisons' origins)
    const kinds = ev.rewardModels[0].byKind.map((k: { kind: string }) => k.kind)
    assert.ok(['reference > shuffled', 'reference > other-item', 'reference > sft-sample'].every((k) => kinds.includes(k)), kinds.join(', '))
    assert.match(report, /accuracy by kind of pair/)
    // ... and by task, each task's prompts counted once and its kinds within it
    const byTask = ev.rewardModels[0].byTask as Array<{ task: string; prompts: number; byKind: unknown[] }>
    assert.ok(byTask.length >= 2 && byTask.every((t) => t.prompts > 0 && t.byKind.length > 0), JSON.stringify(byTask))
    assert.match(report, /accuracy by task/)
    // closed-set SWC naming by the most likely label, for every policy
    for (const p of ev.policies) assert.ok(p.swcChoiceAccuracy >= 0 && p.swcChoiceAccuracy <= 1, `${p.name} swcChoiceAccuracy ${p.swcChoiceAccuracy}`)

    // a second run finds every stage up to date
    const t0 = performance.now()
    const r2 = await runPipeline(cfg, { quiet: true })
    assert.deepEqual(r2.stages.map((s) => s.key), r1.stages.map((s) => s.key))
    assert.ok(performance.now() - t0 < 30_000, 'rerun skips the stages')
    assert.deepEqual(r2.stages.map((s) => s.manifest), r1.stages.map((s) => s.manifest), 'skipped stages keep their run manifests')

    const store = await createStore({ kind: 'helia', dir: join(root, 'ipfs') })
    try {
      const v = await verifyManifest(store, r1.manifest!)
      assert.equal(v.ok, true, v.problems.join('; '))
      // re-running SFT from its manifest (inputs fetched by CID) gives bitwise-identical outputs
      const rep = await reproduceStage(store, r1.manifest!, { stage: 'sft', quiet: true })
      assert.deepEqual(rep.outputs.map((o) => o.name).sort(), ['metrics', 'model'])
      assert.equal(rep.identical, true, JSON.stringify(rep.outputs))
      // PPO too: its inputs (with the pretraining tokens for the ptx mix) all come by CID, its metrics carry no times
      const ppo = await reproduceStage(store, r1.manifest!, { stage: 'ppo', quiet: true })
      assert.equal(ppo.identical, true, JSON.stringify(ppo.outputs))
    } finally {
      await store.close()
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
