// Pipeline config: defaults, "extends": "demo", and errors that name the field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPipelineConfig, demoConfig, mergeConfig, defaultPipelineConfig } from '../../src/pipeline/config.ts'
import { checkPretrainSettings, defaultPretrainSettings } from '../../src/train/pretrain-config.ts'
import { checkSftSettings, defaultSftSettings, sftConfigFrom } from '../../src/train/sft-config.ts'
import { checkRewardSettings, defaultRewardSettings } from '../../src/train/reward-config.ts'
import { checkDpoSettings, defaultDpoSettings } from '../../src/train/dpo-config.ts'

function withFile(content: string, f: (file: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'instruct3-cfg-'))
  try {
    const file = join(dir, 'p.json')
    writeFileSync(file, content)
    f(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('a config file only names what it changes; relative paths resolve against the file', () => {
  withFile(JSON.stringify({ extends: 'demo', name: 'x', workDir: 'run', pretrain: { steps: 7 } }), (file) => {
    const c = loadPipelineConfig(file)
    assert.equal(c.name, 'x')
    assert.equal(c.pretrain.steps, 7)
    assert.equal(c.pretrain.batchSize, demoConfig().pretrain.batchSize)
    assert.equal(c.model.nEmbd, demoConfig().model.nEmbd)
    assert.equal(c.workDir, join(file, '..', 'run'))
  })
})

test('unknown keys, wrong types and bad enums are errors naming the field', () => {
  withFile(JSON.stringify({ pretrain: { stpes: 7 } }), (file) => assert.throws(() => loadPipelineConfig(file), /p\.json: field "pretrain\.stpes": unknown key/))
  withFile(JSON.stringify({ model: { nEmbd: '64' } }), (file) => assert.throws(() => loadPipelineConfig(file), /field "model\.nEmbd": expected number, got string/))
  withFile(JSON.stringify({ rl: 'sac' }), (file) => assert.throws(() => loadPipelineConfig(file), /field "rl": must be one of ppo, dpo, both/))
  withFile('{"name": ', (file) => assert.throws(() => loadPipelineConfig(file), /p\.json: cannot read config/))
  assert.throws(() => mergeConfig(defaultPipelineConfig(), { model: { nEmbd: 30, nHead: 4 } }), /model\.nHead/)
  assert.throws(() => mergeConfig(defaultPipelineConfig(), { store: { kind: 'kubo' } }), /store\.apiUrl/)
})

test("a mistyped key or a wrong type in any trainer's section is an error naming the field", () => {
  // one mistyped key per trainer section (pretrain, SFT, both reward models, DPO, PPO and its nested settings)
  const typos: Array<[object, string]> = [
    [{ pretrain: { warmpu: 5 } }, 'pretrain.warmpu'],
    [{ sft: { learningRate: 1e-4 } }, 'sft.learningRate'],
    [{ reward: { epoch: 1 } }, 'reward.epoch'],
    [{ hh: { batch: 2 } }, 'hh.batch'],
    [{ dpo: { betta: 0.2 } }, 'dpo.betta'],
    [{ ppo: { iteratons: 3 } }, 'ppo.iteratons'],
    [{ ppo: { kl: { cof: 0.1 } } }, 'ppo.kl.cof'],
    [{ ppo: { guards: { maxKll: 1 } } }, 'ppo.guards.maxKll'],
    [{ sft: { lrr: 1e-4 } }, 'sft.lrr'],
    [{ dpo: { stpes: 3 } }, 'dpo.stpes'],
    [{ hh: { mdoe: 'pairwise' } }, 'hh.mdoe'],
    // the trainer config's nested form is not a setting: settings are flat (`lr`, not `loop.lr`)
    [{ pretrain: { loop: { lr: 1e-3 } } }, 'pretrain.loop'],
    [{ sft: { loop: { lr: 1e-3 } } }, 'sft.loop'],
  ]
  for (const [patch, field] of typos) {
    withFile(JSON.stringify(patch), (file) =>
      assert.throws(() => loadPipelineConfig(file), (e: Error) => e.message.includes(`field "${field}": unknown key`) && e.message.includes('p.json'), `${field} is refused`),
    )
  }
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { policyLr: '1e-4' } }), /field "ppo\.policyLr": expected number, got string/)
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { kl: { estimator: 'k2' } } }), /field "ppo\.kl\.estimator": must be one of "k1", "k3"/)
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { maxPrompts: 'all' } }), /field "ppo\.maxPrompts"/)
  assert.throws(() => mergeConfig(demoConfig(), { dpo: { beta: '0.1' } }), /field "dpo\.beta": expected number, got string/)
  assert.throws(() => mergeConfig(demoConfig(), { sft: { weightDecay: { x: 1 } } }), /field "sft\.weightDecay": expected number, got object/)
  assert.throws(() => mergeConfig(demoConfig(), { pretrain: { gradAccum: '2' } }), /field "pretrain\.gradAccum": expected number, got string/)
  assert.throws(() => mergeConfig(demoConfig(), { reward: { mode: 'pointwise' } }), /field "reward\.mode": must be one of "listwise", "pairwise"/)
  assert.throws(() => mergeConfig(demoConfig(), { hh: { maxComparisons: 'all' } }), /field "hh\.maxComparisons": expected number/)
  assert.throws(() => mergeConfig(demoConfig(), { sft: { selectByReward: 1 } }), /field "sft\.selectByReward": expected boolean/)
  // the validators themselves, as a trainer's caller uses them
  assert.throws(() => checkSftSettings({ lrr: 1 }, 'sft', 'x.json'), /x\.json: field "sft\.lrr": unknown key/)
  assert.throws(() => checkPretrainSettings({ evalBatches: true }), /field "pretrain\.evalBatches": expected number, got boolean/)
  assert.throws(() => checkRewardSettings({ batch: 2 }, 'hh'), /field "hh\.batch": unknown key/)
  assert.throws(() => checkDpoSettings([]), /field "dpo": expected an object, got an array/)
  assert.deepEqual(sftConfigFrom({ lr: 1e-3, epochs: 3, maxNewTokens: 8 }), { epochs: 3, maxNewTokens: 8, loop: { lr: 1e-3 } })
  assert.throws(() => mergeConfig(demoConfig(), { jobs: { resources: { ppo: { gpus: 1 } } } }), /field "jobs\.resources\.ppo\.gpus": unknown key/)
  // settings the trainer has are accepted, optional ones too, and reach the config
  const c = mergeConfig(demoConfig(), { ppo: { topK: 5, kl: { coef: 0.2 } }, jobs: { resources: { ppo: { gpu: 1 } } } })
  assert.equal(c.ppo.topK, 5)
  assert.deepEqual(c.ppo.kl, { coef: 0.2, estimator: 'k1', adaptive: { target: 4, horizon: 128 } })
  assert.deepEqual(c.jobs.resources.ppo, { gpu: 1 })
})

