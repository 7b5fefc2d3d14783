/**
 * PPO-ptx, InstructGPT's RL step (Ouyang et al. 2022; Ziegler et al. 2019; details as in TRL's PPOTrainer
 * and Huang et al. 2024, "The N+ implementation details of RLHF with PPO").
 *
 * One iteration:
 *  1. rollouts: a batch of prompts, responses sampled from the policy with the KV-cache generator
 *     (per-row prompt lengths, stop at EOS, at most `maxNewTokens`);
 *  2. scoring (no gradients): policy and frozen reference log-probs of the sampled tokens (`tokenScore`),
 *     per-token KL (k1 = logp - ref, k3 = exp(ref - logp) - (ref - logp) - 1; one enters the reward,
 *     both are logged), the reward model's score at the last token (minus `missingEosPenalty` for rows
 *     that did not end with EOS), values from the value model;
 *  3. rewards = -klCoef * kl per token + score at the last response token; GAE (gamma, lambda);
 *     advantages whitened over all response tokens; returns = advantages + values;
 *  4. `ppoEpochs` passes over shuffled minibatches: policy step on the clipped surrogate plus
 *     ptxCoef * pretraining LM loss (`ppoPolicyObjective`), value step on the clipped value loss
 *     (`ppoValueObjective`);
 *  5. KL controller update (fixed, or Ziegler's adaptive one), metrics row, guard rails, checkpoint.
 *
 * In code: `setupPpo` (load, check, resume, engine objects), `rolloutPpo` (steps 1-3), `updatePpo` (step 4),
 * `iterationRow` (step 5's metrics); `trainPpo` runs them in a loop with the checkpoints and guard rails.
 * Metrics use TRL's names (see docs/rlhf.md); checkpoints (policy + value + optimizer moments + state)
 * are written atomically each `checkpointEvery` iterations and a rerun resumes from the last one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { writeDirAtomic, writeFileAtomicSync } from '../util/atomic.ts'
import { createProgress } from '../util/progress.ts'
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.ts'
import { createTrainable, createScorer, disposeParams, uploadParams, type HostBatch } from '../model/trainable.ts'
import { ppoPolicyObjective, ppoValueObjective, rewardScore, tokenScore, valueScore } from '../model/objectives.ts'
import { temperedPpoPolicyObjective, temperedTokenScore } from '../model/objectives-rl.ts'
import { createGenerator } from '../model/generate.ts'
import type { GPTConfig } from '../model/config.ts'
import type { HostParams, Params } from '../model/gpt.ts'
import { createRng, type Rng } from '../model/rng.ts'
import { loadTokenizer, formatPrompt, type Tokenizer } from '../tokenizer/index.ts'
import { createMetricsLog, type MetricsRow } from './metrics.ts'
import { headTensors, runPaths } from './loop.ts'
import { defaultPpoConfig, type PpoConfig } from './ppo-config.ts'
import { bucketLength, scoreBatch, shuffled } from './collate.ts'
import { randomWindows } from './lmdata.ts'
import { gae, whiten } from './rl/advantages.ts'
import { klK1, klK3, approxKlK2, createAdaptiveKlController, createFixedKlController, type KlEstimator, type KlController } from './rl/kl.ts'
import { createGuards, defaultGuardConfig, type GuardConfig, type GuardTrip } from './rl/guards.ts'
import { layoutOf, sequenceBatch, gatherRows, scatterRows, selectRows, type Rollout } from './rl/rollout.ts'
import { scoredSequence, penalizeMissingEos } from './rl/eos.ts'
import { applyScoreNorm, fitScoreNorm, normalizeHead, type ScoreNorm } from './rl/score-norm.ts'

/** Where rewards come from: a trained reward model, or a scripted scorer (tests, toy tasks). */
export { defaultPpoConfig, checkPpoSettings, type PpoConfig, type PpoSettings, type PpoSettingsPatch, type RewardSource } from './ppo-config.ts'

export type PpoResult = {
  modelDir: string
  valueDir: string
  metricsFile: string
  summaryFile: string
  history: MetricsRow[]
  resumedFrom: number | null
  /** Set when a guard rail stopped the run early. */
  stopped?: GuardTrip & { iteration: number }
}

