/**
 * Reward-model score normalisation for PPO (Ziegler et al. 2019, lm-human-preferences: the reward
 * model's gain and bias are set so that its scores on samples of the initial policy have mean 0 and
 * standard deviation 1; InstructGPT likewise normalises its reward model). Measured once, before
 * training, on the SFT policy's own samples.
 *
 * Why PPO needs it here: the value model starts from the reward model and its clip
 * (`clipRangeValue`, 0.2) and the missing-EOS penalty act in the score's units. Unnormalised, those
 * units are whatever the reward model's training left them (scores of -3..+2 on our runs), so the
 * clip and the penalty meant different things on every seed.
 *
 * With `length` the fit also removes the reward model's linear trend in response length on those
 * samples, so PPO cannot gain score by writing longer (or by running to the token limit): a reward
 * model trained on comparisons where the longer answer is usually the better one learns length
 * before content (issue 18's diagnosis, docs/rlhf.md), and the judge's own length preference then
 * decides the evaluation. Only the *linear* trend measured on the SFT samples is removed; the
 * residual is what the reward model says beyond length.
 */

/** score' = (score - intercept - slope * length) / scale */
export type ScoreNorm = { intercept: number; slope: number; scale: number; /** mean response length of the samples */ meanLength: number; samples: number }

/** Fit the normalisation on raw scores and response lengths (tokens, without EOS) of initial-policy samples. */
export function fitScoreNorm(scores: readonly number[], lengths: readonly number[], length: boolean): ScoreNorm {
  const n = scores.length
  if (n < 2 || lengths.length !== n) throw new Error(`score normalisation needs >= 2 scored samples with lengths, got ${n}`)
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const ms = mean(scores)
  const ml = mean(lengths)
  let slope = 0
  if (length) {
    let cov = 0, varL = 0
    for (let i = 0; i < n; i++) {
      cov += (lengths[i] - ml) * (scores[i] - ms)
      varL += (lengths[i] - ml) ** 2
    }
    slope = varL > 0 ? cov / varL : 0
  }
  const intercept = ms - slope * ml
  let ss = 0
  for (let i = 0; i < n; i++) ss += (scores[i] - intercept - slope * lengths[i]) ** 2
  const sd = Math.sqrt(ss / (n - 1))
  // a reward model that gives every sample the same score: only shift it
  return { intercept, slope, scale: sd > 1e-6 ? sd : 1, meanLength: ml, samples: n }
}

export function applyScoreNorm(norm: ScoreNorm, scores: readonly number[], lengths: readonly number[]): number[] {
  return scores.map((s, i) => (s - norm.intercept - norm.slope * lengths[i]) / norm.scale)
}

/**
 * The same normalisation on a value model's scalar head (gain and bias), so a value model initialised
 * from the reward model starts in the normalised units. The length term has no place in a head: the
 * head is centred at the samples' mean length, and the critic learns the rest.
 */
export function normalizeHead(weight: Float32Array, bias: Float32Array, norm: ScoreNorm): { weight: Float32Array; bias: Float32Array } {
  return {
    weight: weight.map((w) => w / norm.scale),
    bias: bias.map((b) => (b - norm.intercept - norm.slope * norm.meanLength) / norm.scale),
  }
}
