/**
 * One rule for what a reward model scores, shared by PPO's scoring, SFT's selection by reward and the
 * evaluation (as TRL does): the prompt followed by the response exactly as sampled. A response that
 * emitted EOS ends with it, and the score is read on that EOS token (the reward model was trained on
 * responses closed by EOS). A response cut at `maxNewTokens` is scored at its last sampled token;
 * nothing is appended, so a truncated answer does not look finished to the reward model, and the KL of
 * the evaluation sums over sampled tokens only. `missingEosPenalty` (TRL's missing_eos_penalty) is
 * then subtracted from the scores of the rows without EOS.
 */

/** The ids a reward model scores for one sampled response: prompt + response as sampled. */
export function scoredSequence(prompt: number[], response: number[]): number[] {
  return prompt.concat(response)
}

/** Scores minus `penalty` where the row did not end with EOS; unchanged without a penalty. */
export function penalizeMissingEos(scores: number[], finished: boolean[], penalty?: number): number[] {
  if (!penalty) return scores
  return scores.map((s, i) => (finished[i] ? s : s - penalty))
}
