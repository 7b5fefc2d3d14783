// Reward model: batch layout (all C(K,2) untied pairs, each prompt weighted once), the loss equals the
// hand-computed InstructGPT loss from the model's own rewards, and a tiny RM learns a separable preference.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeConfig } from '../../src/model/config.ts'
import { initParams } from '../../src/model/gpt.ts'
import { createTrainable, createScorer, uploadParams } from '../../src/model/trainable.ts'
import { rewardObjective, rewardScore } from '../../src/model/objectives.ts'
import { rewardBatch, rewardShape } from '../../src/train/reward.ts'
import { lmBatch, packExamples } from '../../src/train/collate.ts'

const c = makeConfig({ vocabSize: 40, nCtx: 16, nEmbd: 16, nLayer: 1, nHead: 2 })
const PAD = 39

function rmParams(seed: number) {
  const p = initParams(c, seed)
  p['score.weight'] = new Float32Array(c.nEmbd).map((_, i) => Math.sin(i + seed) * 0.3)
  p['score.bias'] = new Float32Array([0.1])
  return p
}

test('rewardBatch: K-wise groups become untied pairs weighted 1/C(K,2) per prompt, padded to multiples of 8', () => {
  const b = rewardBatch(
    [
      { seqs: [[1, 2], [1, 3], [1, 4]], pairs: [[0, 1], [0, 2], [1, 2]] },
      { seqs: [[5], [6]], pairs: [[1, 0]] },
    ],
    c.nCtx,
    PAD,
  )
  assert.deepEqual(b.inputs.shape, [8, 16])
  assert.deepEqual([...b.last.data].slice(0, 5), [1, 1, 1, 0, 0])
  assert.deepEqual([...b.win.data].slice(0, 4), [0, 0, 1, 4])
  assert.deepEqual([...b.lose.data].slice(0, 4), [1, 2, 2, 3])
  const w = [...b.weight.data]
  assert.ok(Math.abs(w[0] - 1 / 3) < 1e-7 && Math.abs(w[3] - 1) < 1e-7)
  assert.deepEqual(w.slice(4), [0, 0, 0, 0])
})

test('reward loss equals -sum w log sigmoid(r_w - r_l) / sum w computed from the model rewards', () => {
  const params = rmParams(3)
  const groups = [
    { seqs: [[1, 2, 3], [1, 5, 6, 7], [1, 9]], pairs: [[0, 1], [0, 2], [1, 2]] as Array<[number, number]> },
    { seqs: [[4, 4], [8, 2, 2]], pairs: [[1, 0]] as Array<[number, number]> },
  ]
  const batch = rewardBatch(groups, c.nCtx, PAD)
  const scorer = createScorer(c, rewardScore)
  const dev = uploadParams(c, params)
  const r = scorer.score(dev, { inputs: batch.inputs, last: batch.last }).rewards
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
  const seq = (good: boolean) => [1, 2 + Math.floor(rnd() * 5), 3 + Math.floor(rnd() * 5), good ? 7 : 9, good ? 7 : 9 + Math.floor(rnd() * 3)]
  const groups = (n: number) => Array.from({ length: n }, () => ({ seqs: [seq(true), seq(false)], pairs: [[0, 1]] as Array<[number, number]> }))
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
  const g = (k: number, len: number) => ({ seqs: Array.from({ length: k }, () => Array.from({ length: len }, (_, i) => i % 30)), pairs: Array.from({ length: k - 1 }, (_, i) => [0, i + 1] as [number, number]) })
  const groups = [g(2, 5), g(4, 9), g(3, 20)]
  const shape = rewardShape(groups, 2, 64)
  assert.deepEqual(shape, { N: 8, T: 32, P: 8 })
  for (const pick of [[groups[0], groups[0]], [groups[1], groups[2]], [groups[2]]]) {
    const b = rewardBatch(pick, 64, PAD, shape)
    assert.deepEqual(b.inputs.shape, [8, 32])
    assert.deepEqual(b.win.shape, [8])
  }
  assert.throws(() => rewardBatch([groups[1], groups[1], groups[1]], 64, PAD, shape), /exceed the batch shape/)
})
