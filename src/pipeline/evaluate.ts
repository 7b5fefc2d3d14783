/**
 * Evaluation (`instruct3 eval`): what shows each InstructGPT stage did its job.
 * - reward models: pairwise accuracy and margin on held-out comparisons;
 * - policies vs the SFT model, on `samplesPerPrompt` samples of each held-out prompt, every number with
 *   a paired bootstrap 95% interval over prompts (policy-compare.ts): win rate judged by a reward model
 *   that was NOT used to train them, the same at equal lengths, judge reward difference, ROUGE-L and
 *   token F1 to the reference answer (no reward model involved), KL to SFT (nats per response, on the
 *   policy's own samples), response length, share of responses that ended with EOS;
 * - language modelling: perplexity on held-out web3 text;
 * - the SWC-naming task: exact-match accuracy (closed label set) of greedy answers.
 */
import { existsSync, readFileSync } from 'node:fs'
import { loadPolicy, type Policy } from '../model/policy.ts'
import { loadRewardModel } from '../model/reward-model.ts'
import { createScorer } from '../model/trainable.ts'

export type TokenScorer = ReturnType<typeof createScorer>
import { tokenScore } from '../model/objectives.ts'
import { createRng } from '../model/rng.ts'
import { formatPrompt } from '../tokenizer/index.ts'
import { loadComparisons, loadPrompts, type PromptRecord } from '../data/formats.ts'
import { formatSwc, scoreSwc, type SwcLabel } from '../data/tasks/swc.ts'
import { evaluateReward, type PairKindAccuracy, type OriginAccuracy, type TaskAccuracy } from '../train/reward.ts'
import { tokenizeCorpus, sequentialWindows } from '../train/lmdata.ts'
import { createProgress } from '../util/progress.ts'
import { Instruct3Error } from '../util/errors.ts'
import { scoredSequence, penalizeMissingEos } from '../train/rl/eos.ts'
import { meanInterval, type Interval } from './bootstrap.ts'
import { checkEvalSettings, defaultEvalSettings } from './eval-config.ts'
import { samplePairAccuracy, type SamplePairAccuracy } from './sample-pairs.ts'
import { summarize, versusSft, type PolicySamples, type PolicySummary, type VersusSft } from './policy-compare.ts'
import { rewardJudgeAgreement, type RewardJudgeAgreement } from './reward-judge.ts'

export type PolicyEval = {
  name: string
  dir: string
  judgeReward: number
  winRateVsSft?: number
  klToSft?: number
  /** Response tokens, EOS not counted. */
  responseLength: number
  /** Share of responses that ended with EOS (the others were cut at maxNewTokens). */
  eosRate: number
  prompts: number
  samplesPerPrompt: number
  /** Judge reward, ROUGE-L and token F1 to the reference, with intervals. */
  summary: PolicySummary
  /** Against SFT on the same prompts and sample indices (absent for SFT itself). */
  vsSft?: VersusSft
  klToSftInterval?: Interval
  swcAccuracy?: number
  /** Closed-set SWC naming: the label of highest log-likelihood given the prompt, against the reference. */
  swcChoiceAccuracy?: number
  perplexity?: number
  samples: Array<{ prompt: string; response: string; reward: number }>
}

export type EvalReport = {
  rewardModels: Array<{ name: string; dir: string; data: string; accuracy: number; margin: number; pairs: number; byKind: PairKindAccuracy[]; byTask: TaskAccuracy[]; byOrigin: OriginAccuracy[]; samplePairs?: SamplePairAccuracy[] }>
  policies: PolicyEval[]
  /** The policies' reward model against the judge on SFT samples (reward-judge.ts); with `policyReward`. */
  rewardJudge?: RewardJudgeAgreement
}

