/**
 * Can the judge see what PPO optimises? On the SFT model's own samples (the distribution PPO starts
 * from), how often the policy's reward model and the judge order two samples of one prompt the same
 * way, and how often the judge prefers the reward model's pick of the first S-1 samples (best-of-(S-1))
 * to the last sample. Both are measured before any RL, so they bound what PPO on that reward model can
 * show on that judge: at an agreement near 0.5, climbing the reward model moves the judge's win rate by
 * chance only (issue 18, docs/rlhf.md).
 */
import { meanInterval, type BootstrapOptions, type Interval } from './bootstrap.ts'

export type RewardJudgeAgreement = {
  /** Share of untied sample pairs (same prompt) that the reward model and the judge order alike. */
  agreement: Interval
  /** Judge win rate of the reward model's best of the first `bestOf` samples over the last sample (tie 0.5). */
  bestOfWinRate?: Interval
  bestOf: number
  /** Prompts with at least one pair both models untie. */
  prompts: number
  pairs: number
}

/** `reward[i][s]`, `judge[i][s]`: scores of sample s of prompt i. Undefined when no prompt has two samples. */
export function rewardJudgeAgreement(reward: number[][], judge: number[][], opts: BootstrapOptions = {}): RewardJudgeAgreement | undefined {
  const agree: number[][] = []
  let pairs = 0
  for (const [i, r] of reward.entries()) {
    const j = judge[i]
    const row: number[] = []
    for (let s = 0; s < r.length; s++)
      for (let t = s + 1; t < r.length; t++) {
        const dr = Math.sign(r[s] - r[t]), dj = Math.sign(j[s] - j[t])
        if (dr !== 0 && dj !== 0) row.push(dr === dj ? 1 : 0)
      }
    if (row.length) agree.push(row)
    pairs += row.length
  }
  if (!agree.length) return undefined
  const S = Math.min(...reward.map((r) => r.length))
  const bestOf = S - 1
  let bestOfWinRate: Interval | undefined
  if (bestOf >= 2) {
    const wins = reward.map((r, i) => {
      let best = 0
      for (let s = 1; s < bestOf; s++) if (r[s] > r[best]) best = s
      const d = judge[i][best] - judge[i][S - 1]
      return [d > 0 ? 1 : d === 0 ? 0.5 : 0]
    })
    bestOfWinRate = meanInterval(wins, opts)
  }
  return { agreement: meanInterval(agree, opts), ...(bestOfWinRate ? { bestOfWinRate } : {}), bestOf, prompts: agree.length, pairs }
}
