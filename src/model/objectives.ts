/**
 * Training objectives and scoring functions, written once against the engine so that src/train never
 * touches it. Each takes the parameter record, a record of batch arrays (names below, shapes in
 * comments; N sequences of T tokens) and the config, and returns [scalar loss, scalar metrics].
 *
 * Batch conventions: `inputs` [N, T] int32 tokens; `targets` [N, T] int32 next tokens; `mask` [N, T]
 * float32 (1 where a position counts). Reward/value heads read `score.weight` [C] and `score.bias` [1].
 */
import { np, nn, type JArray } from './jax.ts'
import type { GPTConfig } from './config.ts'
import { forward, trunk, prefixTrunk, tokenLogProbs, type Params } from './gpt.ts'

export type Batch = Record<string, JArray>
export type Metrics = Record<string, JArray>
export type Objective = (p: Params, b: Batch, c: GPTConfig, key?: JArray) => [JArray, Metrics]
export type ScoreFn = (p: Params, b: Batch, c: GPTConfig) => Record<string, JArray>

function maskedMean(x: JArray, mask: JArray): JArray {
  const denom = np.maximum(mask.ref.sum(), 1)
  return x.mul(mask).sum().div(denom)
}

/** Next-token cross-entropy on masked positions (pretraining: mask = 1; SFT: response tokens only). */
export const lmObjective: Objective = (p, b, c, key) => {
  const logits = forward(p, b.inputs, c, { dropoutKey: key })
  const lp = tokenLogProbs(logits, b.targets)
  const loss = maskedMean(lp, b.mask).neg()
  return [loss, {}]
}

/** Scalar head on hidden states: h [N, T, C] -> [N, T]. */
function scoreHead(h: JArray, w: JArray, bias: JArray): JArray {
  const [N, T, C] = h.shape
  return np.matmul(h.reshape([N * T, C]), w.reshape([C, 1])).reshape([N, T]).add(bias)
}

/**
 * Reward of each sequence at its last token: inputs [N, T], last [N] int32 -> [N]. With `prefix` [G, Tp]
 * and `prefixLen` [G], `inputs` are the continuations of shared prefixes (see prefixTrunk) and `last`
 * indexes into them.
 */
function sequenceRewards(p: Params, b: Batch, c: GPTConfig, key?: JArray): JArray {
  const { h, wte } = b.prefix
    ? prefixTrunk(p, b.prefix, b.prefixLen, b.inputs, c, { dropoutKey: key })
    : trunk(p, b.inputs, c, { dropoutKey: key })
  wte.dispose()
  const r = scoreHead(h, p['score.weight'], p['score.bias']) // [N, T]
  const N = r.shape[0]
  return np.takeAlongAxis(r, b.last.reshape([N, 1]), 1).reshape([N])
}

/**
 * InstructGPT's reward-model loss. The N sequences are the K completions of one or more prompts, each
 * forwarded once; `win` [P] / `lose` [P] index the pairs (all C(K,2) untied pairs of each prompt) and
 * `weight` [P] is 1 / C(K,2) of the pair's prompt, so each prompt counts once:
 *   loss = - sum_p weight_p * log sigmoid(r_win - r_lose) / sum_p weight_p
 */
export const rewardObjective: Objective = (p, b, c, key) => {
  const r = sequenceRewards(p, b, c, key) // [N]
  const rw = np.take(r.ref, b.win, 0)
  const rl = np.take(r, b.lose, 0)
  const diff = rw.sub(rl) // [P]
  const wsum = np.maximum(b.weight.ref.sum(), 1e-9)
  const loss = nn.logSigmoid(diff.ref).mul(b.weight.ref).sum().neg().div(wsum.ref)
  const acc = np.greater(diff.ref, 0).astype(np.float32).mul(b.weight.ref).sum().div(wsum.ref)
  const margin = diff.mul(b.weight).sum().div(wsum)
  return [loss, { accuracy: acc, margin }]
}

/** Rewards of sequences: {inputs, last} -> {rewards [N]}. */
export const rewardScore: ScoreFn = (p, b, c) => ({ rewards: sequenceRewards(p, b, c) })

/** Values at every position: {inputs} -> {values [N, T]}. */
export const valueScore: ScoreFn = (p, b, c) => {
  const { h, wte } = trunk(p, b.inputs, c)
  wte.dispose()
  return { values: scoreHead(h, p['score.weight'], p['score.bias']) }
}

/**
 * log-softmax of logits (divided by `temperature` when given), the entropy at each position and the
 * targets' log-probs: logits [N, T, V], targets [N, T] -> lp, entropy [N, T].
 */
export function tokenLogprobs(logits: JArray, targets: JArray, temperature?: JArray): { lp: JArray; entropy: JArray } {
  const logp = nn.logSoftmax(temperature ? logits.div(temperature) : logits, -1) // [N, T, V]
  const entropy = np.exp(logp.ref).mul(logp.ref).sum(-1).neg()
  const lp = np.takeAlongAxis(logp, targets.reshape([...targets.shape, 1]), -1).reshape(targets.shape)
  return { lp, entropy }
}

