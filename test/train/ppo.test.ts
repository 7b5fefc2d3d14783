/**
 * PPO end to end at tiny sizes:
 *  - a scripted reward (count of token 7 in the response) rises within 10 iterations while the KL to
 *    the reference stays bounded;
 *  - the guard rail stops a run whose policy is far from its reference, and still saves the model;
 *  - a reward-model run (tokenizer, prompts JSONL, value model from the RM, ptx stream, temperature 0.8) killed after an
 *    iteration resumes from its checkpoint and finishes with a complete metrics log;
 *  - bad input (a reward model with another vocabulary, a prompt longer than the context) fails before training.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { trainPpo } from '../../src/train/ppo.ts'
import { readMetrics } from '../../src/train/metrics.ts'
import { loadCheckpoint } from '../../src/model/checkpoint.ts'
import { initParams } from '../../src/model/gpt.ts'
import { loadTokenizer } from '../../src/tokenizer/index.ts'
import { tempDir, tinyConfig, tinyTokenizer, writeModel } from './rl-helpers.ts'
import { loadPrompts } from '../../src/data/formats.ts'

const TOKENS = { eosId: 63, padId: 62 }
const prompts = Array.from({ length: 8 }, (_, i) => Array.from({ length: 3 + (i % 4) }, (_, j) => (i * 7 + j * 3) % 60))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

test('PPO raises a scripted reward (count of token 7) within 10 iterations while KL stays bounded', async (t) => {
  const dir = tempDir(t)
  const c = tinyConfig(64, { nCtx: 32 })
  await writeModel(join(dir, 'sft'), c, 5)
  const r = await trainPpo({
    policyDir: join(dir, 'sft'),
    reward: { fn: (_p, resp) => resp.filter((x) => x === 7).length },
    prompts,
    outDir: join(dir, 'out'),
    tokens: TOKENS,
    iterations: 10,
    rolloutBatch: 16,
    miniBatch: 8,
    ppoEpochs: 4,
    maxNewTokens: 8,
    policyLr: 3e-3,
    valueLr: 3e-3,
    checkpointEvery: 0,
    quiet: true,
  })
  const scores = r.history.map((h) => h['objective/scores'] as number)
  const kls = r.history.map((h) => h['objective/kl_k1'] as number)
  assert.equal(r.history.length, 10)
  assert.equal(r.stopped, undefined)
  // iteration 1 samples from the reference itself: KL exactly 0 (policy and reference log-probs agree)
  assert.ok(Math.abs(kls[0]) < 1e-4, `initial KL ${kls[0]}`)
  assert.ok(mean(scores.slice(-3)) > mean(scores.slice(0, 3)) + 0.5, `scores ${scores.map((s) => s.toFixed(2))}`)
  assert.ok(Math.max(...kls) < 10, `KL ${kls.map((k) => k.toFixed(2))}`)
  for (const k of ['objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/policy_avg', 'loss/value_avg', 'val/clipfrac_avg', 'objective/kl_coef', 'ptx/loss', 'time/generation', 'time/scoring', 'time/training'])
    assert.equal(typeof r.history[9][k], 'number', k)
  // TRL's approxkl (k2, 0.5 * mean(log ratio^2)) and the k3 form beside it: both about 0.5 * E[(log ratio)^2]
  // for small ratios, never identical once the policy has moved (4 epochs: later minibatches see ratio != 1)
  const k2s = r.history.map((h) => h['policy/approxkl_avg'] as number)
  const k3s = r.history.map((h) => h['policy/approxkl_k3_avg'] as number)
  assert.ok(k2s.every((x) => x >= 0) && k3s.every((x) => Number.isFinite(x)), `${k2s} ${k3s}`)
  assert.ok(k2s.some((x, i) => x > 1e-6 && Math.abs(x - k3s[i]) > 1e-9), `k2 ${k2s} k3 ${k3s}`)
  assert.ok(k2s.every((x, i) => x < 1e-6 || (k3s[i] / x > 0.3 && k3s[i] / x < 3)), `k2 ${k2s} k3 ${k3s}`)
  const last = r.history[9]
  assert.ok(Math.abs((last['objective/rlhf_reward'] as number) - ((last['objective/scores'] as number) + (last['objective/non_score_reward'] as number))) < 1e-9)
  assert.equal(readMetrics(r.metricsFile).length, 10)
  // wall-clock times live in timing.jsonl, so metrics.jsonl is reproducible
  assert.ok(readMetrics(r.metricsFile).every((m) => !Object.keys(m).some((k) => k.startsWith('time/'))))
  assert.equal(typeof readMetrics(join(dirname(r.metricsFile), 'timing.jsonl'))[9]['time/generation'], 'number')
  assert.ok(existsSync(join(r.modelDir, 'model.safetensors')))
  assert.ok(loadCheckpoint(r.valueDir).extraTensors['score.weight'])
})

test('guard rail: a policy far from its reference stops the run with a clear reason and a saved model', async (t) => {
  const dir = tempDir(t)
  const c = tinyConfig(64, { nCtx: 32 })
  await writeModel(join(dir, 'sft'), c, 5)
  // a reference with large weights: sharply peaked and unrelated to the policy
  const far = initParams(c, 99)
  for (const k of Object.keys(far)) if (k.endsWith('wte.weight') || k.endsWith('c_fc.weight')) far[k] = far[k].map((x) => x * 60)
  await writeModel(join(dir, 'ref'), c, 99, { params: far })
  const r = await trainPpo({
    policyDir: join(dir, 'sft'),
    refDir: join(dir, 'ref'),
    reward: { fn: () => 0 },
    prompts,
    outDir: join(dir, 'out'),
    tokens: TOKENS,
    iterations: 5,
    rolloutBatch: 8,
    miniBatch: 8,
    ppoEpochs: 1,
    maxNewTokens: 8,
    guards: { window: 1, maxKl: 20 },
    checkpointEvery: 0,
    quiet: true,
  })
  assert.equal(r.stopped?.reason, 'kl_explosion', JSON.stringify(r.history.map((h) => h['objective/kl_k1'])))
  assert.equal(r.stopped?.iteration, 1)
  assert.equal(r.history.length, 1)
  assert.ok(existsSync(join(r.modelDir, 'model.safetensors')))
  const summary = JSON.parse(readFileSync(r.summaryFile, 'utf8'))
  assert.equal(summary.stopped.reason, 'kl_explosion')
  assert.match(summary.stopped.message, /left the reference/)
})

test('PPO with a reward model, chat prompts, value from the RM, ptx and temperature 0.8: a killed run resumes from its checkpoint', async (t) => {
  const dir = tempDir(t)
  const tokDir = join(dir, 'tok')
  const tok = await tinyTokenizer(tokDir)
  const c = tinyConfig(tok.vocabSize)
  await writeModel(join(dir, 'sft'), c, 5, { tokDir, tok })
  await writeModel(join(dir, 'rm'), c, 6, { tokDir, tok, head: true })
  const promptFile = join(dir, 'prompts.jsonl')
  writeFileSync(promptFile, ['good', 'bad', 'question', 'answer'].map((p) => JSON.stringify({ prompt: `${p} number` }) + '\n').join(''))
  const ptx = Int32Array.from({ length: 500 }, (_, i) => (i * 31) % 256)
  const base = {
    policyDir: join(dir, 'sft'),
    reward: { modelDir: join(dir, 'rm') },
    prompts: { rows: await loadPrompts(promptFile), file: promptFile },
    ptxTokens: ptx,
    outDir: join(dir, 'out'),
    iterations: 3,
    rolloutBatch: 4,
    miniBatch: 2,
    ppoEpochs: 1,
    maxNewTokens: 6,
    temperature: 0.8,
    missingEosPenalty: 1,
    kl: { coef: 0.1, adaptive: { target: 1, horizon: 100 } },
    scoreNormSamples: 8,
    checkpointEvery: 1,
    quiet: true,
  }
  await assert.rejects(
    trainPpo({
      ...base,
      onIteration: (row) => {
        if (row.step === 2) throw new Error('simulated kill')
      },
    }),
    /simulated kill/,
  )
  assert.ok(existsSync(join(dir, 'out', 'checkpoint', 'ppo_state.json')))
  const saved = JSON.parse(readFileSync(join(dir, 'out', 'checkpoint', 'ppo_state.json'), 'utf8'))
  assert.equal(saved.scoreNorm.samples, 8)
  const r = await trainPpo(base)
  // the resumed run keeps the normalisation measured on the initial policy (not re-measured on the trained one)
  assert.deepEqual(JSON.parse(readFileSync(r.summaryFile, 'utf8')).scoreNorm, saved.scoreNorm)
  assert.equal(r.resumedFrom, 1)
  assert.equal(r.history.length, 2)
  const rows = readMetrics(r.metricsFile)
  assert.deepEqual(rows.map((x) => x.step), [1, 2, 3])
  // scoring and the first update use the same (tempered) distribution: KL 0 at iteration 1
  assert.ok(Math.abs(rows[0]['objective/kl_k1'] as number) < 1e-4)
  assert.ok((rows[2]['ptx/loss'] as number) > 0)
  // the adaptive controller moved beta away from its initial value and the state survived the restart
  assert.notEqual(rows[2]['objective/kl_coef'], 0.1)
  assert.ok(!existsSync(join(dir, 'out', 'checkpoint')))
  assert.equal(loadTokenizer(r.modelDir).fingerprint, tok.fingerprint)
  assert.ok(loadCheckpoint(r.valueDir).extraTensors['score.bias'])
})

test('PPO refuses a reward model with another vocabulary and a prompt longer than the context, before training', async (t) => {
  const dir = tempDir(t)
  const c = tinyConfig(64, { nCtx: 32 })
  await writeModel(join(dir, 'sft'), c, 5)
  await writeModel(join(dir, 'rm'), tinyConfig(80, { nCtx: 32 }), 6, { head: true })
  const base = { policyDir: join(dir, 'sft'), prompts, outDir: join(dir, 'out'), tokens: TOKENS, maxNewTokens: 8, quiet: true }
  await assert.rejects(trainPpo({ ...base, reward: { modelDir: join(dir, 'rm') } }), (e: Error & { code?: string }) => e.code === 'ETOKENIZER_MISMATCH' && /vocab_size/.test(e.message))
  await assert.rejects(
    trainPpo({ ...base, reward: { fn: () => 0 }, prompts: [[1, 2], Array.from({ length: 30 }, () => 3)] }),
    (e: Error) => /exceeds the context/.test(e.message) && /prompts\[1\]/.test(e.message),
  )
  assert.ok(!existsSync(join(dir, 'out', 'metrics.jsonl')))
})

test('valueWarmup: the first iterations train the value model only; the policy stays the initial one', async (t) => {
  const dir = tempDir(t)
  const c = tinyConfig(64, { nCtx: 32 })
  await writeModel(join(dir, 'sft'), c, 5)
  const r = await trainPpo({
    policyDir: join(dir, 'sft'),
    reward: { fn: (_p, resp) => resp.filter((x) => x === 7).length },
    prompts,
    outDir: join(dir, 'out'),
    tokens: TOKENS,
    iterations: 3,
    valueWarmup: 2,
    rolloutBatch: 16,
    miniBatch: 8,
    ppoEpochs: 2,
    maxNewTokens: 8,
    policyLr: 3e-3,
    valueLr: 3e-3,
    checkpointEvery: 0,
    quiet: true,
  })
  const kls = r.history.map((h) => h['objective/kl_k1'] as number)
  // iteration 3 samples from the policy after the two warm-up iterations: still the reference
  assert.ok(kls.every((k) => Math.abs(k) < 1e-4), `KL ${kls}`)
  assert.deepEqual(r.history.map((h) => h['loss/policy_avg'] === 0), [true, true, false])
  assert.ok(r.history.every((h) => (h['loss/value_avg'] as number) > 0))
  // the saved policy (after iteration 3) moved; a run of the warm-up alone leaves it as it was
  const r2 = await trainPpo({ policyDir: join(dir, 'sft'), reward: { fn: () => 1 }, prompts, outDir: join(dir, 'out2'), tokens: TOKENS, iterations: 2, valueWarmup: 2, rolloutBatch: 16, miniBatch: 8, maxNewTokens: 8, policyLr: 3e-3, checkpointEvery: 0, quiet: true })
  const before = loadCheckpoint(join(dir, 'sft')).params
  const after = loadCheckpoint(r2.modelDir).params
  for (const k of Object.keys(before)) assert.deepEqual(after[k], before[k], k)
  const v0 = loadCheckpoint(r2.valueDir).extraTensors['score.bias'].data[0]
  assert.notEqual(v0, 0, 'the value head learned during the warm-up')
})

test('scoreNormSamples: scores normalised on the initial policy\'s samples; scoreNormLength removes a length-only reward', async (t) => {
  const dir = tempDir(t)
  const c = tinyConfig(64, { nCtx: 32 })
  await writeModel(join(dir, 'sft'), c, 5)
  // a reward that is length alone (plus an offset): after the length fit nothing is left of it
  const lengthOnly = { fn: (_p: number[], resp: number[]) => 10 + 2 * resp.length }
  const common = { policyDir: join(dir, 'sft'), prompts, tokens: TOKENS, iterations: 2, rolloutBatch: 16, miniBatch: 8, maxNewTokens: 8, checkpointEvery: 0, quiet: true, scoreNormSamples: 32 }
  const a = await trainPpo({ ...common, reward: lengthOnly, outDir: join(dir, 'a'), scoreNormLength: true })
  for (const h of a.history) {
    assert.ok((h['objective/scores_raw'] as number) > 10, 'raw scores are logged in the reward\'s own units')
    assert.ok(Math.abs(h['objective/scores'] as number) < 1e-9, `length-neutral score ${h['objective/scores']}`)
  }
  const norm = JSON.parse(readFileSync(a.summaryFile, 'utf8')).scoreNorm
  assert.ok(Math.abs(norm.slope - 2) < 1e-9 && Math.abs(norm.intercept - 10) < 1e-9, JSON.stringify(norm))
  // without the length term: centred and scaled (the first iteration samples from the initial policy too)
  const reward = { fn: (_p: number[], resp: number[]) => 100 + 5 * resp.filter((x) => x === 7).length + resp.length }
  const b = await trainPpo({ ...common, reward, outDir: join(dir, 'b') })
  const nb = JSON.parse(readFileSync(b.summaryFile, 'utf8')).scoreNorm
  assert.equal(nb.slope, 0)
  assert.ok(nb.intercept > 100 && nb.scale > 0)
  const h1 = b.history[0]
  assert.ok(Math.abs((h1['objective/scores'] as number) - ((h1['objective/scores_raw'] as number) - nb.intercept) / nb.scale) < 1e-6)
  assert.ok(Math.abs(h1['objective/scores'] as number) < 1.5, `first iteration's normalised mean ${h1['objective/scores']}`)
  await assert.rejects(trainPpo({ ...common, reward, outDir: join(dir, 'c'), scoreNormSamples: 1 }), /scoreNormSamples/)
})
