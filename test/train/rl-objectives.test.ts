/**
 * The PPO policy/value losses and the DPO loss, evaluated by the engine, against the same formulas
 * computed here in plain JS from `tokenScore` / `valueScore` outputs of the same tiny model.
 * Inputs are chosen so that clipping happens on both sides (ratios far from 1, advantages of both signs).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTrainable, createScorer, uploadParams, type HostBatch } from '../../src/model/trainable.ts'
import { ppoPolicyObjective, ppoValueObjective, dpoObjective, tokenScore, valueScore } from '../../src/model/objectives.ts'
import { initParams, type HostParams } from '../../src/model/gpt.ts'
import { createRng } from '../../src/model/rng.ts'
import { tree } from '../../src/model/jax.ts'
import { temperedTokenScore, temperedPpoPolicyObjective } from '../../src/model/objectives-rl.ts'
import { tinyConfig } from './rl-helpers.ts'

const c = tinyConfig(64, { nCtx: 16 })
const host: HostParams = initParams(c, 11)
// larger weights so log-probs differ across positions
for (const k of Object.keys(host)) if (k.endsWith('c_attn.weight') || k.endsWith('wte.weight')) host[k] = host[k].map((x) => x * 10)
const N = 4
const T = 8
const rng = createRng(5)
const ints = (n: number) => Int32Array.from({ length: n }, () => rng.int(c.vocabSize))
const inputs = ints(N * T)
const targets = ints(N * T)
const mask = Float32Array.from({ length: N * T }, (_, i) => (i % T >= 2 && i % T < 2 + 2 + (Math.floor(i / T) % 4) ? 1 : 0))
const B2 = (d: Int32Array | Float32Array) => ({ data: d, shape: [N, T] })

function score(fn: typeof tokenScore, hp: HostParams, b: HostBatch) {
  const s = createScorer(c, fn)
  const p = uploadParams(c, hp)
  const out = s.score(p, b)
  s.dispose()
  tree.dispose(p)
  return out
}
const rel = (a: number, b: number, tol = 2e-4) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`)

test('ppoPolicyObjective = clipped surrogate + ptxCoef * LM loss, with clipfrac/approxkl/entropy, as computed by hand', () => {
  const { logprobs, entropy } = score(tokenScore, host, { inputs: B2(inputs), targets: B2(targets) })
  const old = Float32Array.from(logprobs, (x) => x + (rng.next() - 0.5) * 1.2)
  const adv = Float32Array.from({ length: N * T }, () => rng.normal())
  const M = 2
  const ptxIn = ints(M * T)
  const ptxTg = ints(M * T)
  const ptxMask = new Float32Array(M * T).fill(1)
  const ptxLp = score(tokenScore, host, { inputs: { data: ptxIn, shape: [M, T] }, targets: { data: ptxTg, shape: [M, T] } }).logprobs
  const clip = 0.2
  const ptxCoef = 0.7
  let pg = 0, cf = 0, ak = 0, ent = 0, n = 0
  for (let i = 0; i < N * T; i++) {
    if (!mask[i]) continue
    const lr = logprobs[i] - old[i]
    const ratio = Math.exp(lr)
    const l1 = -adv[i] * ratio
    const l2 = -adv[i] * Math.min(1 + clip, Math.max(1 - clip, ratio))
    pg += Math.max(l1, l2)
    cf += l2 > l1 ? 1 : 0
    ak += ratio - 1 - lr
    ent += entropy[i]
    n++
  }
  pg /= n, cf /= n, ak /= n, ent /= n
  const ptx = -ptxLp.reduce((a, b) => a + b, 0) / (M * T)
  assert.ok(cf > 0.1 && cf < 0.9, `clipping must happen on some tokens only (clipfrac ${cf})`)
  const tr = createTrainable({ config: c, params: host, objective: ppoPolicyObjective })
  const r = tr.evaluate({
    inputs: B2(inputs), targets: B2(targets), mask: B2(mask), oldLogprobs: B2(old), advantages: B2(adv),
    hyper: { data: Float32Array.of(clip, ptxCoef), shape: [2] },
    ptxInputs: { data: ptxIn, shape: [M, T] }, ptxTargets: { data: ptxTg, shape: [M, T] }, ptxMask: { data: ptxMask, shape: [M, T] },
  })
  tr.dispose()
  rel(r.metrics.pg_loss, pg)
  rel(r.metrics.clipfrac, cf)
  rel(r.metrics.approxkl, ak)
  rel(r.metrics.entropy, ent)
  rel(r.metrics.ptx_loss, ptx)
  rel(r.loss, pg + ptxCoef * ptx)
})

test('ppoValueObjective = 0.5 * masked mean of max(unclipped, clipped) squared error, and vf_clipfrac, as computed by hand', () => {
  const hp: HostParams = { ...host, 'score.weight': Float32Array.from({ length: c.nEmbd }, (_, i) => Math.cos(i)), 'score.bias': Float32Array.of(0.3) }
  const { values } = score(valueScore, hp, { inputs: B2(inputs) })
  const oldV = Float32Array.from(values, (v) => v + (rng.next() - 0.5) * 1.5)
  const ret = Float32Array.from(values, (v) => v + rng.normal())
  const cr = 0.2
  let loss = 0, cf = 0, n = 0
  for (let i = 0; i < N * T; i++) {
    if (!mask[i]) continue
    const vc = oldV[i] + Math.min(cr, Math.max(-cr, values[i] - oldV[i]))
    const l1 = (values[i] - ret[i]) ** 2
    const l2 = (vc - ret[i]) ** 2
    loss += Math.max(l1, l2)
    cf += l2 > l1 ? 1 : 0
    n++
  }
  loss = (0.5 * loss) / n
  cf /= n
  assert.ok(cf > 0 && cf < 1, `value clipping must happen on some tokens only (${cf})`)
  const tr = createTrainable({ config: c, params: hp, objective: ppoValueObjective })
  const r = tr.evaluate({ inputs: B2(inputs), mask: B2(mask), oldValues: B2(oldV), returns: B2(ret), hyper: { data: Float32Array.of(cr), shape: [1] } })
  tr.dispose()
  rel(r.loss, loss)
  rel(r.metrics.vf_clipfrac, cf)
})

test('dpoObjective = mean -log sigmoid(beta * margin of log-ratios), implicit rewards and accuracy, as computed by hand', () => {
  const { logprobs } = score(tokenScore, host, { inputs: B2(inputs), targets: B2(targets) })
  const seqLp = Array.from({ length: N }, (_, i) => {
    let s = 0
    for (let t = 0; t < T; t++) s += logprobs[i * T + t] * mask[i * T + t]
    return s
  })
  const refLogps = Float32Array.from(seqLp, (x, i) => x + [0.8, -1.1, -0.4, 0.9][i]) // pairs (0,2) and (1,3)
  const beta = 0.5
  const h = N / 2
  let loss = 0, acc = 0, margin = 0, ch = 0, rj = 0
  for (let i = 0; i < h; i++) {
    const rc = beta * (seqLp[i] - refLogps[i])
    const rr = beta * (seqLp[h + i] - refLogps[h + i])
    const m = rc - rr
    loss += Math.log1p(Math.exp(-m)) // -log sigmoid(m)
    acc += m > 0 ? 1 : 0
    margin += m
    ch += rc
    rj += rr
  }
  const tr = createTrainable({ config: c, params: host, objective: dpoObjective })
  const r = tr.evaluate({ inputs: B2(inputs), targets: B2(targets), mask: B2(mask), refLogps: { data: refLogps, shape: [N] }, hyper: { data: Float32Array.of(beta), shape: [1] } })
  tr.dispose()
  assert.equal(acc, 1, 'the crafted pairs have one win and one loss')
  rel(r.loss, loss / h)
  rel(r.metrics.rewards_accuracy, acc / h)
  rel(r.metrics.rewards_margin, margin / h)
  rel(r.metrics.rewards_chosen, ch / h)
  rel(r.metrics.rewards_rejected, rj / h)
})

test('tempered scoring and PPO objective: log-probs of softmax(logits / T) (= ln_f scaled by 1/T), hand-computed surrogate', () => {
  const temp = 0.5
  const b = { inputs: B2(inputs), targets: B2(targets) }
  const tempered = score(temperedTokenScore, host, { ...b, temperature: { data: Float32Array.of(temp), shape: [1] } })
  // logits = ln_f(x) @ wte^T is linear in ln_f's gain and bias: scaling both by 1/T divides the logits by T
  const scaled: HostParams = { ...host, 'transformer.ln_f.weight': host['transformer.ln_f.weight'].map((x) => x / temp), 'transformer.ln_f.bias': host['transformer.ln_f.bias'].map((x) => x / temp) }
  const viaParams = score(tokenScore, scaled, b)
  const plain = score(tokenScore, host, b)
  let differs = 0
  for (let i = 0; i < N * T; i++) {
    rel(tempered.logprobs[i], viaParams.logprobs[i], 1e-4)
    rel(tempered.entropy[i], viaParams.entropy[i], 1e-4)
    differs = Math.max(differs, Math.abs(tempered.logprobs[i] - plain.logprobs[i]))
  }
  assert.ok(differs > 0.1, 'temperature must change the log-probs')
  const old = Float32Array.from(tempered.logprobs, (x) => x + (rng.next() - 0.5))
  const adv = Float32Array.from({ length: N * T }, () => rng.normal())
  let pg = 0, ent = 0, n = 0
  for (let i = 0; i < N * T; i++) {
    if (!mask[i]) continue
    const ratio = Math.exp(tempered.logprobs[i] - old[i])
    pg += Math.max(-adv[i] * ratio, -adv[i] * Math.min(1.2, Math.max(0.8, ratio)))
    ent += tempered.entropy[i]
    n++
  }
  const ptxMask = new Float32Array(T) // ptx off: coefficient 0, mask 0
  const batch = {
    inputs: B2(inputs), targets: B2(targets), mask: B2(mask), oldLogprobs: B2(old), advantages: B2(adv),
    ptxInputs: { data: new Int32Array(T), shape: [1, T] }, ptxTargets: { data: new Int32Array(T), shape: [1, T] }, ptxMask: { data: ptxMask, shape: [1, T] },
  }
  const tr = createTrainable({ config: c, params: host, objective: temperedPpoPolicyObjective })
  const r = tr.evaluate({ ...batch, hyper: { data: Float32Array.of(0.2, 0, temp), shape: [3] } })
  // at temperature 1 it is the lead's objective
  const r1 = tr.evaluate({ ...batch, hyper: { data: Float32Array.of(0.2, 0, 1), shape: [3] } })
  tr.dispose()
  const lead = createTrainable({ config: c, params: host, objective: ppoPolicyObjective })
  const r0 = lead.evaluate({ ...batch, hyper: { data: Float32Array.of(0.2, 0), shape: [2] } })
  lead.dispose()
  rel(r.loss, pg / n)
  rel(r.metrics.entropy, ent / n)
  rel(r1.loss, r0.loss, 1e-5)
  rel(r1.metrics.approxkl, r0.metrics.approxkl, 1e-5)
})
