/**
 * Generalised advantage estimation and masked whitening, on the host (rollouts are small; the engine
 * is not needed). Rows are responses of different lengths: row i has `lengths[i]` valid steps.
 */

/**
 * GAE (Schulman et al. 2016) per row, with the value after the last response token taken as 0
 * (the episode ends there):
 *   delta_t = r_t + gamma * V_{t+1} - V_t,   A_t = delta_t + gamma * lambda * A_{t+1},   R_t = A_t + V_t
 */
export function gae(rewards: number[][], values: number[][], gamma: number, lambda: number): { advantages: number[][]; returns: number[][] } {
  const advantages: number[][] = []
  const returns: number[][] = []
  rewards.forEach((r, i) => {
    const v = values[i]
    const L = r.length
    const adv = new Array<number>(L).fill(0)
    let last = 0
    for (let t = L - 1; t >= 0; t--) {
      const next = t + 1 < L ? v[t + 1] : 0
      const delta = r[t] + gamma * next - v[t]
      last = delta + gamma * lambda * last
      adv[t] = last
    }
    advantages.push(adv)
    returns.push(adv.map((a, t) => a + v[t]))
  })
  return { advantages, returns }
}

/** Mean and (unbiased, as TRL's masked_var) variance over all entries of ragged rows. */
export function raggedMoments(rows: number[][]): { mean: number; variance: number; count: number } {
  let n = 0
  let s = 0
  for (const r of rows) for (const x of r) (s += x), n++
  const mean = n > 0 ? s / n : 0
  let ss = 0
  for (const r of rows) for (const x of r) ss += (x - mean) ** 2
  const variance = n > 1 ? ss / (n - 1) : 0
  return { mean, variance, count: n }
}

/** (x - mean) / sqrt(var + 1e-8) over all valid entries; `shiftMean: false` adds the mean back (TRL's masked_whiten). */
export function whiten(rows: number[][], shiftMean = true): number[][] {
  const { mean, variance } = raggedMoments(rows)
  const inv = 1 / Math.sqrt(variance + 1e-8)
  return rows.map((r) => r.map((x) => (x - mean) * inv + (shiftMean ? 0 : mean)))
}
