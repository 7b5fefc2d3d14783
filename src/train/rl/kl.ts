/**
 * Per-token KL estimators between the policy and the frozen reference, from the log-probabilities of
 * the sampled tokens (Schulman, "Approximating KL divergence", 2020), and the KL-coefficient
 * controllers of Ziegler et al. 2019.
 *   k1 = logp - ref_logp                               (unbiased, can be negative per token)
 *   k3 = exp(ref_logp - logp) - (ref_logp - logp) - 1   (unbiased, always >= 0, lower variance)
 */
export type KlEstimator = 'k1' | 'k3'

export function klK1(logp: number, refLogp: number): number {
  return logp - refLogp
}

export function klK3(logp: number, refLogp: number): number {
  const r = refLogp - logp
  return Math.exp(r) - r - 1
}

/**
 * PPO's `policy/approxkl_avg` as TRL logs it: 0.5 * mean((log ratio)^2) over the response tokens of a
 * minibatch (the k2 estimator of KL(old || new)), `logp` the current policy's log-probs of the sampled
 * tokens, `oldLogp` the rollout's, `mask` 1 on response tokens. 0 when the mask is empty.
 */
export function approxKlK2(logp: ArrayLike<number>, oldLogp: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0
  let n = 0
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue
    const d = logp[i] - oldLogp[i]
    s += d * d
    n++
  }
  return n ? (0.5 * s) / n : 0
}

export function klEstimate(kind: KlEstimator, logp: number, refLogp: number): number {
  return kind === 'k3' ? klK3(logp, refLogp) : klK1(logp, refLogp)
}

export type KlController = {
  readonly value: number
  /** After an iteration: `currentKl` is the batch's mean per-sequence KL, `nSteps` its number of sequences. */
  update(currentKl: number, nSteps: number): void
  state(): { value: number }
  setState(s: { value: number }): void
}

export function createFixedKlController(coef: number): KlController {
  let value = coef
  return {
    get value() {
      return value
    },
    update() {},
    state: () => ({ value }),
    setState: (s) => void (value = s.value),
  }
}

/**
 * Ziegler et al.'s adaptive controller (as in TRL's AdaptiveKLController):
 *   e = clip(KL / target - 1, -0.2, 0.2),   beta <- beta * (1 + e * n / horizon)
 */
export function createAdaptiveKlController(init: number, target: number, horizon: number): KlController {
  let value = init
  return {
    get value() {
      return value
    },
    update(currentKl, nSteps) {
      const e = Math.min(0.2, Math.max(-0.2, currentKl / target - 1))
      value *= 1 + (e * nSteps) / horizon
    },
    state: () => ({ value }),
    setState: (s) => void (value = s.value),
  }
}
