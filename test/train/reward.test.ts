// Reward model: batch layout (all C(K,2) untied pairs, each prompt weighted once), the loss equals the
// hand-computed InstructGPT loss from the model's own rewards, and a tiny RM learns a separable preference.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeConfig } from '../../src/model/config.ts'
import { initParams } from '../../src/model/gpt.ts'
import { createTrainable, createScorer, uploadParams } from '../../src/model/trainable.ts'
import { rewardObjective, rewardScore } from '../../src/model/objectives.ts'
import { epochBatches, rewardBatch, rewardShape, rewardShapes, shapeFor } from '../../src/train/reward.ts'
import { rewardGroup } from '../../src/model/reward-model.ts'
import type { Tokenizer } from '../../src/tokenizer/index.ts'
import { lmBatch, packExamples } from '../../src/train/collate.ts'

const c = makeConfig({ vocabSize: 40, nCtx: 16, nEmbd: 16, nLayer: 1, nHead: 2 })
const PAD = 39

function rmParams(seed: number) {
  const p = initParams(c, seed)
  p['score.weight'] = new Float32Array(c.nEmbd).map((_, i) => Math.sin(i + seed) * 0.3)
  p['score.bias'] = new Float32Array([0.1])
  return p
}

test('rewardBatch: K-wise groups become untied pairs weighted 1/C(K,2) per prompt, each prompt once', () => {
  const b = rewardBatch(
    [
      { prompt: [1], responses: [[2], [3], [4]], pairs: [[0, 1], [0, 2], [1, 2]] },
      { prompt: [1, 5], responses: [[5, 6], [6]], pairs: [[1, 0]] },
    ],
    c.nCtx,
    PAD,
  )
  assert.deepEqual(b.prefix.shape, [2, 16])
  assert.deepEqual([...b.prefixLen.data], [1, 2])
  assert.deepEqual(b.inputs.shape, [6, 16]) // G * K rows, K = 3: the second group's third row is padding
  assert.deepEqual([...b.last.data], [0, 0, 0, 1, 0, 0])
  assert.deepEqual([...b.win.data].slice(0, 4), [0, 0, 1, 4])
  assert.deepEqual([...b.lose.data].slice(0, 4), [1, 2, 2, 3])
  const w = [...b.weight.data]
  assert.ok(Math.abs(w[0] - 1 / 3) < 1e-7 && Math.abs(w[3] - 1) < 1e-7)
  assert.deepEqual(w.slice(4), [0, 0, 0, 0])
})

test('shared-prefix rewards equal the rewards of the full sequences (2 layers, dropout off)', () => {
  const c2 = makeConfig({ vocabSize: 40, nCtx: 16, nEmbd: 16, nLayer: 2, nHead: 2 })
  const p = initParams(c2, 3)
  p['score.weight'] = new Float32Array(c2.nEmbd).map((_, i) => Math.sin(i))
  p['score.bias'] = new Float32Array([0.1])
  const groups = [
    { prompt: [1, 2, 3], responses: [[6, 7], [8], [9, 10, 11]], pairs: [] },
    { prompt: [4, 5], responses: [[12, 13], [14], [15, 16, 17]], pairs: [] },
  ]
  const dev = uploadParams(c2, p)
  const scorer = createScorer(c2, rewardScore)
  const b = rewardBatch(groups, c2.nCtx, PAD)
  const shared = scorer.score(dev, { prefix: b.prefix, prefixLen: b.prefixLen, inputs: b.inputs, last: b.last }).rewards
  const full = groups.flatMap((g) => g.responses.map((r) => [...g.prompt, ...r]))
  const inputs = new Int32Array(full.length * 8).fill(PAD)
  full.forEach((x, i) => inputs.set(x, i * 8))
  const last = Int32Array.from(full.map((x) => x.length - 1))
  const ref = scorer.score(dev, { inputs: { data: inputs, shape: [full.length, 8] }, last: { data: last, shape: [full.length] } }).rewards
  for (let i = 0; i < full.length; i++) assert.ok(Math.abs(shared[i] - ref[i]) < 1e-4, `row ${i}: ${shared[i]} vs ${ref[i]}`)
  // and a different prompt changes them (the prefix is attended to)
  const other = rewardBatch([{ ...groups[0], prompt: [3, 2, 1] }], c2.nCtx, PAD)
  const moved = scorer.score(dev, { prefix: other.prefix, prefixLen: other.prefixLen, inputs: other.inputs, last: other.last }).rewards
  assert.ok(Math.abs(moved[0] - ref[0]) > 1e-3)
  scorer.dispose()
})