export type EvalConfig = {
  /** Policies to evaluate, by name (e.g. base, sft, ppo, dpo); `sft` is the reference for win rate and KL. */
  policies: Record<string, string>
  /** The judge: a reward model not used in training the policies (needed when there are policies). */
  judge?: string
  /** The reward model the policies were trained on: compared with the judge on SFT's samples. */
  policyReward?: string
  /** Reward models to score on held-out comparisons: name -> {dir, comparisons file}. */
  rewardModels: Record<string, { dir: string; data: string }>
  /** Held-out prompts for win rate / KL (prompts JSONL; needed when there are policies). */
  prompts?: string
  /** Held-out SWC prompts with references (prompts JSONL filtered to task swc-naming). */
  swcPrompts?: string
  /** The closed SWC label set (swc_labels.json: [{id, title}]), for the choice accuracy. */
  swcLabels?: string
  /** Held-out corpus text (val.jsonl) for perplexity. */
  heldOutText?: string
  maxPrompts: number
  maxNewTokens: number
  /** Samples per prompt and policy (default 4); sample s of prompt i is paired across policies. */
  samplesPerPrompt?: number
  /** Bootstrap resamples per interval (default 2000). */
  resamples?: number
  /** Subtracted from the judge reward of responses without EOS, as PPO's missingEosPenalty (default none). */
  missingEosPenalty?: number
  /** Prompts generated per batch, one compiled shape (default 32). */
  batchSize?: number
  seed: number
  quiet?: boolean
}