test("the pipeline's trainer sections keep the effective settings they had when they were written out in full", () => {
  const d = defaultPipelineConfig()
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]))
  const loopKeys = ['lr', 'minLr', 'warmup', 'evalEvery', 'checkpointEvery']
  assert.deepEqual(pick({ ...defaultPretrainSettings, ...d.pretrain }, ['steps', 'batchSize', ...loopKeys, 'evalBatches', 'seed', 'maxDocs']), { steps: 2000, batchSize: 16, lr: 2e-3, minLr: 2e-4, warmup: 100, evalEvery: 200, checkpointEvery: 200, evalBatches: 8, seed: 1, maxDocs: 0 })
  assert.deepEqual(pick({ ...defaultSftSettings, ...d.sft }, ['epochs', 'batchSize', ...loopKeys, 'weightDecay', 'packing', 'selectPrompts', 'maxNewTokens']), { epochs: 2, batchSize: 16, lr: 5e-4, minLr: 5e-5, warmup: 10, evalEvery: 20, checkpointEvery: 50, weightDecay: 0, packing: true, selectPrompts: 16, maxNewTokens: 32 })
  assert.deepEqual(pick({ ...defaultRewardSettings, ...d.reward }, ['epochs', 'batchSize', ...loopKeys, 'weightDecay', 'mode']), { epochs: 2, batchSize: 4, lr: 3e-4, minLr: 3e-5, warmup: 5, evalEvery: 25, checkpointEvery: 50, weightDecay: 0, mode: 'listwise' })
  assert.deepEqual(pick({ ...defaultRewardSettings, ...d.hh }, ['epochs', 'batchSize', ...loopKeys, 'weightDecay', 'mode']), { epochs: 1, batchSize: 8, lr: 3e-4, minLr: 3e-5, warmup: 5, evalEvery: 0, checkpointEvery: 50, weightDecay: 0, mode: 'listwise' })
  assert.deepEqual(pick({ ...defaultDpoSettings, ...d.dpo }, ['beta', 'steps', 'batchPairs', ...loopKeys, 'weightDecay']), { beta: 0.1, steps: 200, batchPairs: 8, lr: 1e-4, minLr: 1e-5, warmup: 5, evalEvery: 50, checkpointEvery: 50, weightDecay: 0 })
  const demo = demoConfig()
  assert.deepEqual(pick({ ...defaultDpoSettings, ...demo.dpo }, ['steps', ...loopKeys]), { steps: 150, lr: 5e-4, minLr: 5e-5, warmup: 5, evalEvery: 50, checkpointEvery: 50 })
  assert.deepEqual(pick({ ...defaultPretrainSettings, ...demo.pretrain }, ['steps', 'batchSize', ...loopKeys]), { steps: 550, batchSize: 16, lr: 4e-3, minLr: 4e-4, warmup: 40, evalEvery: 100, checkpointEvery: 100 })
  // what a config sets reaches the section
  const c = mergeConfig(demoConfig(), { sft: { weightDecay: 0.1, gradAccum: 2 }, pretrain: { seed: 3 } })
  assert.equal(c.sft.weightDecay, 0.1)
  assert.equal(c.sft.gradAccum, 2)
  assert.equal(c.sft.lr, 2e-3)
  assert.equal(c.pretrain.seed, 3)
})
