import { Instruct3Error } from '../util/errors.ts'
import type { Tokenizer } from './types.ts'

/** What a model (checkpoint, job) records about the tokenizer it was trained with. */
export type TokenizerExpectation = { fingerprint?: string; vocabSize?: number }

/**
 * Refuse a tokenizer that does not match a model: a different fingerprint (vocab, merges or
 * special tokens differ) or a vocabulary that does not fit the model's embedding table.
 * `file` names the model's file (config.json...) in the error.
 */
export function checkTokenizerMatches(tok: Tokenizer, expected: TokenizerExpectation, file?: string): void {
  if (expected.fingerprint !== undefined && expected.fingerprint !== tok.fingerprint)
    throw new Instruct3Error(
      `tokenizer does not match the model: fingerprint ${tok.fingerprint.slice(0, 12)}… but the model was trained with ${expected.fingerprint.slice(0, 12)}…`,
      { code: 'ETOKENIZER_MISMATCH', details: { file, field: 'tokenizer_fingerprint', expected: expected.fingerprint, actual: tok.fingerprint } },
    )
  if (expected.vocabSize !== undefined && tok.vocabSize > expected.vocabSize)
    throw new Instruct3Error(`tokenizer has ${tok.vocabSize} tokens but the model's vocabulary has ${expected.vocabSize}`, {
      code: 'ETOKENIZER_MISMATCH',
      details: { file, field: 'vocab_size', expected: expected.vocabSize, actual: tok.vocabSize },
    })
}
