/**
 * Temperature-aware variants of `tokenScore` and `ppoPolicyObjective` for PPO when rollouts are
 * sampled at a temperature other than 1. The PPO ratio and the KL penalty must use the log-probs of the
 * distribution that was actually sampled, softmax(logits / temperature); TRL divides the logits by the
 * temperature in scoring and training for the same reason. With temperature 1 these equal the lead's
 * functions in objectives.ts (which PPO then uses).
 */
import { np, nn, type JArray } from './jax.ts'
import { forward, type Params } from './gpt.ts'
import { lmObjective, type Objective, type ScoreFn } from './objectives.ts'

function maskedMean(x: JArray, mask: JArray): JArray {
  const denom = np.maximum(mask.ref.sum(), 1)
  return x.mul(mask).sum().div(denom)
}

/** log-softmax of logits / temperature, its entropy, and the targets' log-probs: [N, T] each. */
function tempered(logits: JArray, temperature: JArray, targets: JArray): { lp: JArray; entropy: JArray } {
  const logp = nn.logSoftmax(logits.div(temperature), -1) // [N, T, V]
  const entropy = np.exp(logp.ref).mul(logp.ref).sum(-1).neg()
  const lp = np.takeAlongAxis(logp, targets.reshape([...targets.shape, 1]), -1).reshape(targets.shape)
  return { lp, entropy }
}

/** {inputs, targets, temperature [1]} -> {logprobs [N, T], entropy [N, T]} under softmax(logits / temperature). */
export const temperedTokenScore: ScoreFn = (p, b, c) => {
  const { lp, entropy } = tempered(forward(p, b.inputs, c), b.temperature.slice(0), b.targets)
  return { logprobs: lp, entropy }
}

/**
 * `ppoPolicyObjective` with the policy's log-probs taken at the sampling temperature.
 * Batch as there, with hyper [3] = [clipRange, ptxCoef, temperature]; the ptx LM loss stays at temperature 1.
 */
export const temperedPpoPolicyObjective: Objective = (p, b, c) => {
  const clip = b.hyper.ref.slice(0)
  const ptxCoef = b.hyper.ref.slice(1)
  const temperature = b.hyper.slice(2)
  const logits = forward(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref])) as Params, b.inputs, c)
  const { lp, entropy } = tempered(logits, temperature, b.targets)
  const logRatio = lp.sub(b.oldLogprobs)
  const ratio = np.exp(logRatio.ref)
  const adv = b.advantages
  const pg1 = adv.ref.neg().mul(ratio.ref)
  const pg2 = adv.neg().mul(np.clip(ratio.ref, clip.ref.neg().add(1), clip.ref.add(1)))
  const pgLoss = maskedMean(np.maximum(pg1.ref, pg2.ref), b.mask.ref)
  const clipfrac = maskedMean(np.greater(pg2, pg1).astype(np.float32), b.mask.ref)
  const approxkl = maskedMean(ratio.sub(1).sub(logRatio), b.mask.ref)
  const ent = maskedMean(entropy, b.mask)
  clip.dispose()
  const ptx = lmObjective(p, { inputs: b.ptxInputs, targets: b.ptxTargets, mask: b.ptxMask }, c)[0]
  const loss = pgLoss.ref.add(ptx.ref.mul(ptxCoef))
  return [loss, { pg_loss: pgLoss, clipfrac, approxkl, entropy: ent, ptx_loss: ptx }]
}
