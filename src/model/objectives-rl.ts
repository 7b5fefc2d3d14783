/**
 * Temperature-aware variants of `tokenScore` and `ppoPolicyObjective` for PPO when rollouts are
 * sampled at a temperature other than 1. The PPO ratio and the KL penalty must use the log-probs of the
 * distribution that was actually sampled, softmax(logits / temperature); TRL divides the logits by the
 * temperature in scoring and training for the same reason. With temperature 1 these equal the lead's
 * functions in objectives.ts (which PPO then uses).
 */
import { forward } from './gpt.ts'
import { ppoPolicyLoss, tokenLogprobs, type Objective, type ScoreFn } from './objectives.ts'

/** {inputs, targets, temperature [1]} -> {logprobs [N, T], entropy [N, T]} under softmax(logits / temperature). */
export const temperedTokenScore: ScoreFn = (p, b, c) => {
  const { lp, entropy } = tokenLogprobs(forward(p, b.inputs, c), b.targets, b.temperature.slice(0))
  return { logprobs: lp, entropy }
}

/**
 * `ppoPolicyObjective` with the policy's log-probs taken at the sampling temperature.
 * Batch as there, with hyper [3] = [clipRange, ptxCoef, temperature]; the ptx LM loss stays at temperature 1.
 */
export const temperedPpoPolicyObjective: Objective = (p, b, c) => {
  const clip = b.hyper.ref.slice(0)
  const ptxCoef = b.hyper.ref.slice(1)
  return ppoPolicyLoss(p, b, c, clip, ptxCoef, b.hyper.slice(2))
}
