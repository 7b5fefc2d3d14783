/**
 * A trained reward model, loaded for scoring: GPT trunk + scalar head (`score.weight` [C], `score.bias` [1])
 * read at the last token of `prompt + response + EOS` in the chat template. The normalising bias (so that
 * demonstrations score mean 0) is part of `score.bias`.
 */
import { loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts'
import { createScorer, uploadParams } from './trainable.ts'
import { rewardScore } from './objectives.ts'
import { tree } from './jax.ts'
import type { HostParams, Params } from './gpt.ts'
import { loadTokenizer, formatExample, type Tokenizer } from '../tokenizer/index.ts'
import { Instruct3Error } from '../util/errors.ts'

export type RewardModel = {
  checkpoint: LoadedCheckpoint
  tokenizer: Tokenizer
  /** Rewards of token sequences (each the full chat example ending in EOS). */
  scoreIds(seqs: number[][]): number[]
  /** Rewards of (prompt, response) texts. */
  scoreTexts(items: Array<{ prompt: string; response: string }>): number[]
  dispose(): void
}

/** Chat-template ids of a scored example, keeping the end when it is longer than the context. */
export function rewardInput(tok: Tokenizer, prompt: string, response: string, nCtx: number): number[] {
  const ids = formatExample(tok, prompt, response).ids
  return ids.length > nCtx ? ids.slice(ids.length - nCtx) : ids
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
      const T = Math.min(config.nCtx, Math.max(16, Math.ceil(Math.max(...chunk.map((s) => s.length)) / 16) * 16))
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
  return {
    checkpoint,
    tokenizer,
    scoreIds,
    scoreTexts: (items) => scoreIds(items.map((it) => rewardInput(tokenizer, it.prompt, it.response, config.nCtx))),
    dispose() {
      scorer.dispose()
      tree.dispose(params)
    },
  }
}
