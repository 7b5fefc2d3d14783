/**
 * DPO end to end on a toy preference set: the chosen answer is always "good answer", the rejected one
 * "bad reply". After a few steps the implicit reward (beta * log pi/ref) must prefer chosen on
 * held-out prompts; outputs (model dir with tokenizer, metrics with TRL names) are checked too.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { trainDpo } from '../../src/train/dpo.ts'
import { readMetrics } from '../../src/train/metrics.ts'
import type { Comparison } from '../../src/data/formats.ts'
import { loadTokenizer } from '../../src/tokenizer/index.ts'
import { tinyPolicy } from './rl-helpers.ts'

const rows = (from: number, to: number): Comparison[] =>
  Array.from({ length: to - from }, (_, i) => ({ prompt: `question number ${from + i}`, responses: ['bad reply', 'good answer'], ranking: [1, 0] }))

test('DPO: implicit-reward accuracy > 0.9 on held-out toy preferences, TRL metric names, model dir with tokenizer', async (t) => {
  const { dir, tok, model: sft } = await tinyPolicy(t)
  // a K = 3 comparison with a tie: only the 2 untied pairs count
  const train: Comparison[] = [...rows(0, 16), { prompt: 'question number 99', responses: ['good answer', 'bad reply', 'a bad reply here'], ranking: [0, 1, 1] }]
  const out = join(dir, 'dpo')
  const r = await trainDpo({ policyDir: sft, comparisons: { rows: train }, evalComparisons: { rows: rows(100, 112) }, outDir: out, batchPairs: 6, quiet: true, loop: { steps: 14, lr: 3e-3, warmup: 2, evalEvery: 7 } })
  assert.equal(r.pairs, 18)
  assert.equal(r.evalPairs, 12)
  const first = r.history[0]
  // step 1 runs on the initial policy = reference: margins start at 0
  assert.ok(Math.abs(first['train/rewards/margins'] as number) < 1e-3, `initial margin ${first['train/rewards/margins']}`)
  assert.ok(r.finalEval['eval/rewards/accuracies'] > 0.9, `eval accuracy ${r.finalEval['eval/rewards/accuracies']}`)
  assert.ok(r.finalEval['eval/rewards/margins'] > 0)
  assert.ok(r.finalEval['eval/rewards/chosen'] > r.finalEval['eval/rewards/rejected'])
  assert.ok(r.finalEval['eval/loss'] < Math.log(2), `eval loss ${r.finalEval['eval/loss']}`)
  const rowsLogged = readMetrics(join(out, 'metrics.jsonl'))
  assert.equal(rowsLogged.length, 14)
  for (const k of ['train/rewards/accuracies', 'train/rewards/margins', 'train/rewards/chosen', 'train/rewards/rejected']) assert.ok(k in rowsLogged[13], k)
  assert.ok(existsSync(join(out, 'model', 'model.safetensors')))
  assert.equal(loadTokenizer(join(out, 'model')).fingerprint, tok.fingerprint)
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
  assert.equal(summary.stage, 'dpo')
})

test('DPO: a comparison longer than the context is refused before training, naming the row', async (t) => {
  const { dir, model: sft } = await tinyPolicy(t, { nCtx: 16 })
  const long: Comparison[] = [{ prompt: 'question', responses: ['good answer '.repeat(10), 'bad reply'], ranking: [0, 1] }]
  await assert.rejects(trainDpo({ policyDir: sft, comparisons: { rows: long }, outDir: join(dir, 'o'), quiet: true }), (e: Error) => /longer than the context/.test(e.message) && /responses\[0\]/.test(e.message))
})
