// Pipeline config: defaults, "extends": "demo", and errors that name the field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPipelineConfig, demoConfig, mergeConfig, defaultPipelineConfig } from '../../src/pipeline/config.ts'

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
  ]
  for (const [patch, field] of typos) {
    withFile(JSON.stringify(patch), (file) =>
      assert.throws(() => loadPipelineConfig(file), (e: Error) => e.message.includes(`field "${field}": unknown key`) && e.message.includes('p.json'), `${field} is refused`),
    )
  }
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { policyLr: '1e-4' } }), /field "ppo\.policyLr": expected number, got string/)
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { kl: { estimator: 'k2' } } }), /field "ppo\.kl\.estimator": must be one of "k1", "k3"/)
  assert.throws(() => mergeConfig(demoConfig(), { ppo: { maxPrompts: 'all' } }), /field "ppo\.maxPrompts"/)
  assert.throws(() => mergeConfig(demoConfig(), { jobs: { resources: { ppo: { gpus: 1 } } } }), /field "jobs\.resources\.ppo\.gpus": unknown key/)
  // settings the trainer has are accepted, optional ones too, and reach the config
  const c = mergeConfig(demoConfig(), { ppo: { topK: 5, kl: { coef: 0.2 } }, jobs: { resources: { ppo: { gpu: 1 } } } })
  assert.equal(c.ppo.topK, 5)
  assert.deepEqual(c.ppo.kl, { coef: 0.2, estimator: 'k1', adaptive: { target: 4, horizon: 512 } })
  assert.deepEqual(c.jobs.resources.ppo, { gpu: 1 })
})