export type PpoInput = Partial<Omit<PpoConfig, 'kl' | 'guards'>> &
  Pick<PpoConfig, 'policyDir' | 'reward' | 'prompts' | 'outDir'> & { kl?: Partial<PpoConfig['kl']>; guards?: Partial<GuardConfig> }

type State = { iteration: number; iterations: number; kl: { value: number }; guards: { kls: number[]; ents: number[] }; scoreNorm?: ScoreNorm }

function tokenizerOf(dir: string): Tokenizer | undefined {
  try {
    return loadTokenizer(dir)
  } catch {
    return undefined
  }
}

/** Refuse models that cannot read each other's tokens: vocab sizes and tokenizer fingerprints must agree. */
function checkCompatible(policy: LoadedCheckpoint, tok: Tokenizer | undefined, other: LoadedCheckpoint, what: string): void {
  if (other.config.vocabSize !== policy.config.vocabSize)
    throw new Instruct3Error(`${what} has vocab_size ${other.config.vocabSize} but the policy has ${policy.config.vocabSize}: its tokenizer differs from the policy's`, {
      code: 'ETOKENIZER_MISMATCH',
      details: { file: join(other.dir, 'config.json'), field: 'vocab_size' },
    })
  const fpA = tok?.fingerprint ?? (policy.meta.tokenizer_fingerprint as string | undefined)
  const fpB = tokenizerOf(other.dir)?.fingerprint ?? (other.meta.tokenizer_fingerprint as string | undefined)
  if (fpA && fpB && fpA !== fpB)
    throw new Instruct3Error(`${what} was trained with a different tokenizer than the policy (fingerprints differ)`, {
      code: 'ETOKENIZER_MISMATCH',
      details: { file: other.dir, field: 'tokenizer_fingerprint' },
    })
}

function headParams(ck: LoadedCheckpoint, what: string): HostParams {
  const w = ck.extraTensors['score.weight']
  const b = ck.extraTensors['score.bias']
  if (!w || !b) throw new Instruct3Error(`${what} has no scalar head (score.weight / score.bias): not a reward/value model`, { code: 'ERM', details: { file: ck.dir } })
  return { ...ck.params, 'score.weight': w.data, 'score.bias': b.data }
}

/** Response tokens without the EOS (a cut response: all of them). */
const responseLength = (r: Rollout): number => (r.finished ? r.response.length - 1 : r.response.length)

/**
 * Sample `scoreNormSamples` responses from the initial policy (prompts in a seeded order of their own,
 * batches of `rolloutBatch`) and fit the score normalisation on their raw scores.
 */
function measureScoreNorm(cfg: PpoConfig, prompts: number[][], sample: (batch: number[][], rng: Rng) => Rollout[], rawScores: (rows: Rollout[]) => number[]): ScoreNorm {
  const r = createRng(cfg.seed * 7919 + 104_729)
  const order = shuffled(prompts.map((_, i) => i), () => r.next())
  const scores: number[] = []
  const lengths: number[] = []
  for (let done = 0; done < cfg.scoreNormSamples; done += cfg.rolloutBatch) {
    const batch = Array.from({ length: cfg.rolloutBatch }, (_, j) => prompts[order[(done + j) % order.length]])
    const rows = sample(batch, createRng(cfg.seed * 1_000_003 - 1 - done))
    const n = Math.min(cfg.rolloutBatch, cfg.scoreNormSamples - done)
    scores.push(...rawScores(rows).slice(0, n))
    lengths.push(...rows.slice(0, n).map(responseLength))
  }
  return fitScoreNorm(scores, lengths, cfg.scoreNormLength)
}

const mean = (xs: number[] = []) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/**
 * Set up a PPO run: check the config, load and check every model before any training, restore the
 * state of an interrupted run, and build the engine objects, logs and helpers one iteration uses.
 */
