/**
 * Direct Preference Optimization (Rafailov et al. 2023) as an alternative to reward model + PPO:
 * the policy is trained on chosen/rejected pairs against a frozen reference (the SFT model) with
 *   loss = -log sigmoid(beta * ((log pi(y_c) - log ref(y_c)) - (log pi(y_r) - log ref(y_r))))
 * Comparisons with K responses give all their untied pairs (C(K,2) minus ties); a {chosen, rejected}
 * row is K = 2. Sequences use the one chat template, and log-probabilities are summed over the
 * response tokens and EOS. The reference's log-probabilities are computed once, before training.
 * Training runs in the shared loop (schedule, accumulation, eval, metrics, exact resume).
 *
 * Logged with TRL's names: `rewards/accuracies`, `rewards/margins`, `rewards/chosen`,
 * `rewards/rejected` (implicit rewards beta * log(pi/ref)), as `train/...` and `eval/...`.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { loadCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.ts'
import { createScorer, disposeParams, uploadParams, type HostBatch } from '../model/trainable.ts'
import { dpoObjective, tokenScore, type Objective } from '../model/objectives.ts'
import type { HostParams } from '../model/gpt.ts'
import { createRng } from '../model/rng.ts'
import { loadTokenizer, formatExample, checkTokenizerMatches, type Tokenizer } from '../tokenizer/index.ts'
import { comparisonPairs, type Comparison } from '../data/formats.ts'
import type { Rows } from './rows.ts'
import { defaultLoopConfig, runTrainingLoop, type LoopConfig, type LoopResult } from './loop.ts'
import { bucketLength, lmBatch, shuffled, type Example } from './collate.ts'
import { defaultDpoConfig, type DpoConfig, type DpoInput } from './dpo-config.ts'
export type { DpoInput } from './dpo-config.ts'

export { defaultDpoConfig, type DpoConfig } from './dpo-config.ts'

export type DpoResult = LoopResult & { pairs: number; evalPairs: number; summaryFile: string }

type Pair = { chosen: Example; rejected: Example; where: string }

/** Renames the objective's metrics to TRL's names. */
const TRL_NAMES: Record<string, string> = {
  rewards_accuracy: 'rewards/accuracies',
  rewards_margin: 'rewards/margins',
  rewards_chosen: 'rewards/chosen',
  rewards_rejected: 'rewards/rejected',
}
const dpoTrlObjective: Objective = (p, b, c, key) => {
  const [loss, m] = dpoObjective(p, b, c, key)
  return [loss, Object.fromEntries(Object.entries(m).map(([k, v]) => [TRL_NAMES[k] ?? k, v]))]
}

/** All untied (chosen, rejected) pairs of the comparisons, in the chat template. */
export function dpoPairs(tok: Tokenizer, rows: readonly Comparison[], nCtx: number, file?: string): Pair[] {
  const out: Pair[] = []
  rows.forEach((c, i) => {
    for (const [w, l] of comparisonPairs(c)) {
      const chosen = formatExample(tok, c.prompt, c.responses[w])
      const rejected = formatExample(tok, c.prompt, c.responses[l])
      for (const [e, idx] of [[chosen, w], [rejected, l]] as const)
        if (e.ids.length - 1 > nCtx)
          throw new Instruct3Error(`prompt + response is ${e.ids.length} tokens, longer than the context (${nCtx} + 1)`, {
            code: 'ECONTEXT',
            details: { file, line: file ? i + 1 : undefined, field: `responses[${idx}]`, comparison: i },
          })
      out.push({ chosen: { ids: chosen.ids, responseMask: chosen.responseMask }, rejected: { ids: rejected.ids, responseMask: rejected.responseMask }, where: `${file ?? 'comparisons'}#${i}` })
    }
  })
  return out
}

