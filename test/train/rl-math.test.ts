/** GAE, whitening, KL estimators, the adaptive KL controller and the guard rails against hand-computed values. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gae, whiten, raggedMoments } from '../../src/train/rl/advantages.ts'
import { klK1, klK3, approxKlK2, createAdaptiveKlController, createFixedKlController } from '../../src/train/rl/kl.ts'
import { createGuards, defaultGuardConfig } from '../../src/train/rl/guards.ts'
import { applyScoreNorm, fitScoreNorm, normalizeHead } from '../../src/train/rl/score-norm.ts'

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`)
const closeAll = (a: number[][], b: number[][], tol = 1e-9) => {
  assert.equal(a.length, b.length)
  a.forEach((r, i) => {
    assert.equal(r.length, b[i].length)
    r.forEach((x, j) => close(x, b[i][j], tol))
  })
}

test('GAE equals the hand-computed recursion (gamma 1 / lambda 0.95, and gamma 0.9 / lambda 0.5), ragged rows', () => {
  // row 0: t=2 delta 1-0.1=0.9; t=1 delta 0.1-0.2=-0.1, A=-0.1+0.95*0.9=0.755; t=0 delta 0.2-0.5=-0.3, A=-0.3+0.95*0.755=0.41725
  // row 1 (length 1): delta = 2 - 0.5 = 1.5
  const a = gae([[0, 0, 1], [2]], [[0.5, 0.2, 0.1], [0.5]], 1, 0.95)
  closeAll(a.advantages, [[0.41725, 0.755, 0.9], [1.5]])
  closeAll(a.returns, [[0.91725, 0.955, 1.0], [2]])
  // t=1: delta = 2 - 1 = 1; t=0: delta = 1 + 0.9*1 - 0 = 1.9, A = 1.9 + 0.9*0.5*1 = 2.35
  const b = gae([[1, 2]], [[0, 1]], 0.9, 0.5)
  closeAll(b.advantages, [[2.35, 1]])
  closeAll(b.returns, [[2.35, 2]])
})

test('masked whitening over ragged rows: zero mean, unit (unbiased) variance; shiftMean=false keeps the mean', () => {
  // values 1, 2, 3: mean 2, unbiased variance 1
  closeAll(whiten([[1, 2], [3]]), [[-1, 0], [1]], 1e-6)
  closeAll(whiten([[1, 2], [3]], false), [[1, 2], [3]], 1e-6)
  const m = raggedMoments([[4, 8], [], [6, 2]])
  close(m.mean, 5)
  close(m.variance, (1 + 9 + 1 + 9) / 3)
  assert.equal(m.count, 4)
})

test('KL estimators k1 and k3 equal their formulas; k3 >= 0 where k1 < 0', () => {
  close(klK1(-1, -2), 1)
  close(klK3(-1, -2), Math.exp(-1) + 1 - 1) // r = ref - logp = -1: e^-1 - (-1) - 1
  close(klK1(-2, -1), -1)
  close(klK3(-2, -1), Math.E - 1 - 1)
  assert.ok(klK3(-2, -1) > 0)
  close(klK3(-1.3, -1.3), 0)
})

test("approxKlK2 is TRL's approxkl: 0.5 * mean((log ratio)^2) over masked tokens, not k3", () => {
  const logp = [-1, -2, -0.5, -3]
  const old = [-1.5, -1, -0.5, -9]
  const mask = [1, 1, 1, 0]
  // d = 0.5, -1, 0 on the masked tokens: 0.5 * (0.25 + 1 + 0) / 3
  assert.ok(Math.abs(approxKlK2(logp, old, mask) - (0.5 * 1.25) / 3) < 1e-12)
  const k3 = (0.5 * 0 + [0.5, -1, 0].reduce((a, d) => a + Math.exp(-d) - 1 + d, 0)) / 3
  assert.ok(Math.abs(approxKlK2(logp, old, mask) - k3) > 1e-3, 'k2 and k3 differ at these ratios')
  assert.equal(approxKlK2([1], [2], [0]), 0)
})

test('adaptive KL controller follows beta *= 1 + clip(KL/target - 1, -0.2, 0.2) * n / horizon; fixed stays fixed', () => {
  const c = createAdaptiveKlController(0.1, 6, 10000)
  c.update(9, 16) // error 0.5 clipped to 0.2
  close(c.value, 0.1 * (1 + (0.2 * 16) / 10000), 1e-15)
  const v1 = c.value
  c.update(5, 100) // error -1/6
  close(c.value, v1 * (1 + ((5 / 6 - 1) * 100) / 10000), 1e-15)
  const v2 = c.value
  c.update(0, 100) // error -1 clipped to -0.2
  close(c.value, v2 * (1 - (0.2 * 100) / 10000), 1e-15)
  const f = createFixedKlController(0.05)
  f.update(100, 100)
  assert.equal(f.value, 0.05)
})

test('guard rails: negative KL, exploding KL and collapsed entropy trip only over a full window', () => {
  const g = createGuards({ ...defaultGuardConfig, window: 2 })
  assert.equal(g.observe(-5, 1), null) // window not full yet
  assert.equal(g.observe(4.5, 1), null) // mean -0.25: within the tolerance (0.5)
  assert.equal(g.observe(-1, 1), null) // mean 1.75
  assert.equal(g.observe(-1, 1)?.reason, 'negative_kl') // mean -1
  const e = createGuards({ ...defaultGuardConfig, window: 2, maxKl: 20 })
  assert.equal(e.observe(30, 1), null)
  assert.equal(e.observe(5, 1), null) // mean 17.5
  const trip = e.observe(40, 1) // mean 22.5
  assert.equal(trip?.reason, 'kl_explosion')
  assert.match(trip!.message, /maxKl 20/)
  assert.equal(createGuards({ ...defaultGuardConfig, window: 1 }).observe(NaN, 1)?.reason, 'kl_explosion')
  const h = createGuards({ ...defaultGuardConfig, window: 2, minEntropy: 0.05 })
  assert.equal(h.observe(1, 0.01), null)
  assert.equal(h.observe(1, 0.2), null) // mean 0.105
  assert.equal(h.observe(1, 0.001), null) // mean 0.1005
  assert.equal(h.observe(1, 0.001)?.reason, 'entropy_collapse') // mean 0.001
})

test('score normalisation: mean 0 / sd 1 on the samples; the length fit is least squares; the head carries the same gain and bias', () => {
  const scores = [1, 3, 5, 7], lengths = [2, 2, 6, 6]
  const n = fitScoreNorm(scores, lengths, false)
  const z = applyScoreNorm(n, scores, lengths)
  close(z.reduce((a, b) => a + b, 0), 0)
  close(z.reduce((a, b) => a + b * b, 0) / 3, 1) // unbiased variance 1
  // scores = 0 + 1 * length + (-1, 1, -1, 1): slope 1, intercept 0, residual sd sqrt(4/3)
  const m = fitScoreNorm(scores, lengths, true)
  close(m.slope, 1)
  close(m.intercept, 0)
  close(m.scale, Math.sqrt(4 / 3))
  closeAll([applyScoreNorm(m, scores, lengths)], [[-1, 1, -1, 1].map((x) => x / Math.sqrt(4 / 3))])
  // the head: w.h + b -> (w.h + b - centre) / scale, centre = the fitted score at the mean length (4)
  const h = normalizeHead(Float32Array.of(2, -4), Float32Array.of(7), m)
  closeAll([Array.from(h.weight), Array.from(h.bias)], [[2 / m.scale, -4 / m.scale], [(7 - 4) / m.scale]], 1e-6)
  // every sample scored the same: shift only
  close(fitScoreNorm([2, 2, 2], [1, 2, 3], true).scale, 1)
})
