// The evaluation's statistics: ROUGE-L and token F1 against known values, the crowd's ranking rule,
// paired bootstrap intervals (deterministic, cover the truth, paired beats unpaired), and the
// length-controlled win rate (removes a pure length preference, keeps a real one).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rougeL, tokenF1, lcsLength, closeness, crowdScore, words } from '../../src/data/text-match.ts'
import { pairedWinRate, pairedMeanDifference, meanInterval, bootstrapInterval, quantile, formatInterval } from '../../src/pipeline/bootstrap.ts'
import { lengthControlledWinRate, fitLogistic } from '../../src/pipeline/length-control.ts'
import { createRng } from '../../src/model/rng.ts'
import { vsSftMetrics } from '../../src/pipeline/policy-compare.ts'

const close = (a: number, b: number, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`)

test('rougeL: the rouge-score README example (P 0.625, R 0.5556, F 0.5882) and edge cases', () => {
  const r = rougeL('The quick brown dog jumps on the log.', 'The quick brown fox jumps over the lazy dog')
  close(r.precision, 0.625)
  close(r.recall, 5 / 9)
  close(r.f, 0.58824)
  assert.deepEqual(rougeL('', 'anything'), { precision: 0, recall: 0, f: 0 })
  assert.equal(rougeL('a b c', 'a b c').f, 1)
  // order matters for ROUGE-L, not for token F1
  assert.equal(lcsLength(words('c b a'), words('a b c')), 1)
  assert.equal(tokenF1('c b a', 'a b c'), 1)
})

test('tokenF1: SQuAD-style counts (each word at most as often as on the other side)', () => {
  // response "the the cat" vs reference "the cat sat": common = the, cat = 2; P 2/3, R 2/3
  close(tokenF1('the the cat', 'the cat sat'), 2 / 3)
  assert.equal(tokenF1('Reentrancy!', 'reentrancy'), 1)
  assert.equal(tokenF1('', 'x'), 0)
  assert.equal(tokenF1('x', 'y'), 0)
})

test('crowdScore: orders two wrong answers by closeness to the reference; readability breaks a tie', () => {
  const ref = 'the withdraw function sends ether before updating the balance'
  assert.ok(crowdScore('withdraw sends ether before the balance update', ref) > crowdScore('an oracle price was manipulated', ref))
  // no shared characters beyond spaces: closeness equal, the readable one wins
  assert.equal(closeness('zzz', 'abc'), closeness('###', 'abc'))
  assert.ok(crowdScore('zzz', 'abc') > crowdScore('###', 'abc'))
})

test('bootstrapInterval: deterministic for a seed, different across seeds, and rejects bad options', () => {
  const rng = createRng(3)
  const rows = Array.from({ length: 50 }, () => [rng.normal(), rng.normal()])
  const stat = (d: number[]) => d.reduce((s, i) => s + rows[i][0] + rows[i][1], 0) / (2 * d.length)
  const a = bootstrapInterval(rows.length, stat, { seed: 5, resamples: 500 })
  const b = bootstrapInterval(rows.length, stat, { seed: 5, resamples: 500 })
  const c = bootstrapInterval(rows.length, stat, { seed: 6, resamples: 500 })
  assert.deepEqual(a, b)
  assert.notDeepEqual(a, c)
  assert.ok(a.lo < a.value && a.value < a.hi)
  assert.throws(() => bootstrapInterval(0, stat), /prompts/)
  assert.throws(() => bootstrapInterval(5, stat, { resamples: 3 }), /resamples/)
  assert.equal(quantile([0, 10], 0.25), 2.5)
  assert.equal(formatInterval({ value: 0.5, lo: 0.25, hi: 0.75 }), '0.50 [0.25, 0.75]')
})

test('pairedWinRate: a policy that wins 70% has an interval around 0.7 that excludes 0.5; ties count half', () => {
  const rng = createRng(11)
  const P = 300, S = 4
  const base = Array.from({ length: P }, () => Array.from({ length: S }, () => rng.normal()))
  const pol = base.map((row) => row.map((v) => (rng.next() < 0.7 ? v + 1 : v - 1)))
  const w = pairedWinRate(pol, base, { seed: 1 })
  close(w.value, 0.7, 0.03)
  assert.ok(w.lo > 0.5 && w.hi < 0.8, formatInterval(w))
  // the standard error of a 1,200-sample win rate is ~0.013: the 95% interval is about 4 of them wide
  assert.ok(w.hi - w.lo < 0.08 && w.hi - w.lo > 0.03, formatInterval(w))
  assert.equal(pairedWinRate([[1, 2]], [[1, 3]]).value, 0.25)
  assert.throws(() => pairedWinRate([[1]], [[1, 2]]), /samples\[0\]/)
  assert.throws(() => pairedWinRate([[1]], []), /prompts/)
})

test('pairedMeanDifference: pairing removes the prompt effect that an unpaired comparison would carry', () => {
  const rng = createRng(2)
  const P = 200
  // large per-prompt difficulty, small true improvement 0.1
  const difficulty = Array.from({ length: P }, () => 5 * rng.normal())
  const base = difficulty.map((d) => [d + 0.1 * rng.normal(), d + 0.1 * rng.normal()])
  const pol = difficulty.map((d) => [d + 0.1 + 0.1 * rng.normal(), d + 0.1 + 0.1 * rng.normal()])
  const diff = pairedMeanDifference(pol, base, { seed: 1 })
  close(diff.value, 0.1, 0.03)
  assert.ok(diff.lo > 0, `paired interval excludes 0: ${formatInterval(diff, 3)}`)
  // each policy's own mean varies with the prompts drawn ~25x more than the paired difference does
  const own = meanInterval(pol, { seed: 1 })
  assert.ok(own.hi - own.lo > 10 * (diff.hi - diff.lo), `${formatInterval(own)} vs ${formatInterval(diff, 3)}`)
})

test('lengthControlledWinRate: a judge that only likes length gets ~0.5; a real preference survives', () => {
  const rng = createRng(9)
  const P = 300, S = 4
  const baseLen = Array.from({ length: P }, () => Array.from({ length: S }, () => 10 + rng.int(10)))
  const polLen = baseLen.map((row) => row.map((l) => l + rng.int(12) - 2)) // mostly longer
  // judge 1: prefers the longer answer, nothing else (ties at equal length)
  const byLength = polLen.map((row, i) => row.map((l, s) => (l > baseLen[i][s] ? 1 : l === baseLen[i][s] ? 0.5 : 0)))
  const raw = pairedWinRate(polLen, baseLen)
  assert.ok(raw.value > 0.7, `raw win rate rewards length: ${raw.value}`)
  const lc = lengthControlledWinRate(byLength, polLen, baseLen, { seed: 1, resamples: 300 })
  assert.ok(Math.abs(lc.winRate.value - 0.5) < 0.1, `length-controlled ${formatInterval(lc.winRate)}`)
  assert.ok(lc.lengthCoef > 1)
  // judge 2: prefers the policy 75% of the time whatever the length
  const real = polLen.map((row) => row.map(() => (rng.next() < 0.75 ? 1 : 0)))
  const lc2 = lengthControlledWinRate(real, polLen, baseLen, { seed: 1, resamples: 300 })
  close(lc2.winRate.value, 0.75, 0.06)
  assert.ok(lc2.winRate.lo > 0.6, formatInterval(lc2.winRate))
  assert.throws(() => lengthControlledWinRate([[2]], [[1]], [[1]]), /outcome\[0\]\[0\]/)
  assert.throws(() => lengthControlledWinRate([[1]], [[1, 2]], [[1]]), /lengths\[0\]/)
})

test('vsSftMetrics: each interval as value, _lo and _hi under the policy name; absent comparisons leave no key', () => {
  const x = { value: 0.6, lo: 0.55, hi: 0.65 }
  const m = vsSftMetrics('ppo', { winRate: x, lengthControlledWinRate: x, lengthCoef: 1, rewardDifference: x })
  assert.deepEqual(m['ppo/win_rate_vs_sft'], 0.6)
  assert.deepEqual([m['ppo/lc_win_rate_vs_sft_lo'], m['ppo/reward_diff_vs_sft_hi']], [0.55, 0.65])
  assert.equal(Object.keys(m).length, 9)
  assert.ok(!('ppo/rouge_l_diff_vs_sft' in m))
})

test('fitLogistic: recovers known coefficients; a one-sided outcome stays finite', () => {
  const rng = createRng(4)
  const x: number[] = [], y: number[] = []
  for (let i = 0; i < 20000; i++) {
    const xi = 2 * rng.next() - 1
    x.push(xi)
    y.push(rng.next() < 1 / (1 + Math.exp(-(0.5 + 2 * xi))) ? 1 : 0)
  }
  const [a, b] = fitLogistic(x, y)
  close(a, 0.5, 0.1)
  close(b, 2, 0.15)
  const [a1] = fitLogistic([0, 0, 0], [1, 1, 1])
  assert.ok(Number.isFinite(a1) && a1 > 5)
})