test('rewardGroup: an over-long prompt keeps its end, over-long responses keep theirs, so all fit with EOS last', () => {
  const tok = { encode: (s: string) => [...s].map((ch) => ch.charCodeAt(0) % 30), eosId: 31, userId: 32, assistantId: 33, systemId: 34 } as unknown as Tokenizer
  const g = rewardGroup(tok, 'a'.repeat(20), ['bbbb', 'c'.repeat(30)], 16)
  assert.equal(g.responses[1].length, 15)
  assert.equal(g.responses[1].at(-1), 31)
  assert.deepEqual(g.prompt, [10]) // only the prompt's last token, encode('\n'), fits: 16 - 15 = 1
  const h = rewardGroup(tok, 'abc', ['x'], 16)
  assert.deepEqual(h.responses, [[120 % 30, 31]])
  assert.equal(h.prompt[0], 32)
})

test('reward loss equals -sum w log sigmoid(r_w - r_l) / sum w computed from the model rewards', () => {
  const params = rmParams(3)
  const groups = [
    { prompt: [1], responses: [[2, 3], [5, 6, 7], [9]], pairs: [[0, 1], [0, 2], [1, 2]] as Array<[number, number]> },
    { prompt: [4], responses: [[4], [2, 2]], pairs: [[1, 0]] as Array<[number, number]> },
  ]
  const batch = rewardBatch(groups, c.nCtx, PAD)
  const scorer = createScorer(c, rewardScore)
  const dev = uploadParams(c, params)
  const r = scorer.score(dev, { prefix: batch.prefix, prefixLen: batch.prefixLen, inputs: batch.inputs, last: batch.last }).rewards
  let num = 0, den = 0, acc = 0
  const P = batch.win.data.length
  for (let i = 0; i < P; i++) {
    const wgt = batch.weight.data[i]
    const d = r[batch.win.data[i]] - r[batch.lose.data[i]]
    num += wgt * Math.log(1 / (1 + Math.exp(-d)))
    den += wgt
    acc += wgt * (d > 0 ? 1 : 0)
  }
  const t = createTrainable({ config: c, params, objective: rewardObjective })
  const ev = t.evaluate(batch)
  assert.ok(Math.abs(ev.loss - -num / den) < 1e-5, `loss ${ev.loss} vs hand ${-num / den}`)
  assert.ok(Math.abs(ev.metrics.accuracy - acc / den) < 1e-6)
  t.dispose()
  scorer.dispose()
})

test('a tiny reward model learns a separable toy preference (accuracy > 0.95 on held-out pairs)', () => {
  // preferred responses contain token 7, rejected ones token 9, after a random prompt
  let s = 11
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  const response = (good: boolean) => [3 + Math.floor(rnd() * 5), good ? 7 : 9, good ? 7 : 9 + Math.floor(rnd() * 3)]
  const groups = (n: number) => Array.from({ length: n }, () => ({ prompt: [1, 2 + Math.floor(rnd() * 5)], responses: [response(true), response(false)], pairs: [[0, 1]] as Array<[number, number]> }))
  const t = createTrainable({ config: c, params: rmParams(5), objective: rewardObjective, adamw: { weightDecay: 0 } })
  for (let step = 0; step < 40; step++) {
    t.accumulate(rewardBatch(groups(4), c.nCtx, PAD))
    t.update(3e-3)
  }
  const ev = t.evaluate(rewardBatch(groups(16), c.nCtx, PAD))
  assert.ok(ev.metrics.accuracy > 0.95, `accuracy ${ev.metrics.accuracy}`)
  t.dispose()
})

test('SFT batches count response tokens only, and packing keeps masks with their tokens', () => {
  const ex = [
    { ids: [1, 2, 3, 4, 5], responseMask: [0, 0, 0, 1, 1] },
    { ids: [6, 7, 8], responseMask: [0, 1, 1] },
  ]
  const b = lmBatch(ex, 6, PAD)
  assert.deepEqual([...b.inputs.data].slice(0, 6), [1, 2, 3, 4, PAD, PAD])
  assert.deepEqual([...b.targets.data].slice(0, 6), [2, 3, 4, 5, PAD, PAD])
  assert.deepEqual([...b.mask.data].slice(0, 6), [0, 0, 1, 1, 0, 0])
  assert.deepEqual([...b.mask.data].slice(6, 12), [1, 1, 0, 0, 0, 0])
  const rows = packExamples(ex, 4, PAD)
  assert.deepEqual(rows.map((r) => r.ids), [[1, 2, 3, 4, 5], [5, 6, 7, 8, PAD]])
  assert.deepEqual(rows.map((r) => r.responseMask), [[0, 0, 0, 1, 1], [1, 0, 1, 1, 0]])
})

