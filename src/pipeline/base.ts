/**
 * The `base` stage: start from a pretrained GPT-2 (a Hugging Face folder, or its CID) instead of
 * pretraining. The folder's config.json gives the context, width and depth; its own tokenizer
 * (vocab.json + merges.txt, or tokenizer.json) is kept, with the chat template's special tokens
 * (<|pad|>, <|system|>, <|user|>, <|assistant|>) appended where missing and the embedding grown to
 * match. Its outputs are those of `pretrain`: the model folder (ours, with the tokenizer) and the
 * training corpus as token ids in that tokenizer (PPO-ptx mixes them in).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.ts'
import { growVocab } from '../model/vocab.ts'
import { DEFAULT_SPECIAL_TOKENS, loadTokenizer, saveTokenizer, withSpecialTokens } from '../tokenizer/index.ts'
import { tokenizeCorpus } from '../train/lmdata.ts'
import type { StageResult } from './stage.ts'

export type BaseInit = {
  /** The pretrained model folder (Hugging Face GPT-2 layout, with its tokenizer files). */
  source: string
  /** The corpus folder (the data stage's `corpus`: train.jsonl). */
  corpusDir: string
  outDir: string
  /** Tokenize only the first N training documents (0 = all), as pretraining's maxDocs. */
  maxDocs: number
  quiet: boolean
}

export async function importBase(init: BaseInit): Promise<StageResult> {
  const ck = loadCheckpoint(init.source)
  let tok
  try {
    tok = loadTokenizer(init.source)
  } catch (cause) {
    throw new Instruct3Error(`the base model has no tokenizer (vocab.json + merges.txt, or tokenizer.json): ${(cause as Error).message}`, {
      code: 'ETOKENIZER',
      details: { file: init.source },
      cause,
    })
  }
  if (tok.vocabSize !== ck.config.vocabSize)
    throw new Instruct3Error(`the tokenizer has ${tok.vocabSize} tokens but config.json says vocab_size ${ck.config.vocabSize}`, {
      code: 'ETOKENIZER_MISMATCH',
      details: { file: join(init.source, 'config.json'), field: 'vocab_size' },
    })
  const chatTok = withSpecialTokens(tok, DEFAULT_SPECIAL_TOKENS)
  const { config, params } = growVocab(ck.config, ck.params, chatTok.vocabSize)
  const modelDir = join(init.outDir, 'model')
  mkdirSync(init.outDir, { recursive: true })
  await saveCheckpoint(modelDir, config, params, {
    meta: { stage: 'base', tokenizer_fingerprint: chatTok.fingerprint, added_tokens: chatTok.vocabSize - tok.vocabSize },
    writeExtra: (tmp) => saveTokenizer(tmp, chatTok),
  })
  const tokensFile = join(init.outDir, 'train.tokens.i32')
  const tokens = await tokenizeCorpus(join(init.corpusDir, 'train.jsonl'), chatTok, { cache: tokensFile, quiet: init.quiet, maxDocs: init.maxDocs || undefined })
  return {
    outputs: { model: modelDir, tokens: tokensFile },
    metrics: { vocab_size: config.vocabSize, added_tokens: chatTok.vocabSize - tok.vocabSize, n_ctx: config.nCtx, n_embd: config.nEmbd, n_layer: config.nLayer, train_tokens: tokens.length },
  }
}