/**
 * Per-token log-probabilities of targets and the policy's entropy at each position:
 * {inputs, targets} -> {logprobs [N, T], entropy [N, T]}. Used for the frozen reference, the rollout
 * policy, DPO references and evaluation (perplexity).
 */
export const tokenScore: ScoreFn = (p, b, c) => {
  const { lp, entropy } = tokenLogprobs(forward(p, b.inputs, c), b.targets)
  return { logprobs: lp, entropy }
}

/**
 * PPO-ptx policy loss (clipped surrogate) over response tokens, plus gamma_ptx * pretraining loss.
 * Batch: inputs, targets, mask [N, T]; oldLogprobs, advantages [N, T]; hyper [2] = [clipRange, ptxCoef];
 * ptxInputs, ptxTargets, ptxMask [M, T'] (M >= 1; ptxCoef 0 disables it).
 */
export const ppoPolicyObjective: Objective = (p, b, c) => {
  const clip = b.hyper.ref.slice(0)
  const ptxCoef = b.hyper.slice(1)
  return ppoPolicyLoss(p, b, c, clip, ptxCoef)
}

/**
 * The clipped surrogate and the ptx mix of `ppoPolicyObjective`, with the policy's token log-probs
 * taken at `temperature` when given (the ptx LM loss stays at temperature 1). Consumes clip, ptxCoef
 * and temperature.
 */
export function ppoPolicyLoss(p: Params, b: Batch, c: GPTConfig, clip: JArray, ptxCoef: JArray, temperature?: JArray): [JArray, Metrics] {
  // one trunk pass for the policy batch
  const logits = forward(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref])) as Params, b.inputs, c)
  const { lp, entropy } = tokenLogprobs(logits, b.targets, temperature)
  const logRatio = lp.sub(b.oldLogprobs)
  const ratio = np.exp(logRatio.ref)
  const adv = b.advantages
  const pg1 = adv.ref.neg().mul(ratio.ref)
  const pg2 = adv.neg().mul(np.clip(ratio.ref, clip.ref.neg().add(1), clip.ref.add(1)))
  const pgLoss = maskedMean(np.maximum(pg1.ref, pg2.ref), b.mask.ref)
  const clipfrac = maskedMean(np.greater(pg2, pg1).astype(np.float32), b.mask.ref)
  // approx KL (k3-style, as TRL logs): mean((ratio - 1) - log ratio)
  const approxkl = maskedMean(ratio.sub(1).sub(logRatio), b.mask.ref)
  const ent = maskedMean(entropy, b.mask)
  clip.dispose()
  const ptx = lmObjective(p, { inputs: b.ptxInputs, targets: b.ptxTargets, mask: b.ptxMask }, c)[0]
  const loss = pgLoss.ref.add(ptx.ref.mul(ptxCoef))
  return [loss, { pg_loss: pgLoss, clipfrac, approxkl, entropy: ent, ptx_loss: ptx }]
}

/**
 * Clipped value loss: values from the value model vs returns, clipped around the rollout's values.
 * Batch: inputs, mask [N, T]; oldValues, returns [N, T]; hyper [1] = [clipRangeValue].
 */
export const ppoValueObjective: Objective = (p, b, c) => {
  const v = valueScore(p, { inputs: b.inputs }, c).values // [N, T]
  const cr = b.hyper
  const vClipped = np.clip(v.ref.sub(b.oldValues.ref), cr.ref.neg(), cr).add(b.oldValues)
  const l1 = np.square(v.sub(b.returns.ref))
  const l2 = np.square(vClipped.sub(b.returns))
  const loss = maskedMean(np.maximum(l1.ref, l2.ref), b.mask.ref).mul(0.5)
  const vclipfrac = maskedMean(np.greater(l2, l1).astype(np.float32), b.mask)
  return [loss, { vf_clipfrac: vclipfrac }]
}

/**
 * DPO (Rafailov et al. 2023): sequences come in pairs, rows [0, N/2) chosen and [N/2, N) rejected.
 * Batch: inputs, targets, mask [N, T] (mask = response tokens); refLogps [N] (summed response log-probs
 * under the frozen reference); hyper [1] = [beta].
 *   loss = -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))
 */
export const dpoObjective: Objective = (p, b, c) => {
  const logits = forward(p, b.inputs, c)
  const lp = tokenLogProbs(logits, b.targets).mul(b.mask).sum(-1) // [N]
  const N = lp.shape[0]
  const h = N / 2
  const logratio = lp.sub(b.refLogps)
  const rc = logratio.ref.slice([0, h]).mul(b.hyper.ref) // implicit rewards
  const rr = logratio.slice([h, N]).mul(b.hyper)
  const margin = rc.ref.sub(rr.ref)
  const loss = nn.logSigmoid(margin.ref).mean().neg()
  const acc = np.greater(margin.ref, 0).astype(np.float32).mean()
  return [loss, { rewards_accuracy: acc, rewards_margin: margin.mean(), rewards_chosen: rc.mean(), rewards_rejected: rr.mean() }]
}