export async function evaluate(cfg: EvalConfig): Promise<EvalReport> {
  checkEvalSettings(cfg)
  const S = cfg.samplesPerPrompt ?? defaultEvalSettings.samplesPerPrompt
  const boot = { resamples: cfg.resamples ?? defaultEvalSettings.resamples, seed: cfg.seed }
  const report: EvalReport = { rewardModels: [], policies: [] }
  for (const [name, { dir, data }] of Object.entries(cfg.rewardModels)) {
    const rows = await loadComparisons(data)
    const r = await evaluateReward(dir, rows)
    const samplePairs = samplePairAccuracy(dir, rows, boot)
    report.rewardModels.push({ name, dir, data, accuracy: r.accuracy, margin: r.margin, pairs: r.pairs, byKind: r.byKind, byTask: r.byTask, byOrigin: r.byOrigin, ...(samplePairs.length ? { samplePairs } : {}) })
  }
  // policies need a judge and prompts; scoring reward models alone needs neither
  if (Object.keys(cfg.policies).length === 0) return report
  for (const [field, v] of [['judge', cfg.judge], ['prompts', cfg.prompts]] as const)
    if (!v) throw new Instruct3Error(`evaluating policies needs --${field}`, { code: 'ECONFIG', details: { field: `--${field}` } })
  const prompts = (await loadPrompts(cfg.prompts!)).filter((p) => p.task !== 'swc-naming').slice(0, cfg.maxPrompts)
  const swc = cfg.swcPrompts && existsSync(cfg.swcPrompts) ? (await loadPrompts(cfg.swcPrompts)).filter((p) => p.task === 'swc-naming' && p.reference) : []
  const labels = cfg.swcLabels && existsSync(cfg.swcLabels) ? (JSON.parse(readFileSync(cfg.swcLabels, 'utf8')) as SwcLabel[]).map(formatSwc) : []
  const judge = loadRewardModel(cfg.judge!)
  const sftDir = cfg.policies.sft
  const references = prompts.map((p) => p.reference)
  let sftSamples: PolicySamples | undefined
  const sft = sftDir ? await loadPolicy(sftDir) : undefined
  // one compiled token scorer per model shape, shared by every policy (KL and perplexity)
  const scorers = new Map<string, TokenScorer>()
  const scorerFor = (p: Policy): TokenScorer => {
    const key = JSON.stringify(p.checkpoint.config)
    let sc = scorers.get(key)
    if (!sc) scorers.set(key, (sc = createScorer(p.checkpoint.config, tokenScore)))
    return sc
  }
  // held-out text tokenized once per tokenizer
  const tokenized = new Map<string, Int32Array>()
  const heldOutTokens = async (p: Policy, file: string): Promise<Int32Array> => {
    let t = tokenized.get(p.tokenizer.fingerprint)
    if (!t) tokenized.set(p.tokenizer.fingerprint, (t = await tokenizeCorpus(file, p.tokenizer, { quiet: true, maxDocs: 60 })))
    return t
  }
  try {
    const progress = createProgress({ label: 'eval', total: Object.keys(cfg.policies).length, unit: 'model', quiet: cfg.quiet })
    // the SFT reference first, so others can be compared with it
    const order = Object.keys(cfg.policies).sort((a, b) => (a === 'sft' ? -1 : b === 'sft' ? 1 : 0))
    for (const name of order) {
      const dir = cfg.policies[name]
      const policy = name === 'sft' && sft ? sft : await loadPolicy(dir)
      try {
        const tok = policy.tokenizer
        const T = policy.checkpoint.config.nCtx
        // room for the response and the EOS a cut one is scored with (rl/eos.ts)
        const promptIds = prompts.map((p) => clip(formatPrompt(tok, p.prompt), T - cfg.maxNewTokens - 1))
        // S sampled responses per prompt (temperature 1): judge reward, win rate and KL are measured on
        // the policy's distribution; the judge scores them as PPO scores its rollouts (closed by EOS,
        // rl/eos.ts), the KL below sums over sampled tokens only
        const g = sampleResponses(policy, promptIds, S, cfg.maxNewTokens, cfg.batchSize ?? defaultEvalSettings.batchSize, cfg.seed)
        const flat = g.flatMap((row) => row)
        const seqs = flat.map((r) => promptIds[r.prompt].concat(r.tokens))
        const scored = flat.map((r) => scoredSequence(promptIds[r.prompt], r.tokens, tok.eosId))
        const scores = penalizeMissingEos(judge.scoreIds(scored), flat.map((r) => r.finished), cfg.missingEosPenalty)
        const rows = <T,>(f: (k: number) => T): T[][] => promptIds.map((_, i) => Array.from({ length: S }, (_, s) => f(i * S + s)))
        const ps: PolicySamples = {
          rewards: rows((k) => scores[k]),
          lengths: rows((k) => flat[k].tokens.length - (flat[k].finished ? 1 : 0)),
          texts: rows((k) => textOf(policy, flat[k].tokens)),
        }
        const summary = summarize(ps, references, boot)
        const ev: PolicyEval = {
          name,
          dir,
          judgeReward: summary.judgeReward.value,
          responseLength: mean(ps.lengths.flat()),
          eosRate: mean(flat.map((r) => (r.finished ? 1 : 0))),
          prompts: prompts.length,
          samplesPerPrompt: S,
          summary,
          samples: prompts.slice(0, 3).map((p, i) => ({ prompt: p.prompt, response: ps.texts[i][0], reward: ps.rewards[i][0] })),
        }
        if (name === 'sft') {
          sftSamples = ps
          if (cfg.policyReward) {
            const rm = loadRewardModel(cfg.policyReward)
            try {
              const rs = rm.scoreIds(scored)
              const agreement = rewardJudgeAgreement(rows((k) => rs[k]), ps.rewards, boot)
              if (agreement) report.rewardJudge = agreement
            } finally {
              rm.dispose()
            }
          }
        }
        else if (sftSamples) {
          ev.vsSft = versusSft(ps, sftSamples, references, boot)
          ev.winRateVsSft = ev.vsSft.winRate.value
        }
        if (sft && name !== 'sft' && name !== 'base') {
          // KL(pi || sft) per response = sum over the sampled response tokens of log pi - log sft, on pi's samples
          const seqPrompts = flat.map((r) => promptIds[r.prompt])
          const pl = responseLogprobs(policy, scorerFor(policy), seqs, seqPrompts)
          const rl = responseLogprobs(sft, scorerFor(sft), seqs, seqPrompts)
          const kl = rows((k) => pl[k] - rl[k])
          ev.klToSftInterval = meanInterval(kl, boot)
          ev.klToSft = ev.klToSftInterval.value
        }
        if (swc.length) {
          const sp = swc.map((p) => clip(formatPrompt(tok, p.prompt), T - 24))
          const sg = policy.generateIds(sp, { maxNewTokens: 24, temperature: 0, eosId: tok.eosId })
          ev.swcAccuracy = mean(swc.map((p, i) => scoreSwc(textOf(policy, sg.tokens[i]), p.reference!)))
          if (labels.length) ev.swcChoiceAccuracy = swcChoiceAccuracy(policy, scorerFor(policy), swc, labels)
        }
        if (cfg.heldOutText && existsSync(cfg.heldOutText)) ev.perplexity = perplexity(policy, scorerFor(policy), await heldOutTokens(policy, cfg.heldOutText))
        report.policies.push(ev)
      } finally {
        if (policy !== sft) policy.dispose()
      }
      progress.tick(1)
    }
    progress.done()
  } finally {
    judge.dispose()
    for (const sc of scorers.values()) sc.dispose()
    sft?.dispose()
  }
  return report
}

type Sampled = { prompt: number; tokens: number[]; finished: boolean }