/** A DPO batch: rows [0, B) chosen, [B, 2B) rejected. */
function pairBatch(pairs: Pair[], refLogps: Float32Array | null, idx: number[], T: number, padId: number, beta: number): HostBatch {
  const ex = [...idx.map((i) => pairs[i].chosen), ...idx.map((i) => pairs[i].rejected)]
  const b = lmBatch(ex, T, padId)
  if (refLogps) {
    const r = new Float32Array(ex.length)
    idx.forEach((i, j) => {
      r[j] = refLogps[2 * i]
      r[idx.length + j] = refLogps[2 * i + 1]
      if (Number.isNaN(r[j]) || Number.isNaN(r[idx.length + j])) throw new Error(`DPO: pair ${i} has no reference log-probability (not among the pairs drawn)`)
    })
    b.refLogps = { data: r, shape: [ex.length] }
  }
  b.hyper = { data: Float32Array.of(beta), shape: [1] }
  return b
}

/**
 * Summed response log-probabilities under the reference: [2 * pairs] (chosen, rejected interleaved), for
 * the pairs in `which` (default all); the others stay NaN. Training draws `steps x batchPairs` pairs, often
 * a fraction of the comparisons' pairs, and this forward pass over every pair cost more than training.
 */
function referenceLogps(ref: LoadedCheckpoint, pairs: Pair[], B: number, T: number, padId: number, which?: number[]): Float32Array {
  const scorer = createScorer(ref.config, tokenScore)
  const params = uploadParams(ref.config, ref.params)
  const out = new Float32Array(2 * pairs.length).fill(NaN)
  const todo = which ?? pairs.map((_, i) => i)
  try {
    for (let s = 0; s < todo.length; s += B) {
      const idx = Array.from({ length: B }, (_, j) => todo[Math.min(s + j, todo.length - 1)]) // last batch repeats a pair (same shape)
      const b = pairBatch(pairs, null, idx, T, padId, 0)
      const lp = scorer.score(params, { inputs: b.inputs, targets: b.targets }).logprobs
      const mask = b.mask.data
      const rowSum = (row: number) => {
        let sum = 0
        for (let t = 0; t < T; t++) sum += lp[row * T + t] * mask[row * T + t]
        return sum
      }
      for (let j = 0; j < Math.min(B, todo.length - s); j++) {
        out[2 * idx[j]] = rowSum(j)
        out[2 * idx[j] + 1] = rowSum(B + j)
      }
    }
  } finally {
    scorer.dispose()
    disposeParams(params)
  }
  return out
}

function loadModelWithTokenizer(dir: string, what: string): { ck: LoadedCheckpoint; tok: Tokenizer } {
  const ck = loadCheckpoint(dir)
  let tok: Tokenizer
  try {
    tok = loadTokenizer(dir)
  } catch (cause) {
    throw new Instruct3Error(`${what}: no tokenizer in the model directory`, { code: 'ETOKENIZER', details: { file: dir }, cause })
  }
  const fp = ck.meta.tokenizer_fingerprint
  checkTokenizerMatches(tok, { fingerprint: typeof fp === 'string' ? fp : undefined, vocabSize: ck.config.vocabSize }, join(dir, 'config.json'))
  return { ck, tok }
}