test('rewardShape: one batch shape for a whole run (K from 2 to 4), so batches never allocate new sizes', () => {
  const g = (k: number, len: number) => ({ prompt: [1, 2, 3], responses: Array.from({ length: k }, () => Array.from({ length: len }, (_, i) => i % 30)), pairs: Array.from({ length: k - 1 }, (_, i) => [0, i + 1] as [number, number]) })
  const groups = [g(2, 5), g(4, 9), g(3, 20)]
  const shape = rewardShape(groups, 2, 64)
  assert.deepEqual(shape, { G: 2, K: 4, Tp: 16, Tr: 32, P: 8 })
  for (const pick of [[groups[0], groups[0]], [groups[1], groups[2]], [groups[2]]]) {
    const b = rewardBatch(pick, 64, PAD, shape)
    assert.deepEqual(b.inputs.shape, [8, 32])
    assert.deepEqual(b.prefix.shape, [2, 16])
    assert.deepEqual(b.win.shape, [8])
  }
  assert.throws(() => rewardBatch([groups[1], groups[1], groups[1]], 64, PAD, shape), /exceed the batch shape/)
})

test('rewardShapes: batches of short responses get a short shape, and every group fits exactly one first shape', () => {
  const g = (len: number) => ({ prompt: [1, 2, 3], responses: [Array(len).fill(4), [5]], pairs: [[0, 1]] as Array<[number, number]> })
  const groups = [...Array.from({ length: 10 }, () => g(10)), ...Array.from({ length: 8 }, () => g(40)), g(100)]
  const shapes = rewardShapes(groups, 4, 128)
  assert.deepEqual(shapes.map((s) => s.Tr), [48, 112])
  assert.deepEqual(groups.map((x) => shapeFor(shapes, x)), [...Array(18).fill(0), 1])
  // an epoch covers every group at least once, each batch within its shape
  const plan = epochBatches(groups, shapes, 4, 7)
  assert.deepEqual(plan.map((b) => b.shape).sort(), [0, 0, 0, 0, 0, 1])
  for (const b of plan) assert.ok(b.groups.every((x) => shapeFor(shapes, x) === b.shape))
  assert.equal(new Set(plan.flatMap((b) => b.groups)).size, groups.length)
  assert.deepEqual(epochBatches(groups, shapes, 4, 7), plan, 'a pure function of the seed')
})

test('rewardShapes: two long responses per prompt take full sequences, which forward fewer tokens, with the same rewards', () => {
  const c2 = makeConfig({ vocabSize: 40, nCtx: 64, nEmbd: 16, nLayer: 2, nHead: 2 })
  const p = initParams(c2, 4)
  p['score.weight'] = new Float32Array(c2.nEmbd).map((_, i) => Math.cos(i))
  p['score.bias'] = new Float32Array([0])
  const seq = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i * k) % 30)
  // prompts of 10 to 40 tokens, two responses that fill the rest: padded prefixes would cost more
  const groups = Array.from({ length: 4 }, (_, i) => ({ prompt: seq(10 + 10 * i, 3), responses: [seq(50 - 10 * i, 5), seq(45 - 10 * i, 7)], pairs: [[0, 1]] as Array<[number, number]> }))
  const shapes = rewardShapes(groups, 2, c2.nCtx)
  assert.equal(shapes.length, 1)
  assert.equal(shapes[0].T, 64)
  const full = rewardBatch(groups.slice(0, 2), c2.nCtx, PAD, shapes[0])
  assert.deepEqual(full.inputs.shape, [4, 64])
  assert.equal(full.prefix, undefined)
  const shared = rewardBatch(groups.slice(0, 2), c2.nCtx, PAD)
  const dev = uploadParams(c2, p)
  const scorer = createScorer(c2, rewardScore)
  const a = scorer.score(dev, { inputs: full.inputs, last: full.last }).rewards
  const b = scorer.score(dev, { prefix: shared.prefix, prefixLen: shared.prefixLen, inputs: shared.inputs, last: shared.last }).rewards
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `row ${i}: ${a[i]} vs ${b[i]}`)
  scorer.dispose()
})
