/**
 * A policy against the SFT model on the same held-out prompts, with intervals (bootstrap.ts):
 * - judge: win rate (ties half), length-controlled win rate (length-control.ts), reward difference;
 * - without a reward model: ROUGE-L F1 and token F1 to the reference answer, as differences to SFT.
 *
 * Input is one `PolicySamples` per policy, [prompt][sample] matrices in the same layout for every
 * policy (sample s of prompt i of the policy is paired with sample s of prompt i of SFT).
 */
import { meanInterval, pairedMeanDifference, pairedWinRate, type BootstrapOptions, type Interval, type Rows } from './bootstrap.ts'
import { lengthControlledWinRate } from './length-control.ts'
import { rougeL, tokenF1 } from '../data/text-match.ts'

export type PolicySamples = {
  /** Judge rewards per prompt and sample. */
  rewards: Rows
  /** Response lengths in tokens (EOS not counted). */
  lengths: Rows
  /** Response texts (EOS and special tokens removed). */
  texts: string[][]
}

/** One policy's own numbers, each with its interval over prompts. */
export type PolicySummary = {
  judgeReward: Interval
  /** ROUGE-L F1 / token F1 to the reference, over the prompts that have one (absent when none has). */
  rougeL?: Interval
  tokenF1?: Interval
}

/** A policy minus SFT. */
export type VersusSft = {
  winRate: Interval
  /** Win rate at equal response lengths (see length-control.ts) and the fitted length coefficient. */
  lengthControlledWinRate: Interval
  lengthCoef: number
  rewardDifference: Interval
  rougeLDifference?: Interval
  tokenF1Difference?: Interval
}

/** Per prompt and sample: ROUGE-L F1 and token F1 of the texts to each prompt's reference (rows of prompts without one left out). */
export function referenceScores(texts: string[][], references: Array<string | undefined>): { rougeL: Rows; tokenF1: Rows; rows: number[] } {
  const rows = references.flatMap((r, i) => (r ? [i] : []))
  return {
    rows,
    rougeL: rows.map((i) => texts[i].map((t) => rougeL(t, references[i]!).f)),
    tokenF1: rows.map((i) => texts[i].map((t) => tokenF1(t, references[i]!))),
  }
}

export function summarize(p: PolicySamples, references: Array<string | undefined>, opts: BootstrapOptions): PolicySummary {
  const out: PolicySummary = { judgeReward: meanInterval(p.rewards, opts) }
  const ref = referenceScores(p.texts, references)
  if (ref.rows.length) {
    out.rougeL = meanInterval(ref.rougeL, opts)
    out.tokenF1 = meanInterval(ref.tokenF1, opts)
  }
  return out
}

export function versusSft(p: PolicySamples, sft: PolicySamples, references: Array<string | undefined>, opts: BootstrapOptions): VersusSft {
  const outcome = p.rewards.map((row, i) => row.map((v, s) => (v > sft.rewards[i][s] ? 1 : v === sft.rewards[i][s] ? 0.5 : 0)))
  const lc = lengthControlledWinRate(outcome, p.lengths, sft.lengths, opts)
  const out: VersusSft = {
    winRate: pairedWinRate(p.rewards, sft.rewards, opts),
    lengthControlledWinRate: lc.winRate,
    lengthCoef: lc.lengthCoef,
    rewardDifference: pairedMeanDifference(p.rewards, sft.rewards, opts),
  }
  const a = referenceScores(p.texts, references)
  const b = referenceScores(sft.texts, references)
  if (a.rows.length) {
    out.rougeLDifference = pairedMeanDifference(a.rougeL, b.rougeL, opts)
    out.tokenF1Difference = pairedMeanDifference(a.tokenF1, b.tokenF1, opts)
  }
  return out
}

/** Stage metrics of a comparison with SFT: each interval as value, _lo and _hi (`ppo/win_rate_vs_sft_lo`). */
export function vsSftMetrics(name: string, v: VersusSft): Record<string, number> {
  const out: Record<string, number> = {}
  const put = (key: string, x: Interval | undefined) => {
    if (!x) return
    out[`${name}/${key}`] = x.value
    out[`${name}/${key}_lo`] = x.lo
    out[`${name}/${key}_hi`] = x.hi
  }
  put('win_rate_vs_sft', v.winRate)
  put('lc_win_rate_vs_sft', v.lengthControlledWinRate)
  put('reward_diff_vs_sft', v.rewardDifference)
  put('rouge_l_diff_vs_sft', v.rougeLDifference)
  put('token_f1_diff_vs_sft', v.tokenF1Difference)
  return out
}