/**
 * `S` responses to every prompt, as [prompt][sample]. Prompts go in batches of `B` (the last padded
 * with repeats, one compiled shape); the RNG is seeded once, so every policy draws the same stream.
 */
export function sampleResponses(policy: Policy, promptIds: number[][], S: number, maxNewTokens: number, B: number, seed: number): Sampled[][] {
  const rng = createRng(seed)
  const out: Sampled[][] = promptIds.map(() => [])
  const eosId = policy.tokenizer.eosId
  for (let s = 0; s < S; s++)
    for (let i = 0; i < promptIds.length; i += B) {
      const ids = promptIds.slice(i, i + B)
      const n = ids.length
      while (ids.length < Math.min(B, promptIds.length)) ids.push(ids[0])
      const g = policy.generateIds(ids, { maxNewTokens, temperature: 1, eosId, rng })
      for (let j = 0; j < n; j++) out[i + j].push({ prompt: i + j, tokens: g.tokens[j], finished: g.finished[j] })
    }
  return out
}

function clip(ids: number[], max: number): number[] {
  return ids.length > max ? ids.slice(ids.length - max) : ids
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN
}

function textOf(p: Policy, ids: number[]): string {
  const end = ids.indexOf(p.tokenizer.eosId)
  return p.tokenizer.decode(end < 0 ? ids : ids.slice(0, end), { skipSpecial: true })
}

/**
 * Closed-set SWC naming as multiple choice: each label ("SWC-107 Reentrancy" + EOS) is scored by its
 * summed log-probability after the prompt, and the policy's answer is the most likely label. Unlike the
 * greedy answer it cannot fail on format, so it measures what the model knows of the labels.
 */
function swcChoiceAccuracy(policy: Policy, scorer: TokenScorer, swc: PromptRecord[], labels: string[]): number {
  const tok = policy.tokenizer
  const T = policy.checkpoint.config.nCtx
  const labelIds = labels.map((l) => tok.encode(l).concat([tok.eosId]))
  const longest = Math.max(...labelIds.map((l) => l.length))
  let right = 0
  for (const p of swc) {
    const prompt = clip(formatPrompt(tok, p.prompt), T + 1 - longest)
    const lps = responseLogprobs(policy, scorer, labelIds.map((l) => prompt.concat(l)), labelIds.map(() => prompt))
    const best = lps.indexOf(Math.max(...lps))
    right += scoreSwc(labels[best], p.reference!)
  }
  return right / Math.max(1, swc.length)
}

/**
 * Sum of log-probabilities of each sequence's response tokens (after its prompt) under `policy`; only
 * `prompts[i].length` is read. `scorer`: createScorer(config, tokenScore).
 */
export function responseLogprobs(policy: Policy, scorer: TokenScorer, seqs: number[][], prompts: number[][]): number[] {
  const cfg = policy.checkpoint.config
  const pad = policy.tokenizer.padId
  const out: number[] = []
  const B = 8
  for (let i = 0; i < seqs.length; i += B) {
    const chunk = seqs.slice(i, i + B)
    const T = Math.min(cfg.nCtx, Math.ceil(Math.max(...chunk.map((s) => s.length)) / 16) * 16)
    const inputs = new Int32Array(B * T).fill(pad)
    const targets = new Int32Array(B * T).fill(pad)
    chunk.forEach((s, j) => {
      for (let t = 0; t < Math.min(s.length - 1, T); t++) {
        inputs[j * T + t] = s[t]
        targets[j * T + t] = s[t + 1]
      }
    })
    const lp = scorer.score(policy.params, { inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] } }).logprobs
    chunk.forEach((s, j) => {
      let sum = 0
      for (let t = prompts[i + j].length - 1; t < Math.min(s.length - 1, T); t++) sum += lp[j * T + t]
      out.push(sum)
    })
  }
  return out
}

/** Perplexity on held-out tokens (the first 60 documents, at most 16 windows of the context length). */
function perplexity(policy: Policy, scorer: TokenScorer, tokens: Int32Array): number {
  const batches = sequentialWindows(tokens, 8, policy.checkpoint.config.nCtx, 2)
  let sum = 0
  let n = 0
  for (const b of batches) {
    const lp = scorer.score(policy.params, { inputs: b.inputs, targets: b.targets }).logprobs
    for (const v of lp) sum += v
    n += lp.length
  }
  return Math.exp(-sum / Math.max(1, n))
}


export type { PromptRecord }
