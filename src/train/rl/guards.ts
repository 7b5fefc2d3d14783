/**
 * Guard rails for PPO runs, for the failures users of other RLHF tools ask about most:
 *  - mean KL to the reference going negative (the sampling and scoring distributions disagree:
 *    a temperature or generation setting not reflected in the log-probs, or a tokenization mismatch),
 *  - KL exploding (the policy has left the reference: reward hacking or a too-large learning rate),
 *  - entropy collapsing (the policy has become deterministic; PPO cannot explore any more).
 * Each check looks at a window of iterations so one noisy batch does not stop a run.
 */
export type GuardConfig = {
  /** Stop when the mean KL over the window is below -negativeKlTolerance (nats per sequence). */
  negativeKlTolerance: number
  /** Stop when the mean KL over the window exceeds this (nats per sequence). */
  maxKl: number
  /** Stop when the mean per-token entropy over the window is below this (nats). */
  minEntropy: number
  /** Iterations averaged by each check. */
  window: number
  /** false: only warn. */
  stop: boolean
}

export const defaultGuardConfig: GuardConfig = { negativeKlTolerance: 0.5, maxKl: 20, minEntropy: 0.05, window: 3, stop: true }

export type GuardTrip = { reason: 'negative_kl' | 'kl_explosion' | 'entropy_collapse'; message: string; value: number }

export function createGuards(cfg: GuardConfig) {
  const kls: number[] = []
  const ents: number[] = []
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return {
    /** Record one iteration; returns the first rule that trips (once the window is full), if any. */
    observe(kl: number, entropy: number): GuardTrip | null {
      kls.push(kl)
      ents.push(entropy)
      if (kls.length > cfg.window) kls.shift(), ents.shift()
      if (kls.length < cfg.window) return null
      const k = mean(kls)
      const e = mean(ents)
      if (!Number.isFinite(k) || k > cfg.maxKl)
        return { reason: 'kl_explosion', value: k, message: `mean KL to the reference over the last ${cfg.window} iterations is ${k.toFixed(3)} nats (> maxKl ${cfg.maxKl}): the policy has left the reference; lower the learning rate or raise the KL coefficient` }
      if (k < -cfg.negativeKlTolerance)
        return { reason: 'negative_kl', value: k, message: `mean KL to the reference over the last ${cfg.window} iterations is ${k.toFixed(3)} nats (< -${cfg.negativeKlTolerance}): sampling and scoring disagree (temperature, top-k/top-p or a tokenizer mismatch); a true KL is never negative` }
      if (e < cfg.minEntropy)
        return { reason: 'entropy_collapse', value: e, message: `mean policy entropy over the last ${cfg.window} iterations is ${e.toFixed(4)} nats (< minEntropy ${cfg.minEntropy}): the policy has collapsed to near-deterministic outputs` }
      return null
    },
    state: () => ({ kls: kls.slice(), ents: ents.slice() }),
    setState(s: { kls: number[]; ents: number[] }) {
      kls.splice(0, kls.length, ...s.kls)
      ents.splice(0, ents.length, ...s.ents)
    },
  }
}