async function setupPpo(input: PpoInput) {
  const cfg: PpoConfig = {
    ...defaultPpoConfig,
    ...input,
    kl: { ...defaultPpoConfig.kl, ...input.kl },
    guards: { ...defaultPpoConfig.guards, ...input.guards },
  }
  // ---------- load and check everything before any training ----------
  const bad = (field: string, why: string) => new Instruct3Error(why, { code: 'ECONFIG', details: { field } })
  for (const k of ['iterations', 'rolloutBatch', 'miniBatch', 'ppoEpochs', 'maxNewTokens', 'ptxBatch'] as const)
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) throw bad(k, `must be a positive integer, got ${cfg[k]}`)
  if (!Number.isInteger(cfg.scoreNormSamples) || cfg.scoreNormSamples < 0 || cfg.scoreNormSamples === 1)
    throw bad('scoreNormSamples', `must be 0 (off) or an integer >= 2, got ${cfg.scoreNormSamples}`)
  if (cfg.rolloutBatch % cfg.miniBatch !== 0) throw bad('miniBatch', `rolloutBatch (${cfg.rolloutBatch}) must be a multiple of miniBatch (${cfg.miniBatch})`)
  if (!(cfg.kl.coef >= 0)) throw bad('kl.coef', `must be >= 0, got ${cfg.kl.coef}`)
  if (cfg.kl.estimator !== 'k1' && cfg.kl.estimator !== 'k3') throw bad('kl.estimator', `must be "k1" or "k3", got ${String(cfg.kl.estimator)}`)
  if (!(cfg.temperature > 0)) throw bad('temperature', 'PPO samples from the policy: temperature must be > 0')

  const policyCk = loadCheckpoint(cfg.policyDir)
  const config: GPTConfig = policyCk.config
  const tok = tokenizerOf(cfg.policyDir)
  const eosId = cfg.tokens?.eosId ?? tok?.eosId
  const padId = cfg.tokens?.padId ?? tok?.padId
  if (eosId === undefined || padId === undefined)
    throw new Instruct3Error('the policy directory has no tokenizer: give `tokens: {eosId, padId}`', { code: 'ETOKENIZER', details: { file: cfg.policyDir } })
  const refCk = cfg.refDir && cfg.refDir !== cfg.policyDir ? loadCheckpoint(cfg.refDir) : policyCk
  if (refCk !== policyCk) checkCompatible(policyCk, tok, refCk, 'the reference model')
  const rmCk = 'modelDir' in cfg.reward ? loadCheckpoint(cfg.reward.modelDir) : undefined
  if (rmCk) {
    checkCompatible(policyCk, tok, rmCk, 'the reward model')
    headParams(rmCk, 'the reward model')
  }
  const valueDir = cfg.valueDir ?? rmCk?.dir
  const valueCk = valueDir ? (valueDir === rmCk?.dir ? rmCk : loadCheckpoint(valueDir)) : undefined
  if (valueCk && valueCk !== rmCk) checkCompatible(policyCk, tok, valueCk, 'the value model')

  let prompts: number[][]
  const promptFile = Array.isArray(cfg.prompts) ? undefined : cfg.prompts.file
  if (!Array.isArray(cfg.prompts)) {
    if (!tok) throw new Instruct3Error('prompt rows need the tokenizer in the policy directory', { code: 'ETOKENIZER', details: { file: cfg.policyDir } })
    prompts = cfg.prompts.rows.map((p) => formatPrompt(tok, p.prompt))
  } else prompts = cfg.prompts.map((p) => Array.from(p))
  if (prompts.length === 0) throw new Instruct3Error('no prompts', { code: 'EEMPTY', details: { file: promptFile } })
  const nCtx = Math.min(config.nCtx, refCk.config.nCtx, rmCk?.config.nCtx ?? Infinity, valueCk?.config.nCtx ?? Infinity)
  // a reward model scores a cut response with an EOS appended (rl/eos.ts): one token more
  const room = rmCk ? 1 : 0
  prompts.forEach((p, i) => {
    if (p.length < 1) throw new Instruct3Error('empty prompt', { code: 'EFORMAT', details: { file: promptFile, field: `prompts[${i}]` } })
    if (p.length + cfg.maxNewTokens + room > nCtx)
      throw new Instruct3Error(`prompt of ${p.length} tokens + maxNewTokens ${cfg.maxNewTokens}${room ? ' + the EOS the reward model scores' : ''} exceeds the context (${nCtx})`, {
        code: 'ECONTEXT',
        details: { file: promptFile, field: `prompts[${i}]` },
      })
    if (p.some((t) => !Number.isInteger(t) || t < 0 || t >= config.vocabSize))
      throw new Instruct3Error(`token id out of range [0, ${config.vocabSize})`, { code: 'EFORMAT', details: { file: promptFile, field: `prompts[${i}]` } })
  })
  const maxPrompt = Math.max(...prompts.map((p) => p.length))
  const T = bucketLength(maxPrompt + cfg.maxNewTokens, nCtx) // one shape for every rollout batch
  const usePtx = cfg.ptxTokens !== undefined && cfg.ptxCoef > 0
  const ptxT = Math.min(cfg.ptxLength ?? T, config.nCtx)
  if (usePtx && cfg.ptxTokens!.length < ptxT + 2) throw bad('ptxTokens', `pretraining stream has ${cfg.ptxTokens!.length} tokens, fewer than one window of ${ptxT + 1}`)

  // ---------- resume ----------
  mkdirSync(cfg.outDir, { recursive: true })
  const paths = { ...runPaths(cfg.outDir), value: join(cfg.outDir, 'value'), summary: join(cfg.outDir, 'summary.json') }
  let policyInit: HostParams = policyCk.params
  let policyOpt: { m: HostParams; v: HostParams; step: number } | undefined
  let valueInit: HostParams
  let valueConfig: GPTConfig
  if (valueCk) {
    valueInit = headParams(valueCk, 'the value model')
    valueConfig = valueCk.config
  } else {
    // scripted reward and no value model: the policy's trunk with a zero head
    valueInit = { ...policyCk.params, 'score.weight': new Float32Array(config.nEmbd), 'score.bias': new Float32Array(1) }
    valueConfig = config
  }
  let valueOpt: { m: HostParams; v: HostParams; step: number } | undefined
  let state: State | undefined
  const stateFile = join(paths.checkpoint, 'ppo_state.json')
  if (existsSync(stateFile)) {
    const st = JSON.parse(readFileSync(stateFile, 'utf8')) as State
    if (st.iterations === cfg.iterations) {
      const p = loadCheckpoint(join(paths.checkpoint, 'policy'), { optimizer: true })
      const v = loadCheckpoint(join(paths.checkpoint, 'value'), { optimizer: true })
      policyInit = p.params
      policyOpt = p.optimizer
      valueInit = headParams(v, 'the value checkpoint')
      valueOpt = v.optimizer
      state = st
    }
  }
  const start = state?.iteration ?? 0

  // ---------- engine objects ----------
  const adamw = { weightDecay: 0, gradClip: cfg.gradClip }
  // sampling at temperature != 1: score and train on softmax(logits / temperature), the distribution sampled
  const tempered = cfg.temperature !== 1
  const tempBatch: HostBatch = tempered ? { temperature: { data: Float32Array.of(cfg.temperature), shape: [1] } } : {}
  const policy = createTrainable({ config, params: policyInit, objective: tempered ? temperedPpoPolicyObjective : ppoPolicyObjective, adamw, optimizer: policyOpt })
  const refParams: Params = uploadParams(refCk.config, refCk.params)
  const rmParams: Params | undefined = rmCk ? uploadParams(rmCk.config, headParams(rmCk, 'the reward model')) : undefined
  const scoreFn = tempered ? temperedTokenScore : tokenScore
  const policyScorer = createScorer(config, scoreFn)
  const refScorer = JSON.stringify(refCk.config) === JSON.stringify(config) ? policyScorer : createScorer(refCk.config, scoreFn)
  const valueScorer = createScorer(valueConfig, valueScore)
  const rmScorer = rmCk ? createScorer(rmCk.config, rewardScore) : undefined
  const gen = createGenerator(config)
  // responses of the current policy to a batch of prompts, as PPO samples them (rollouts and the score normalisation)
  const sample = (batch: number[][], rng: Rng): Rollout[] => {
    const g = gen.generate(policy.deviceParams(), batch, { maxNewTokens: cfg.maxNewTokens, temperature: cfg.temperature, topK: cfg.topK, topP: cfg.topP, eosId, rng })
    return batch.map((p, i) => ({ prompt: p, response: g.tokens[i], finished: g.finished[i] }))
  }
  // the reward model's (or the scripted reward's) score of each row, raw; normalised when scoreNorm is set
  const rawScores = (rows: Rollout[]): number[] => {
    if (rmScorer && rmParams && rmCk) {
      // + 1: a cut response is scored with an EOS appended (rl/eos.ts)
      const rmT = bucketLength(maxPrompt + cfg.maxNewTokens + 1, rmCk.config.nCtx)
      return Array.from(rmScorer.score(rmParams, scoreBatch(rows.map((x) => scoredSequence(x.prompt, x.response, eosId)), rmT, padId)).rewards)
    }
    const fn = (cfg.reward as { fn: (p: number[], r: number[]) => number }).fn
    return rows.map((x) => fn(x.prompt, x.finished ? x.response.slice(0, -1) : x.response))
  }
  let scoreNorm = state?.scoreNorm
  if (!state && cfg.scoreNormSamples > 0) {
    scoreNorm = measureScoreNorm(cfg, prompts, sample, rawScores)
    // a value model that starts from the reward model starts in the normalised units too
    if (valueCk === rmCk) {
      const h = normalizeHead(valueInit['score.weight'], valueInit['score.bias'], scoreNorm)
      valueInit = { ...valueInit, 'score.weight': h.weight, 'score.bias': h.bias }
    }
  }
  const scoresOf = (rows: Rollout[]): { raw: number[]; scores: number[] } => {
    const raw = rawScores(rows)
    return { raw, scores: scoreNorm ? applyScoreNorm(scoreNorm, raw, rows.map(responseLength)) : raw }
  }
  const value = createTrainable({ config: valueConfig, params: valueInit, objective: ppoValueObjective, adamw, optimizer: valueOpt })
  const klCtl: KlController = cfg.kl.adaptive
    ? createAdaptiveKlController(cfg.kl.coef, cfg.kl.adaptive.target, cfg.kl.adaptive.horizon)
    : createFixedKlController(cfg.kl.coef)
  const guards = createGuards(cfg.guards)
  if (state) {
    klCtl.setState(state.kl)
    guards.setState(state.guards)
  }
  // rows are numbered by completed iterations (step = it + 1); resume keeps rows 1..start
  const metrics = createMetricsLog(paths.metrics, state ? start : undefined)
  const timing = createMetricsLog(paths.timing, state ? start : undefined)
  const progress = createProgress({ label: 'ppo', total: cfg.iterations, unit: 'iter', quiet: cfg.quiet })
  progress.set(start)
  const history: MetricsRow[] = []
  const meta = { ...policyCk.meta, stage: 'ppo', tokenizer_fingerprint: tok?.fingerprint ?? policyCk.meta.tokenizer_fingerprint }

  // Prompt order: epoch-wise shuffles that are a pure function of (seed, epoch), so resume replays them.
  const perms = new Map<number, number[]>()
  const promptOrder = (iteration: number): number[][] => {
    const out: number[][] = []
    for (let j = 0; j < cfg.rolloutBatch; j++) {
      const g = iteration * cfg.rolloutBatch + j
      const epoch = Math.floor(g / prompts.length)
      let perm = perms.get(epoch)
      if (!perm) {
        const r = createRng(cfg.seed * 7919 + epoch)
        perm = shuffled(prompts.map((_, i) => i), () => r.next())
        if (perms.size > 2) perms.clear()
        perms.set(epoch, perm)
      }
      out.push(prompts[perm[g % prompts.length]])
    }
    return out
  }
  const dummyPtx: HostBatch = {
    ptxInputs: { data: new Int32Array(16), shape: [1, 16] },
    ptxTargets: { data: new Int32Array(16), shape: [1, 16] },
    ptxMask: { data: new Float32Array(16), shape: [1, 16] },
  }
  const ptxBatch = (rng: Rng): HostBatch => {
    if (!usePtx) return dummyPtx
    const w = randomWindows(cfg.ptxTokens!, cfg.ptxBatch, ptxT, rng)
    return { ptxInputs: w.inputs, ptxTargets: w.targets, ptxMask: w.mask }
  }

  const saveAll = async (iteration: number, final: boolean) => {
    const policyHost = policy.hostParams()
    const valueHost = value.hostParams()
    const { base: valueTrunk, extraTensors: head } = headTensors(valueConfig, valueHost)
    if (final) {
      await saveCheckpoint(paths.model, config, policyHost, { meta: { ...meta, iteration }, copyFrom: cfg.policyDir })
      await saveCheckpoint(paths.value, valueConfig, valueTrunk, { meta: { stage: 'ppo-value', iteration }, extraTensors: head, copyFrom: valueCk?.dir ?? cfg.policyDir })
      return
    }
    // policy, value and state in one directory swapped in atomically: they always belong together
    await writeDirAtomic(paths.checkpoint, async (tmp) => {
      await saveCheckpoint(join(tmp, 'policy'), config, policyHost, { meta: { ...meta, iteration }, optimizer: policy.optimizerState() })
      await saveCheckpoint(join(tmp, 'value'), valueConfig, valueTrunk, { extraTensors: head, optimizer: value.optimizerState() })
      const st: State = { iteration, iterations: cfg.iterations, kl: klCtl.state(), guards: guards.state(), ...(scoreNorm ? { scoreNorm } : {}) }
      writeFileAtomicSync(join(tmp, 'ppo_state.json'), JSON.stringify(st, null, 2) + '\n')
    })
  }

  return { cfg, prompts, promptFile, T, maxPrompt, usePtx, eosId, padId, tempered, tempBatch, config, valueConfig, valueCk, rmCk, policy, value, refParams, rmParams, policyScorer, refScorer, valueScorer, rmScorer, gen, klCtl, guards, metrics, timing, progress, history, paths, state, start, promptOrder, ptxBatch, saveAll, sample, scoresOf, scoreNorm }
}

