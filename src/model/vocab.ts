/**
 * Growing a model's vocabulary: a pretrained GPT-2 lacks the chat template's role markers and PAD, so
 * importing it appends those tokens to its tokenizer and rows to its (tied) token embedding. New rows
 * start at the mean of the existing rows, as Hugging Face's `resize_token_embeddings` does by default,
 * so the new tokens begin as an "average" token instead of noise.
 */
import { Instruct3Error } from '../util/errors.ts'
import type { GPTConfig } from './config.ts'
import type { HostParams } from './gpt.ts'

const WTE = 'transformer.wte.weight'

/** The config and parameters with the vocabulary grown to `vocabSize` (the same when it is not larger). */
export function growVocab(config: GPTConfig, params: HostParams, vocabSize: number): { config: GPTConfig; params: HostParams } {
  if (vocabSize < config.vocabSize)
    throw new Instruct3Error(`cannot shrink the vocabulary from ${config.vocabSize} to ${vocabSize}`, { code: 'ECONFIG', details: { field: 'vocab_size' } })
  if (vocabSize === config.vocabSize) return { config, params }
  const d = config.nEmbd
  const old = params[WTE]
  const mean = new Float32Array(d)
  for (let r = 0; r < config.vocabSize; r++) for (let j = 0; j < d; j++) mean[j] += old[r * d + j]
  for (let j = 0; j < d; j++) mean[j] /= config.vocabSize
  const wte = new Float32Array(vocabSize * d)
  wte.set(old)
  for (let r = config.vocabSize; r < vocabSize; r++) wte.set(mean, r * d)
  return { config: { ...config, vocabSize }, params: { ...params, [WTE]: wte } }
}
