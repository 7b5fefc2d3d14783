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
