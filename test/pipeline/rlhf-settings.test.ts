// The RL settings of issue 18, as mechanics (whether they help is measured by the evaluation, see
// docs/rlhf.md): PPO's defaults follow InstructGPT's ratios, the pipeline's configs use an adaptive KL
// toward a few nats and a missing-EOS penalty, DPO learns from the PPO reward model's half of the
// comparisons (never the judge's), and the score-0 ablation rewards nothing but keeps the value init.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultPpoConfig, checkPpoSettings } from '../../src/train/ppo-config.ts'
import { defaultPipelineConfig, demoConfig, mergeConfig } from '../../src/pipeline/config.ts'
import { comparisonsFor, activeStages } from '../../src/pipeline/stages.ts'
import { rewardSource } from '../../src/pipeline/rl-stages.ts'
import { SAMPLE_RANKING_SUFFIX } from '../../src/pipeline/ranking-rows.ts'

test('PPO defaults: >= 64 episodes per rollout, one epoch, 8 updates per rollout batch (InstructGPT: 512 / 64)', () => {
  assert.ok(defaultPpoConfig.rolloutBatch >= 64)
  assert.equal(defaultPpoConfig.ppoEpochs, 1)
  assert.equal(defaultPpoConfig.rolloutBatch % defaultPpoConfig.miniBatch, 0)
  assert.equal((defaultPpoConfig.rolloutBatch / defaultPpoConfig.miniBatch) * defaultPpoConfig.ppoEpochs, 8)
})

test('pipeline configs: PPO with the same ratios, adaptive KL toward a few nats, a missing-EOS penalty; all pass the trainer check', () => {
  for (const cfg of [defaultPipelineConfig(), demoConfig()]) {
    const { maxPrompts: _m, zeroScore: _z, ...ppo } = cfg.ppo
    checkPpoSettings(ppo)
    const rollout = ppo.rolloutBatch ?? defaultPpoConfig.rolloutBatch
    assert.ok(rollout >= 64, `${cfg.name} rollout ${rollout}`)
    assert.equal(ppo.ppoEpochs ?? defaultPpoConfig.ppoEpochs, 1)
    const target = ppo.kl?.adaptive?.target
    assert.ok(target !== undefined && target >= 1 && target <= 10, `${cfg.name} KL target ${target}`)
    assert.ok((ppo.missingEosPenalty ?? 0) > 0, `${cfg.name} missing-EOS penalty`)
  }
  assert.equal(mergeConfig(demoConfig(), { ppo: { zeroScore: true, ptxCoef: 0 } }).ppo.zeroScore, true)
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { zeroScore: 'yes' } }), /ppo\.zeroScore/)
  assert.throws(() => mergeConfig(demoConfig(), { samples: { perPrompt: 0 } }), /samples\.perPrompt/)
  assert.equal(mergeConfig(demoConfig(), { samples: { perPrompt: 3 } }).samples.perPrompt, 3)
})

test('comparisonsFor: DPO draws from the reward model half only; the judge half is disjoint; ranking rows follow their comparison', () => {
  const cfg = demoConfig()
  const rows = Array.from({ length: 200 }, (_, i) => ({ id: `c${i}`, task: i % 2 ? 'a' : 'b' }))
  const withRanking = rows.flatMap((r) => [r, { id: r.id + SAMPLE_RANKING_SUFFIX, task: r.task }])
  const ids = (w: 'reward' | 'judge' | 'dpo') => new Set(comparisonsFor(w, withRanking, { ...cfg, reward: { ...cfg.reward, maxComparisons: 0 }, dpo: { ...cfg.dpo, maxComparisons: 0 } }).map((r) => r.id))
  const reward = ids('reward')
  const judge = ids('judge')
  const dpo = ids('dpo')
  assert.ok(reward.size > 100 && judge.size > 100, `${reward.size} / ${judge.size}`)
  for (const id of judge) assert.ok(!reward.has(id) && !dpo.has(id), `${id} in the judge half and another learner's`)
  assert.deepEqual([...dpo].sort(), [...reward].sort())
  for (const id of reward) if (!id.endsWith(SAMPLE_RANKING_SUFFIX)) assert.ok(reward.has(id + SAMPLE_RANKING_SUFFIX))
  // a cap counts comparisons, not their ranking rows
  const capped = comparisonsFor('dpo', withRanking, { ...cfg, dpo: { ...cfg.dpo, maxComparisons: 10 } })
  assert.equal(capped.filter((r) => !r.id.endsWith(SAMPLE_RANKING_SUFFIX)).length, 10)
  assert.equal(capped.length, 20)
})

test('rewardSource: the score-0 ablation scores every response 0 and keeps the value model on the reward model', () => {
  const on = rewardSource('/rm')
  assert.deepEqual(on, { reward: { modelDir: '/rm' }, valueDir: '/rm' })
  const off = rewardSource('/rm', true)
  assert.ok('fn' in off.reward && off.reward.fn() === 0)
  assert.equal(off.valueDir, '/rm')
})

test('tasks.valFraction: one held-out share for corpus and tasks; the default leaves the data stage key as it was', () => {
  const demo = demoConfig()
  assert.equal(demo.tasks.valFraction, 0.05)
  assert.equal(defaultPipelineConfig().tasks.valFraction, 0.1)
  for (const bad of [0, 0.9]) assert.throws(() => mergeConfig(demo, { tasks: { valFraction: bad } }), /tasks\.valFraction/)
  const data = activeStages(demo).find((s) => s.name === 'data')!
  assert.deepEqual((data.config(demo) as { tasks: object }).tasks, { maxChars: 280, maxAnswerChars: 100 })
  const wider = mergeConfig(demo, { tasks: { valFraction: 0.1 } })
  assert.deepEqual((data.config(wider) as { tasks: object }).tasks, { maxChars: 280, maxAnswerChars: 100, valFraction: 0.1 })
})

test('judge.init: the judge starts from the base model by default, from SFT on request; its stage key sees the choice', () => {
  const cfg = demoConfig()
  assert.equal(cfg.judge.init, 'base')
  assert.throws(() => mergeConfig(cfg, { judge: { init: 'reward' } }), /judge\.init/)
  const judge = activeStages(cfg).find((s) => s.name === 'judge')!
  const sft = mergeConfig(cfg, { judge: { init: 'sft' } })
  assert.notDeepEqual(judge.config(cfg), judge.config(sft))
  assert.ok(judge.inputs.includes('pretrain') && judge.inputs.includes('base'))
  // the policy's reward model is not affected by the judge's init
  const reward = activeStages(cfg).find((s) => s.name === 'reward')!
  assert.deepEqual(reward.config(cfg), reward.config(sft))
})