/** One PPO run's parts, as `setupPpo` builds them. */
type PpoRun = Awaited<ReturnType<typeof setupPpo>>

/**
 * Steps 1-3 of an iteration: sample responses to a batch of prompts, score them (policy and reference
 * log-probs, values, reward), and turn the scores into per-token rewards, advantages and returns.
 */
function rolloutPpo(run: PpoRun, it: number, rng: Rng) {
  const { cfg, T, padId, tempBatch, policy, value, refParams, policyScorer, refScorer, valueScorer, klCtl, promptOrder } = run
  // ---- 1. rollouts ----
  let t0 = performance.now()
  const batchPrompts = promptOrder(it)
  const rows = run.sample(batchPrompts, rng)
  const tGen = (performance.now() - t0) / 1000

  // ---- 2. scoring ----
  t0 = performance.now()
  const layout = layoutOf(rows, T)
  const seqBatch = sequenceBatch(rows, T, padId)
  const pol = policyScorer.score(policy.deviceParams(), { inputs: seqBatch.inputs, targets: seqBatch.targets, ...tempBatch })
  const ref = refScorer.score(refParams, { inputs: seqBatch.inputs, targets: seqBatch.targets, ...tempBatch })
  const vals = valueScorer.score(value.deviceParams(), { inputs: seqBatch.inputs }).values
  const { raw: rawScores, scores: normScores } = run.scoresOf(rows)
  const scores = penalizeMissingEos(normScores, rows.map((x) => x.finished), cfg.missingEosPenalty)
  const logp = gatherRows(pol.logprobs, layout)
  const refLogp = gatherRows(ref.logprobs, layout)
  const entropy = gatherRows(pol.entropy, layout)
  const values = gatherRows(vals, layout)
  const k1 = logp.map((r, i) => r.map((x, t) => klK1(x, refLogp[i][t])))
  const k3 = logp.map((r, i) => r.map((x, t) => klK3(x, refLogp[i][t])))
  const kl = cfg.kl.estimator === 'k3' ? k3 : k1
  const coef = klCtl.value

  // ---- 3. rewards, GAE, whitening ----
  const nonScore = kl.map((r) => r.map((x) => -coef * x))
  let rewards = nonScore.map((r, i) => r.map((x, t) => (t === r.length - 1 ? x + scores[i] : x)))
  if (cfg.whitenRewards) rewards = whiten(rewards, false)
  const { advantages, returns } = gae(rewards, values, cfg.gamma, cfg.lambda)
  const advW = whiten(advantages)
  const tScore = (performance.now() - t0) / 1000

  return { rows, seqBatch, layout, pol, scores, rawScores, k1, k3, kl, entropy, values, nonScore, advW, returns, coef, tGen, tScore }
}

