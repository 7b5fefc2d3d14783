/** Public types of the tokenizer area. Implementations live beside this file. */

/** The special tokens every instruct3 tokenizer carries (trainBpe's default). */
export const EOS_TOKEN = '<|endoftext|>'
export const PAD_TOKEN = '<|pad|>'
export const SYSTEM_TOKEN = '<|system|>'
export const USER_TOKEN = '<|user|>'
export const ASSISTANT_TOKEN = '<|assistant|>'
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = [EOS_TOKEN, PAD_TOKEN, SYSTEM_TOKEN, USER_TOKEN, ASSISTANT_TOKEN]

/**
 * Everything that defines a byte-level BPE tokenizer, independent of the file format.
 * Token strings use GPT-2's byte-to-unicode form (see bytes.ts); special tokens are stored raw.
 */
export type TokenizerSpec = {
  /** id -> token string; ids are dense 0..n-1. */
  vocab: readonly string[]
  /** merges in rank order (rank 0 applies first), as pairs of token strings. */
  merges: ReadonlyArray<readonly [string, string]>
  /** the vocab entries that are special tokens (never produced by BPE, only by allowSpecial). */
  specialTokens: readonly string[]
}

export type EncodeOptions = {
  /**
   * Recognise special-token strings such as `<|endoftext|>` in the text. Off by default: text
   * from users or data is never able to inject control tokens.
   */
  allowSpecial?: boolean
}

export type DecodeOptions = {
  /** Leave special tokens out of the output (default: they are written as their strings). */
  skipSpecial?: boolean
}

export interface Tokenizer {
  /** Number of ids (the model's vocabulary size). */
  readonly vocabSize: number
  /** `<|endoftext|>`: end of a document and of every chat response. */
  readonly eosId: number
  /** `<|pad|>`, distinct from EOS; throws Instruct3Error if the tokenizer has none. */
  readonly padId: number
  /** Chat role markers; each throws Instruct3Error if the tokenizer has none (e.g. plain GPT-2). */
  readonly systemId: number
  readonly userId: number
  readonly assistantId: number
  /** special token string -> id */
  readonly specialTokens: ReadonlyMap<string, number>
  /** sha256 (hex) of vocab + merges + specials: two tokenizers with the same fingerprint encode identically. */
  readonly fingerprint: string

  encode(text: string, opts?: EncodeOptions): number[]
  /** Lossless for ANY bytes (invalid UTF-8 included): decodeBytes(encodeBytes(b)) equals b. */
  encodeBytes(bytes: Uint8Array): number[]
  /** ids -> text; invalid UTF-8 (e.g. a cut-off multi-byte character) becomes U+FFFD. */
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string
  /** ids -> the exact bytes. */
  decodeBytes(ids: ArrayLike<number>, opts?: DecodeOptions): Uint8Array
  tokenToId(token: string): number | undefined
  idToToken(id: number): string | undefined
  /** The bytes one id stands for (a special token's UTF-8 string). */
  tokenBytes(id: number): Uint8Array
  isSpecial(id: number): boolean
  toSpec(): TokenizerSpec
}

export type TrainProgress = { merges: number; totalMerges: number; phase: 'count' | 'merge'; words?: number; bytes?: number }

export type TrainOptions = {
  /** Final vocabulary size: 256 byte tokens + special tokens + merges. */
  vocabSize: number
  /** Default DEFAULT_SPECIAL_TOKENS. Placed at ids 256.. right after the bytes, so EOS is id 256 whatever vocabSize is. */
  specialTokens?: readonly string[]
  /** Stop merging when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number
  onProgress?: (p: TrainProgress) => void
}
