/**
 * A trained reward model, loaded for scoring: GPT trunk + scalar head (`score.weight` [C], `score.bias` [1])
 * read at the last token of `prompt + response + EOS` in the chat template. The normalising bias (so that
 * demonstrations score mean 0) is part of `score.bias`.
 */
import { loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts'
import { createScorer, uploadParams } from './trainable.ts'
import { bucket } from './generate.ts'
import { rewardScore } from './objectives.ts'
import { tree } from './jax.ts'
import type { HostParams, Params } from './gpt.ts'
import { loadTokenizer, formatExample, formatPrompt, type Tokenizer } from '../tokenizer/index.ts'
import type { HostBatch } from './trainable.ts'
import { Instruct3Error } from '../util/errors.ts'

export type RewardModel = {
  checkpoint: LoadedCheckpoint
  tokenizer: Tokenizer
  /** Rewards of token sequences (each the full chat example ending in EOS). */
  scoreIds(seqs: number[][]): number[]
  /** Rewards of (prompt, response) texts. */
  scoreTexts(items: Array<{ prompt: string; response: string }>): number[]
  /** Rewards of several responses to one prompt each, the prompt forwarded once (see rewardGroup). */
  scoreResponses(items: Array<{ prompt: string; responses: string[] }>): number[][]
  dispose(): void
}

/** Chat-template ids of a scored example, keeping the end when it is longer than the context. */
export function rewardInput(tok: Tokenizer, prompt: string, response: string, nCtx: number): number[] {
  const ids = formatExample(tok, prompt, response).ids
  return ids.length > nCtx ? ids.slice(ids.length - nCtx) : ids
}

/**
 * One prompt with K responses, as ids for a shared-prefix forward: the chat-formatted prompt, and each
 * response with EOS. When the prompt and the longest response do not fit the context, the prompt keeps
 * its end (at least one token) and over-long responses keep their end, so every reward is read at EOS.
 */
export type RewardGroup = { prompt: number[]; responses: number[][] }

export function rewardGroup(tok: Tokenizer, prompt: string, responses: string[], nCtx: number): RewardGroup {
  const rs = responses.map((r) => {
    const ids = tok.encode(r)
    ids.push(tok.eosId)
    return ids.length > nCtx - 1 ? ids.slice(ids.length - (nCtx - 1)) : ids
  })
  const p = formatPrompt(tok, prompt)
  const room = nCtx - Math.max(...rs.map((r) => r.length))
  return { prompt: p.length > room ? p.slice(p.length - room) : p, responses: rs }
}

/**
 * Batch dimensions: G groups of K responses, prompts padded to Tp, responses to Tr (shared prefix). With
 * `T`, the same groups are laid out as G*K full sequences `prompt + response` padded to T instead, which
 * forwards fewer tokens when there are few responses per prompt and they are long.
 */
export type GroupShape = { G: number; K: number; Tp: number; Tr: number; T?: number }

/**
 * Host arrays for prefixTrunk: `prefix` [G, Tp], `prefixLen` [G], `inputs` [G*K, Tr] (group g's response k
 * at row g*K + k) and `last` [G*K], each row's EOS. Missing groups and responses are one pad token.
 */
export function groupBatch(groups: RewardGroup[], shape: GroupShape, padId: number): HostBatch {
  if (shape.T) return sequenceBatch(groups, { ...shape, T: shape.T }, padId)
  const { G, K, Tp, Tr } = shape
  const prefix = new Int32Array(G * Tp).fill(padId)
  const prefixLen = new Int32Array(G).fill(1)
  const inputs = new Int32Array(G * K * Tr).fill(padId)
  const last = new Int32Array(G * K)
  groups.forEach((g, i) => {
    if (i >= G || g.responses.length > K || g.prompt.length > Tp || g.responses.some((r) => r.length > Tr))
      throw new Error(`internal: group ${i} (${g.responses.length} responses) exceeds the batch shape ${JSON.stringify(shape)}`)
    prefix.set(g.prompt, i * Tp)
    prefixLen[i] = g.prompt.length
    g.responses.forEach((r, k) => {
      inputs.set(r, (i * K + k) * Tr)
      last[i * K + k] = r.length - 1
    })
  })
  return {
    prefix: { data: prefix, shape: [G, Tp] },
    prefixLen: { data: prefixLen, shape: [G] },
    inputs: { data: inputs, shape: [G * K, Tr] },
    last: { data: last, shape: [G * K] },
  }
}

/** The full-sequence layout of groupBatch: `inputs` [G*K, T] (row g*K + k = prompt g + response k), `last` [G*K]. */
function sequenceBatch(groups: RewardGroup[], shape: GroupShape & { T: number }, padId: number): HostBatch {
  const { G, K, T } = shape
  const inputs = new Int32Array(G * K * T).fill(padId)
  const last = new Int32Array(G * K)
  groups.forEach((g, i) => {
    if (i >= G || g.responses.length > K || g.responses.some((r) => g.prompt.length + r.length > T))
      throw new Error(`internal: group ${i} (${g.responses.length} responses) exceeds the batch shape ${JSON.stringify(shape)}`)
    g.responses.forEach((r, k) => {
      inputs.set(g.prompt, (i * K + k) * T)
      inputs.set(r, (i * K + k) * T + g.prompt.length)
      last[i * K + k] = g.prompt.length + r.length - 1
    })
  })
  return { inputs: { data: inputs, shape: [G * K, T] }, last: { data: last, shape: [G * K] } }
}

export function rewardHostParams(ck: LoadedCheckpoint): HostParams {
  const w = ck.extraTensors['score.weight']
  const b = ck.extraTensors['score.bias']
  if (!w || !b) throw new Instruct3Error('not a reward model: score.weight / score.bias missing', { code: 'ERM', details: { file: ck.dir } })
  return { ...ck.params, 'score.weight': w.data, 'score.bias': b.data }
}

export function loadRewardModel(dir: string, opts: { batchSize?: number } = {}): RewardModel {
  const checkpoint = loadCheckpoint(dir)
  const tokenizer = loadTokenizer(dir)
  const config = checkpoint.config
  const params: Params = uploadParams(config, rewardHostParams(checkpoint))
  const scorer = createScorer(config, rewardScore)
  const B = opts.batchSize ?? 8
  const padId = tokenizer.padId
  function scoreIds(seqs: number[][]): number[] {
    const out: number[] = []
    for (let i = 0; i < seqs.length; i += B) {
      const chunk = seqs.slice(i, i + B)
      const n = chunk.length
      while (chunk.length < B) chunk.push([padId])
      const T = bucket(Math.max(...chunk.map((s) => s.length)), 16, config.nCtx)
      const inputs = new Int32Array(B * T).fill(padId)
      const last = new Int32Array(B)
      chunk.forEach((s, j) => {
        const x = s.length > T ? s.slice(s.length - T) : s
        inputs.set(x, j * T)
        last[j] = x.length - 1
      })
      const r = scorer.score(params, { inputs: { data: inputs, shape: [B, T] }, last: { data: last, shape: [B] } }).rewards
      for (let j = 0; j < n; j++) out.push(r[j])
    }
    return out
  }
  function scoreResponses(items: Array<{ prompt: string; responses: string[] }>): number[][] {
    const out: number[][] = []
    const G = 4
    for (let i = 0; i < items.length; i += G) {
      const groups = items.slice(i, i + G).map((it) => rewardGroup(tokenizer, it.prompt, it.responses, config.nCtx))
      const shape: GroupShape = {
        G,
        K: Math.max(...groups.map((g) => g.responses.length)),
        Tp: bucket(Math.max(...groups.map((g) => g.prompt.length)), 16, config.nCtx),
        Tr: bucket(Math.max(...groups.flatMap((g) => g.responses.map((r) => r.length))), 16, config.nCtx),
      }
      const r = scorer.score(params, groupBatch(groups, shape, padId)).rewards
      groups.forEach((g, j) => out.push(g.responses.map((_, k) => r[j * shape.K + k])))
    }
    return out
  }
  return {
    checkpoint,
    tokenizer,
    scoreIds,
    scoreResponses,
    scoreTexts: (items) => scoreIds(items.map((it) => rewardInput(tokenizer, it.prompt, it.response, config.nCtx))),
    dispose() {
      scorer.dispose()
      tree.dispose(params)
    },
  }
}