/** Step 4: `ppoEpochs` passes over shuffled minibatches of the rollout, a policy and a value step each (the value step only with `valueOnly`). */
async function updatePpo(run: PpoRun, r: ReturnType<typeof rolloutPpo>, rng: Rng, valueOnly = false): Promise<{ acc: Record<string, number[]>; tTrain: number }> {
  const { cfg, T, usePtx, tempered, policy, value, ptxBatch } = run
  const { rows, seqBatch, layout, pol, values, advW, returns } = r
  // ---- 4. PPO epochs ----
  const t0 = performance.now()
  const full: HostBatch = {
    ...seqBatch,
    oldLogprobs: { data: pol.logprobs, shape: [rows.length, T] },
    advantages: { data: scatterRows(advW, layout), shape: [rows.length, T] },
    oldValues: { data: scatterRows(values, layout), shape: [rows.length, T] },
    returns: { data: scatterRows(returns, layout), shape: [rows.length, T] },
  }
  const pHyper = tempered
    ? { data: Float32Array.of(cfg.clipRange, usePtx ? cfg.ptxCoef : 0, cfg.temperature), shape: [3] }
    : { data: Float32Array.of(cfg.clipRange, usePtx ? cfg.ptxCoef : 0), shape: [2] }
  const vHyper = { data: Float32Array.of(cfg.clipRangeValue), shape: [1] }
  const acc: Record<string, number[]> = {}
  const push = (k: string, v: number) => (acc[k] ??= []).push(v)
  for (let e = 0; e < cfg.ppoEpochs; e++) {
    const order = shuffled(rows.map((_, i) => i), () => rng.next())
    for (let s = 0; s < rows.length; s += cfg.miniBatch) {
      const idx = order.slice(s, s + cfg.miniBatch)
      const mb = selectRows(full, idx, rows.length)
      if (!valueOnly) {
        // TRL's approxkl (k2) needs the policy's log-probs before this minibatch's step; the objective only
        // reports the k3 form, so score the minibatch once (a forward pass, no gradients)
        const now = run.policyScorer.score(policy.deviceParams(), { inputs: mb.inputs, targets: mb.targets, ...run.tempBatch }).logprobs
        push('approxkl', approxKlK2(now, mb.oldLogprobs.data as Float32Array, mb.mask.data as Float32Array))
        // async reads: the updates run on the WASM worker pool when there is one
        const pr = await policy.accumulateAsync({ inputs: mb.inputs, targets: mb.targets, mask: mb.mask, oldLogprobs: mb.oldLogprobs, advantages: mb.advantages, hyper: pHyper, ...ptxBatch(rng) })
        await policy.updateAsync(cfg.policyLr)
        push('approxkl_k3', pr.metrics.approxkl)
        push('clipfrac', pr.metrics.clipfrac)
        push('pg_loss', pr.metrics.pg_loss)
        push('entropy', pr.metrics.entropy)
        push('ptx_loss', pr.metrics.ptx_loss)
      }
      const vr = await value.accumulateAsync({ inputs: mb.inputs, mask: mb.mask, oldValues: mb.oldValues, returns: mb.returns, hyper: vHyper })
      await value.updateAsync(cfg.valueLr)
      push('vf_loss', vr.loss)
      push('vf_clipfrac', vr.metrics.vf_clipfrac)
    }
  }
  const tTrain = (performance.now() - t0) / 1000

  return { acc, tTrain }
}

