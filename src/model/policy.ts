/**
 * A loaded language model ready to sample from: checkpoint + its tokenizer + the KV-cache generator.
 * This is what the CLI, the labeling service (ranking outputs) and evaluation use to get text out.
 */
import { loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts'
import { createGenerator, type SamplingOptions } from './generate.ts'
import { uploadParams } from './trainable.ts'
import { tree } from './jax.ts'
import type { Params } from './gpt.ts'
import { loadTokenizer, formatPrompt, type Tokenizer } from '../tokenizer/index.ts'
import { Instruct3Error } from '../util/errors.ts'

export type CompleteOptions = Omit<SamplingOptions, 'eosId' | 'rng'> & {
  /** Wrap prompts in the chat template and stop at EOS. */
  chat?: boolean
}

export type Completion = { text: string; tokens: number[]; logprobs: number[]; finished: boolean }

export type Policy = {
  checkpoint: LoadedCheckpoint
  tokenizer: Tokenizer
  params: Params
  /** Token ids in, token ids out (EOS stops a row when given). */
  generateIds(prompts: number[][], opts: SamplingOptions): { tokens: number[][]; logprobs: number[][]; finished: boolean[] }
  complete(prompts: string[], opts: CompleteOptions): Completion[]
  dispose(): void
}

export async function loadPolicy(dir: string, opts: { tokenizerDir?: string } = {}): Promise<Policy> {
  const checkpoint = loadCheckpoint(dir)
  let tokenizer: Tokenizer
  try {
    tokenizer = loadTokenizer(opts.tokenizerDir ?? dir)
  } catch (cause) {
    throw new Instruct3Error('no tokenizer with the model (tokenizer.json or vocab.json + merges.txt)', { code: 'ETOKENIZER', details: { file: dir }, cause })
  }
  if (tokenizer.vocabSize !== checkpoint.config.vocabSize)
    throw new Instruct3Error(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${checkpoint.config.vocabSize}`, {
      code: 'ETOKENIZER',
      details: { file: dir, field: 'vocab_size' },
    })
  const fp = checkpoint.meta.tokenizer_fingerprint
  if (typeof fp === 'string' && fp !== tokenizer.fingerprint)
    throw new Instruct3Error('tokenizer does not match the one the model was trained with (fingerprint differs)', {
      code: 'ETOKENIZER',
      details: { file: dir, field: 'tokenizer_fingerprint' },
    })
  return fromParts(checkpoint, tokenizer)
}

export function fromParts(checkpoint: LoadedCheckpoint, tokenizer: Tokenizer): Policy {
  const params = uploadParams(checkpoint.config, checkpoint.params)
  const gen = createGenerator(checkpoint.config)
  const nCtx = checkpoint.config.nCtx
  return {
    checkpoint,
    tokenizer,
    params,
    generateIds: (prompts, o) => gen.generate(params, prompts, o),
    complete(prompts, o) {
      const ids = prompts.map((p) => {
        const x = o.chat ? formatPrompt(tokenizer, p) : p === '' ? [tokenizer.eosId] : tokenizer.encode(p)
        // keep the end of over-long prompts so generation fits the context
        return x.slice(Math.max(0, x.length - (nCtx - o.maxNewTokens)))
      })
      const r = gen.generate(params, ids, { ...o, eosId: tokenizer.eosId })
      return r.tokens.map((t, i) => {
        const body = r.finished[i] ? t.slice(0, -1) : t
        return { text: tokenizer.decode(body, { skipSpecial: true }), tokens: t, logprobs: r.logprobs[i], finished: r.finished[i] }
      })
    },
    dispose() {
      gen.dispose()
      tree.dispose(params)
    },
  }
}
