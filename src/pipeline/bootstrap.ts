/**
 * Paired bootstrap intervals for comparing a policy with the SFT model on the same prompts.
 *
 * The data are a [prompts x samples] matrix per policy, row i being prompt i for both. The unit of
 * resampling is the prompt (a cluster bootstrap): samples of one prompt are correlated, so resampling
 * them one by one would understate the spread. Each of `resamples` draws picks prompts with
 * replacement (the same draw for the policy and SFT, hence "paired"), recomputes the statistic on the
 * drawn rows, and the 95% interval is the 2.5th and 97.5th percentiles of those statistics (percentile
 * bootstrap). The draws come from a seeded RNG, so an interval is a pure function of data and seed.
 */
import { createRng } from '../model/rng.ts'
import { Instruct3Error } from '../util/errors.ts'

/** A point estimate with its 95% interval. */
export type Interval = { value: number; lo: number; hi: number }

export type BootstrapOptions = { resamples?: number; seed?: number; level?: number }

/** Rows (prompts) of per-sample values; every row must be non-empty. */
export type Rows = number[][]

const DEFAULT_RESAMPLES = 2000

/**
 * Interval of `stat(rowIndices)` over prompt resamples; `stat` receives the indices of the drawn rows
 * (with repeats) and returns the statistic on them. `n` is the number of rows.
 */
export function bootstrapInterval(n: number, stat: (rows: number[]) => number, opts: BootstrapOptions = {}): Interval {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES
  const level = opts.level ?? 0.95
  if (!Number.isInteger(n) || n < 1) throw new Instruct3Error(`bootstrap needs at least one prompt, got ${n}`, { code: 'EDATA', details: { field: 'prompts' } })
  if (!Number.isInteger(resamples) || resamples < 10) throw new Instruct3Error(`resamples must be an integer >= 10, got ${resamples}`, { code: 'ECONFIG', details: { field: 'resamples' } })
  if (!(level > 0 && level < 1)) throw new Instruct3Error(`level must be in (0, 1), got ${level}`, { code: 'ECONFIG', details: { field: 'level' } })
  const all = Array.from({ length: n }, (_, i) => i)
  const value = stat(all)
  const rng = createRng(opts.seed ?? 1)
  const stats = new Float64Array(resamples)
  const draw = new Array<number>(n)
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) draw[i] = rng.int(n)
    stats[b] = stat(draw)
  }
  stats.sort()
  return { value, lo: quantile(stats, (1 - level) / 2), hi: quantile(stats, 1 - (1 - level) / 2) }
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

function checkPaired(a: Rows, b: Rows, what: string): void {
  if (a.length !== b.length) throw new Instruct3Error(`${what}: ${a.length} prompts vs ${b.length}`, { code: 'EDATA', details: { field: 'prompts' } })
  a.forEach((row, i) => {
    if (row.length === 0 || row.length !== b[i].length)
      throw new Instruct3Error(`${what}: prompt ${i} has ${row.length} vs ${b[i].length} samples`, { code: 'EDATA', details: { field: `samples[${i}]` } })
  })
}

/** Mean over the drawn rows of each row's mean. */
function rowMean(rows: Rows, drawn: number[]): number {
  let s = 0
  for (const i of drawn) {
    const r = rows[i]
    let t = 0
    for (const v of r) t += v
    s += t / r.length
  }
  return s / drawn.length
}

/**
 * Win rate of the policy over the baseline: sample s of prompt i against the baseline's sample s of
 * the same prompt; a win counts 1, a tie 0.5. With its paired bootstrap interval.
 */
export function pairedWinRate(policy: Rows, baseline: Rows, opts: BootstrapOptions = {}): Interval {
  checkPaired(policy, baseline, 'win rate')
  const wins = policy.map((row, i) => row.map((v, s) => (v > baseline[i][s] ? 1 : v === baseline[i][s] ? 0.5 : 0)))
  return bootstrapInterval(wins.length, (d) => rowMean(wins, d), opts)
}

/** Mean difference policy - baseline (per prompt, averaged over samples), with its paired bootstrap interval. */
export function pairedMeanDifference(policy: Rows, baseline: Rows, opts: BootstrapOptions = {}): Interval {
  checkPaired(policy, baseline, 'mean difference')
  const diff = policy.map((row, i) => row.map((v, s) => v - baseline[i][s]))
  return bootstrapInterval(diff.length, (d) => rowMean(diff, d), opts)
}

/** Mean of one policy's values with a bootstrap interval over prompts. */
export function meanInterval(values: Rows, opts: BootstrapOptions = {}): Interval {
  return bootstrapInterval(values.length, (d) => rowMean(values, d), opts)
}

/** "0.62 [0.55, 0.69]" with `digits` decimals. */
export function formatInterval(x: Interval, digits = 2): string {
  return `${x.value.toFixed(digits)} [${x.lo.toFixed(digits)}, ${x.hi.toFixed(digits)}]`
}