/** Step 5's metrics row (TRL's names); it also moves the KL controller on. */
function iterationRow(run: PpoRun, it: number, r: ReturnType<typeof rolloutPpo>, u: { acc: Record<string, number[]>; tTrain: number }): { row: MetricsRow; k1Seq: number; entTok: number; scoreMean: number } {
  const { klCtl, usePtx } = run
  const { rows, scores, rawScores, k1, k3, kl, entropy, nonScore, coef, tGen, tScore } = r
  const { acc, tTrain } = u
  // ---- 5. bookkeeping ----
  const klSeq = mean(kl.map(sum))
  const k1Seq = mean(k1.map(sum))
  const nonScoreSeq = mean(nonScore.map(sum))
  const scoreMean = mean(scores)
  const tokens = sum(rows.map((r) => r.response.length))
  const entTok = sum(entropy.map(sum)) / Math.max(1, tokens)
  klCtl.update(klSeq, rows.length)
  const row: MetricsRow = {
    step: it + 1,
    'objective/kl': klSeq,
    'objective/kl_k1': k1Seq,
    'objective/kl_k3': mean(k3.map(sum)),
    'objective/entropy': mean(entropy.map(sum)),
    'objective/non_score_reward': nonScoreSeq,
    'objective/rlhf_reward': scoreMean + nonScoreSeq,
    'objective/scores': scoreMean,
    // the reward model's own units, before normalisation and the missing-EOS penalty (equal to scores without either)
    'objective/scores_raw': mean(rawScores),
    'objective/kl_coef': coef,
    'policy/approxkl_avg': mean(acc.approxkl),
    'policy/approxkl_k3_avg': mean(acc.approxkl_k3),
    'policy/clipfrac_avg': mean(acc.clipfrac),
    'policy/entropy_avg': mean(acc.entropy),
    'loss/policy_avg': mean(acc.pg_loss),
    'loss/value_avg': mean(acc.vf_loss),
    'val/clipfrac_avg': mean(acc.vf_clipfrac),
    'ptx/loss': usePtx ? mean(acc.ptx_loss) : 0,
    'val/ratio_eos': rows.filter((r) => r.finished).length / rows.length,
    'val/response_length': tokens / rows.length,
    'time/generation': tGen,
    'time/scoring': tScore,
    'time/training': tTrain,
  }
  return { row, k1Seq, entTok, scoreMean }
}