export async function trainDpo(input: DpoInput): Promise<DpoResult> {
  const cfg: DpoConfig = { ...defaultDpoConfig, ...input, loop: { ...defaultDpoConfig.loop, ...input.loop } }
  if (!(cfg.beta > 0)) throw new Instruct3Error(`beta must be > 0, got ${cfg.beta}`, { code: 'ECONFIG', details: { field: 'beta' } })
  const loop: LoopConfig = { ...defaultLoopConfig, ...cfg.loop }
  // --- everything that can be wrong is checked before training starts ---
  const { ck: policy, tok } = loadModelWithTokenizer(cfg.policyDir, 'policy')
  const refDir = cfg.refDir ?? cfg.policyDir
  const ref = refDir === cfg.policyDir ? policy : loadModelWithTokenizer(refDir, 'reference').ck
  if (refDir !== cfg.policyDir && loadTokenizer(refDir).fingerprint !== tok.fingerprint)
    throw new Instruct3Error('the reference model uses a different tokenizer than the policy', { code: 'ETOKENIZER_MISMATCH', details: { file: refDir } })
  const nCtx = Math.min(policy.config.nCtx, ref.config.nCtx)
  const pairs = dpoPairs(tok, cfg.comparisons.rows, nCtx, cfg.comparisons.file)
  if (pairs.length === 0) throw new Instruct3Error('no untied pairs in the comparisons (every ranking is a full tie)', { code: 'EEMPTY' })
  const evalPairs = cfg.evalComparisons
    ? dpoPairs(tok, cfg.evalComparisons.rows, nCtx, cfg.evalComparisons.file)
    : []
  const B = Math.min(cfg.batchPairs, pairs.length)
  const maxLen = Math.max(...[...pairs, ...evalPairs].flatMap((p) => [p.chosen.ids.length, p.rejected.ids.length]))
  const T = bucketLength(maxLen - 1, nCtx) // one shape for every batch: compiled once
  const padId = tok.padId
  mkdirSync(cfg.outDir, { recursive: true })

  // Epoch-wise shuffled order, a pure function of the step: resume replays the same pairs.
  const perms = new Map<number, number[]>()
  const order = (epoch: number) => {
    let p = perms.get(epoch)
    if (!p) {
      if (perms.size > 4) perms.clear()
      const rng = createRng(loop.seed * 7919 + epoch)
      p = shuffled(Array.from({ length: pairs.length }, (_, i) => i), () => rng.next())
      perms.set(epoch, p)
    }
    return p
  }
  const pickPairs = (step: number, micro: number): number[] => {
    const first = (step * loop.gradAccum + micro) * B
    return Array.from({ length: B }, (_, j) => {
      const g = first + j
      return order(Math.floor(g / pairs.length))[g % pairs.length]
    })
  }

  // the reference scores only the pairs training will draw (pickPairs is a pure function of step and micro-batch)
  const drawn = new Set<number>()
  for (let step = 0; step < loop.steps; step++) for (let micro = 0; micro < loop.gradAccum; micro++) for (const i of pickPairs(step, micro)) drawn.add(i)
  const refTrain = referenceLogps(ref, pairs, B, T, padId, [...drawn].sort((a, b) => a - b))
  const refEval = evalPairs.length ? referenceLogps(ref, evalPairs, B, T, padId) : null

  const params: HostParams = { ...policy.params }
  const result = await runTrainingLoop({
    name: 'dpo',
    outDir: cfg.outDir,
    config: policy.config,
    params,
    objective: dpoTrlObjective,
    loop,
    copyFrom: cfg.policyDir,
    quiet: cfg.quiet,
    meta: { ...policy.meta, stage: 'dpo', beta: cfg.beta, tokenizer_fingerprint: tok.fingerprint, pairs: pairs.length },
    data: {
      tokensPerBatch: 2 * B * T,
      nextBatch: (_rng, step, micro) => pairBatch(pairs, refTrain, pickPairs(step, micro), T, padId, cfg.beta),
      evaluate: refEval
        ? (t) => {
            const sums: Record<string, number> = {}
            for (let s = 0; s < evalPairs.length; s += B) {
              const idx = Array.from({ length: Math.min(B, evalPairs.length - s) }, (_, j) => s + j)
              const r = t.evaluate(pairBatch(evalPairs, refEval, idx, T, padId, cfg.beta))
              sums['eval/loss'] = (sums['eval/loss'] ?? 0) + r.loss * idx.length
              for (const [k, v] of Object.entries(r.metrics)) sums[`eval/${k}`] = (sums[`eval/${k}`] ?? 0) + v * idx.length
            }
            return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / evalPairs.length]))
          }
        : undefined,
    },
  })
  const summaryFile = join(cfg.outDir, 'summary.json')
  const last = result.history[result.history.length - 1] ?? { step: 0 }
  writeFileAtomicSync(
    summaryFile,
    JSON.stringify({ stage: 'dpo', beta: cfg.beta, pairs: pairs.length, evalPairs: evalPairs.length, steps: loop.steps, lastTrain: last, finalEval: result.finalEval, modelDir: result.modelDir }, null, 2) + '\n',
  )
  return { ...result, pairs: pairs.length, evalPairs: evalPairs.length, summaryFile }
}
