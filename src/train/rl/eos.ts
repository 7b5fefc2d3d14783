/**
 * One rule for what a reward model scores, shared by PPO's scoring, SFT's selection by reward and the
 * evaluation's judge: the prompt followed by the response **closed by EOS**, the form every response
 * of every comparison had when the reward model was trained (formatExample appends EOS). A response
 * that emitted EOS is scored as sampled, on that EOS token; a response cut at `maxNewTokens` gets an EOS
 * appended *for scoring only*, so the reward model judges its content in the form it learned.
 * Truncation is priced explicitly: `missingEosPenalty` (TRL's missing_eos_penalty) is subtracted from
 * the scores of the rows without a sampled EOS. Everything else (PPO's per-token KL and log-probs, the
 * evaluation's KL) covers sampled tokens only; the appended EOS is never a policy token.
 *
 * Why not score a cut response as it stands (nothing appended, as TRL does and as this file did in
 * session 5): no comparison ever showed a reward model a response that ends without EOS, so its score
 * there is an extrapolation, and the extrapolation differs between two reward models trained alike.
 * Measured on issue 18's runs (320 held-out prompts x 8 SFT samples, 24 new tokens): the policy's
 * reward model and the judge ordered sample pairs alike 0.50-0.60 of the time scored as they stand,
 * 0.77-0.83 with EOS appended; the judge's win rate of the reward model's best-of-4 went from
 * 0.37-0.54 to 0.70-0.77 (docs/rlhf.md).
 */

/** The ids a reward model scores for one sampled response: prompt + response, closed by EOS. */
export function scoredSequence(prompt: number[], response: number[], eosId: number): number[] {
  return response.length && response[response.length - 1] === eosId ? prompt.concat(response) : prompt.concat(response, [eosId])
}

/** Scores minus `penalty` where the row did not end with EOS; unchanged without a penalty. */
export function penalizeMissingEos(scores: number[], finished: boolean[], penalty?: number): number[] {
  if (!penalty) return scores
  return scores.map((s, i) => (finished[i] ? s : s - penalty))
}