export async function trainPpo(input: PpoInput): Promise<PpoResult> {
  const run = await setupPpo(input)
  const { cfg, prompts, metrics, timing, progress, history, guards, paths, state, start, saveAll } = run
  let stopped: PpoResult['stopped']
  try {
    for (let it = start; it < cfg.iterations; it++) {
      const rng = createRng(cfg.seed * 1_000_003 + it)
      const r = rolloutPpo(run, it, rng)
      // the first valueWarmup iterations train the critic only (the policy stays the initial one)
      const u = await updatePpo(run, r, rng, it < cfg.valueWarmup)
      const { row, k1Seq, entTok, scoreMean } = iterationRow(run, it, r, u)
      const { tGen, tScore } = r
      const { tTrain } = u
      metrics.log(withoutTimes(row))
      timing.log({ step: row.step, 'time/generation': tGen, 'time/scoring': tScore, 'time/training': tTrain })
      history.push(row)
      cfg.onIteration?.(row)
      progress.tick(1, { score: scoreMean, kl: k1Seq, ent: entTok })
      const trip = guards.observe(k1Seq, entTok)
      if (trip) {
        process.stderr.write(`\nppo: warning: ${trip.message}${cfg.guards.stop ? ` — stopping after iteration ${it + 1}, saving the model so far` : ''}\n`)
        if (cfg.guards.stop) {
          stopped = { ...trip, iteration: it + 1 }
          break
        }
      }
      if (cfg.checkpointEvery > 0 && (it + 1) % cfg.checkpointEvery === 0 && it + 1 < cfg.iterations) await saveAll(it + 1, false)
    }
    progress.done()
    const done = stopped?.iteration ?? cfg.iterations
    await saveAll(done, true)
    rmSync(paths.checkpoint, { recursive: true, force: true })
    const all = history.length ? history : []
    writeFileAtomicSync(
      paths.summary,
      JSON.stringify(
        {
          stage: 'ppo',
          iterations: done,
          requested: cfg.iterations,
          resumedFrom: state ? start : null,
          stopped: stopped ?? null,
          scoreNorm: run.scoreNorm ?? null,
          first: all.length ? withoutTimes(all[0]) : null,
          last: all.length ? withoutTimes(all[all.length - 1]) : null,
          config: { ...cfg, ptxTokens: cfg.ptxTokens ? cfg.ptxTokens.length : null, prompts: prompts.length, reward: 'fn' in cfg.reward ? 'fn' : cfg.reward, onIteration: undefined },
        },
        null,
        2,
      ) + '\n',
    )
  } finally {
    disposePpo(run)
  }
  return { modelDir: paths.model, valueDir: paths.value, metricsFile: paths.metrics, summaryFile: paths.summary, history, resumedFrom: state ? start : null, stopped }
}

/** Free the run's device buffers and compiled functions. */
function disposePpo(run: PpoRun): void {
  run.policy.dispose()
  run.value.dispose()
  run.policyScorer.dispose()
  if (run.refScorer !== run.policyScorer) run.refScorer.dispose()
  run.valueScorer.dispose()
  run.rmScorer?.dispose()
  run.gen.dispose()
  disposeParams(run.refParams)
  if (run.rmParams) disposeParams(run.rmParams)
}

/** A metrics row without its wall-clock `time/*` fields (those go to timing.jsonl). */
function withoutTimes(row: MetricsRow): MetricsRow {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('time/'))) as MetricsRow
}
