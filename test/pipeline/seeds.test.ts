// --seeds: one config per seed (own work folder, run and judge seeds), and the evaluation over seeds:
// mean, sd and on how many seeds each interval clears the null.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { demoConfig } from '../../src/pipeline/config.ts'
import { seedConfigs, summarizeSeeds, seedsMarkdown } from '../../src/pipeline/seeds.ts'
import type { EvalReport, PolicyEval } from '../../src/pipeline/evaluate.ts'

test('seedConfigs: seeds s, s+1, ... each with its own folder and judge seed; pretraining seed unchanged', () => {
  const cfg = demoConfig()
  const cs = seedConfigs(cfg, 3)
  assert.deepEqual(cs.map((c) => c.seed), [cfg.seed, cfg.seed + 1, cfg.seed + 2])
  assert.deepEqual(cs.map((c) => c.judge.seed), [cfg.judge.seed, cfg.judge.seed + 1, cfg.judge.seed + 2])
  assert.equal(new Set(cs.map((c) => c.workDir)).size, 3)
  assert.ok(cs.every((c) => c.workDir.startsWith(cfg.workDir) && c.pretrain.seed === cfg.pretrain.seed))
})

const iv = (value: number, lo: number, hi: number) => ({ value, lo, hi })

function report(win: [number, number, number], rouge: [number, number, number], acc: [number, number, number]): EvalReport {
  const ppo = {
    name: 'ppo',
    klToSft: 3,
    vsSft: { winRate: iv(...win), lengthControlledWinRate: iv(...win), lengthCoef: 0, rewardDifference: iv(0.1, 0.05, 0.15), rougeLDifference: iv(...rouge), tokenF1Difference: iv(...rouge) },
  } as unknown as PolicyEval
  const sft = { name: 'sft' } as unknown as PolicyEval
  return {
    policies: [sft, ppo],
    rewardModels: [{ name: 'reward (web3)', dir: '', data: '', accuracy: 0.7, margin: 1, pairs: 10, byKind: [], byTask: [], byOrigin: [], samplePairs: [{ task: 'summarize', accuracy: iv(...acc), rows: 5, pairs: 5 }] }],
  }
}

test('summarizeSeeds: mean and sd of each estimate, seeds whose interval clears the null, RM accuracy on sample pairs per task', () => {
  const s = summarizeSeeds([
    { seed: 1, report: report([0.62, 0.55, 0.69], [0.02, 0.01, 0.03], [0.6, 0.52, 0.68]) },
    { seed: 2, report: report([0.58, 0.49, 0.66], [0.01, -0.01, 0.03], [0.7, 0.6, 0.8]) },
    { seed: 3, report: report([0.66, 0.6, 0.72], [0.03, 0.02, 0.04], [0.4, 0.3, 0.5]) },
  ])
  const ppo = s.policies.find((p) => p.name === 'ppo')!
  assert.ok(Math.abs(ppo.metrics.winRate.mean - 0.62) < 1e-12)
  assert.ok(Math.abs(ppo.metrics.winRate.sd - 0.04) < 1e-12)
  assert.equal(ppo.metrics.winRate.cleared, 2)
  assert.equal(ppo.metrics.rougeLDifference.cleared, 2)
  assert.equal(ppo.metrics.rewardDifference.cleared, 3)
  assert.equal(ppo.klToSft!.mean, 3)
  assert.deepEqual(s.policies.find((p) => p.name === 'sft')!.metrics, {})
  assert.equal(s.sampleVsSample.length, 1)
  assert.ok(Math.abs(s.sampleVsSample[0].accuracy.mean - 17 / 30) < 1e-12)
  assert.equal(s.sampleVsSample[0].accuracy.cleared, 2)
  assert.equal(s.rewardJudge, undefined, 'no reward-vs-judge numbers in these reports')
  const md = seedsMarkdown(s)
  assert.match(md, /\| ppo \| 0\.620 ± 0\.040 \(2\/3\) \|/)
  assert.match(md, /\| reward \(web3\) \| summarize \| 0\.567 ± 0\.153 \(2\/3\) \|/)
})

test('summarizeSeeds: the reward model vs judge agreement over seeds', () => {
  const withAgreement = (a: [number, number, number], b: [number, number, number]) => ({ ...report([0.6, 0.55, 0.65], [0.01, 0, 0.02], [0.6, 0.5, 0.7]), rewardJudge: { agreement: iv(...a), bestOfWinRate: iv(...b), bestOf: 3, prompts: 10, pairs: 60 } })
  const s = summarizeSeeds([
    { seed: 1, report: withAgreement([0.6, 0.55, 0.65], [0.52, 0.48, 0.56]) },
    { seed: 2, report: withAgreement([0.5, 0.45, 0.55], [0.58, 0.52, 0.64]) },
  ])
  assert.ok(Math.abs(s.rewardJudge!.agreement.mean - 0.55) < 1e-12)
  assert.equal(s.rewardJudge!.agreement.cleared, 1)
  assert.equal(s.rewardJudge!.bestOfWinRate!.cleared, 1)
  assert.match(seedsMarkdown(s), /pair agreement 0\.550 ± 0\.071 \(1\/2\)/)
})

test('stage keys: every stage whose code reads the run seed changes key with it; data, pretraining and fitting do not', async () => {
  const { STAGES } = await import('../../src/pipeline/stages.ts')
  const { stageKey } = await import('../../src/pipeline/stage.ts')
  const a = demoConfig()
  const b = { ...a, seed: a.seed + 1 }
  const changed = STAGES.filter((s) => stageKey(s, a, []) !== stageKey(s, b, [])).map((s) => s.name)
  for (const name of ['sft', 'samples', 'reward', 'reward-hh', 'ppo', 'dpo', 'eval']) assert.ok(changed.includes(name), `${name} keeps its key under another seed`)
  for (const name of ['data', 'pretrain', 'fit']) assert.ok(!changed.includes(name), `${name} changed key with the run seed`)
})
