/**
 * Length-controlled win rate, after AlpacaEval 2.0's LC win rate (Dubois et al. 2024), reduced to one
 * policy against one baseline:
 *
 *   P(policy sample beats baseline sample) = sigmoid(theta0 + theta1 * tanh(dlen / sd(dlen)))
 *
 * fitted by logistic regression (Newton's method, a tiny ridge so a one-sided outcome stays finite) on
 * every paired sample, with the judge's outcome as the target (win 1, tie 0.5, loss 0). `dlen` is the
 * policy's response length minus the baseline's on the same prompt and sample index, in tokens; sd is
 * its standard deviation over all pairs (fixed for the bootstrap). The length-controlled win rate is
 * the prediction at equal lengths, sigmoid(theta0): what the judge would prefer if the two answers were
 * as long. Unlike AlpacaEval we have no per-instruction difficulty term (one baseline, paired samples)
 * and the target is the judge's hard outcome, not a preference probability.
 *
 * The interval is the paired bootstrap over prompts (bootstrap.ts), refitting on each draw.
 */
import { bootstrapInterval, type BootstrapOptions, type Interval, type Rows } from './bootstrap.ts'
import { Instruct3Error } from '../util/errors.ts'

export type LengthControlled = {
  /** sigmoid(theta0) with its interval. */
  winRate: Interval
  /** theta1: the judge's preference for the longer answer (log-odds per unit of the tanh feature). */
  lengthCoef: number
  intercept: number
}

const RIDGE = 1e-6

/**
 * Fit `logit P(y) = a + b * x` to targets y in [0, 1]; returns [a, b]. Rows with indices `use`
 * (repeats allowed) enter the fit; with all x = 0 only `a` moves.
 */
export function fitLogistic(x: number[], y: number[], use?: number[]): [number, number] {
  const idx = use ?? x.map((_, i) => i)
  let a = 0, b = 0
  for (let it = 0; it < 50; it++) {
    let ga = RIDGE * a, gb = RIDGE * b, haa = RIDGE, hab = 0, hbb = RIDGE
    for (const i of idx) {
      const p = 1 / (1 + Math.exp(-(a + b * x[i])))
      const w = p * (1 - p)
      const e = p - y[i]
      ga += e
      gb += e * x[i]
      haa += w
      hab += w * x[i]
      hbb += w * x[i] * x[i]
    }
    const det = haa * hbb - hab * hab
    const da = (hbb * ga - hab * gb) / det
    const db = (haa * gb - hab * ga) / det
    a -= da
    b -= db
    if (Math.abs(da) + Math.abs(db) < 1e-10) break
  }
  return [a, b]
}

/**
 * Length-controlled win rate of `outcome` (per prompt, per sample: 1 win, 0.5 tie, 0 loss) given the
 * response lengths of the policy and the baseline in the same layout.
 */
export function lengthControlledWinRate(outcome: Rows, policyLen: Rows, baselineLen: Rows, opts: BootstrapOptions = {}): LengthControlled {
  const y: number[] = []
  const d: number[] = []
  const rowOf: number[][] = []
  outcome.forEach((row, i) => {
    if (policyLen[i]?.length !== row.length || baselineLen[i]?.length !== row.length)
      throw new Instruct3Error(`length-controlled win rate: prompt ${i} has ${row.length} outcomes but ${policyLen[i]?.length} / ${baselineLen[i]?.length} lengths`, { code: 'EDATA', details: { field: `lengths[${i}]` } })
    rowOf.push([])
    row.forEach((v, s) => {
      if (!(v >= 0 && v <= 1)) throw new Instruct3Error(`outcome must be in [0, 1], got ${v}`, { code: 'EDATA', details: { field: `outcome[${i}][${s}]` } })
      rowOf[i].push(y.length)
      y.push(v)
      d.push(policyLen[i][s] - baselineLen[i][s])
    })
  })
  const m = d.reduce((s, v) => s + v, 0) / Math.max(1, d.length)
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, d.length - 1))
  const x = d.map((v) => (sd > 0 ? Math.tanh(v / sd) : 0))
  const [intercept, lengthCoef] = fitLogistic(x, y)
  const sigmoid = (t: number) => 1 / (1 + Math.exp(-t))
  const winRate = bootstrapInterval(outcome.length, (drawn) => sigmoid(fitLogistic(x, y, drawn.flatMap((i) => rowOf[i]))[0]), opts)
  return { winRate: { ...winRate, value: sigmoid(intercept) }, lengthCoef, intercept }
}
