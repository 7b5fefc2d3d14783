import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { writeFileAtomic } from '../util/atomic.ts'
import { byteToChar } from './bytes.ts'
import { GPT2_PATTERN } from './pretokenize.ts'
import { createTokenizer } from './tokenizer.ts'
import type { Tokenizer, TokenizerSpec } from './types.ts'

/**
 * Tokenizer files. Two interchangeable forms:
 *  - GPT-2's `vocab.json` (token -> id) + `merges.txt` ("#version: 0.2" then "a b" per line);
 *    special tokens are the vocab entries that are neither a byte token nor a merge result
 *    (that is how GPT-2's own `<|endoftext|>` is recognised);
 *  - Hugging Face `tokenizer.json` (model type BPE, ByteLevel pre-tokenizer and decoder,
 *    special tokens listed in added_tokens with special: true).
 * Writes are atomic per file. Reading a malformed file throws Instruct3Error naming the file and
 * the line (merges.txt) or field (JSON).
 */

export const VOCAB_FILE = 'vocab.json'
export const MERGES_FILE = 'merges.txt'
export const HF_FILE = 'tokenizer.json'

export type TokenizerFormat = 'gpt2' | 'hf'

const err = (msg: string, details: { file: string; line?: number; field?: string }) =>
  new Instruct3Error(msg, { code: 'ETOKENIZER_FILE', details })

function readText(file: string): string {
  if (!existsSync(file)) throw new Instruct3Error('file not found', { code: 'ENOENT', details: { file } })
  return readFileSync(file, 'utf8')
}

/** JSON.parse with an error that names the file and the line of the syntax error. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (cause) {
    const msg = (cause as Error).message
    const pos = /position (\d+)/.exec(msg)
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined
    throw new Instruct3Error(`invalid JSON (${msg})`, { code: 'ETOKENIZER_FILE', details: { file, line }, cause })
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** token -> id object (vocab.json, or tokenizer.json's model.vocab) -> dense id -> token array. */
function vocabFromObject(obj: unknown, file: string, field: string): string[] {
  if (!isObject(obj)) throw err('vocabulary must be a JSON object of token -> id', { file, field })
  const vocab: string[] = []
  for (const [tok, id] of Object.entries(obj)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw err(`id of token ${JSON.stringify(tok)} must be a non-negative integer, got ${JSON.stringify(id)}`, { file, field: `${field}[${JSON.stringify(tok)}]` })
    if (vocab[id] !== undefined)
      throw err(`id ${id} is used by both ${JSON.stringify(vocab[id])} and ${JSON.stringify(tok)}`, { file, field: `${field}[${JSON.stringify(tok)}]` })
    vocab[id] = tok
  }
  return vocab
}

function checkDense(vocab: (string | undefined)[], file: string, field: string): void {
  for (let i = 0; i < vocab.length; i++)
    if (vocab[i] === undefined) throw err(`no token has id ${i} (ids must be dense 0..${vocab.length - 1})`, { file, field })
}

/** Special tokens implied by a GPT-2 vocab + merges: entries that are neither bytes nor merge results. */
function impliedSpecials(vocab: readonly string[], merges: ReadonlyArray<readonly [string, string]>): string[] {
  const produced = new Set<string>(byteToChar)
  for (const [a, b] of merges) produced.add(a + b)
  return vocab.filter((t) => !produced.has(t))
}

/** Read GPT-2 `vocab.json` + `merges.txt`. */
export function readGpt2Files(vocabFile: string, mergesFile: string): Tokenizer {
  const vocab = vocabFromObject(parseJson(readText(vocabFile), vocabFile), vocabFile, 'vocab')
  checkDense(vocab, vocabFile, 'vocab')
  const lines = readText(mergesFile).split('\n')
  const merges: Array<readonly [string, string]> = []
  const lineOf: number[] = []
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i]
    if (raw === '' || (i === 0 && raw.startsWith('#version'))) continue
    const parts = raw.split(' ')
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
      throw err(`expected two tokens separated by one space, got ${JSON.stringify(raw.slice(0, 80))}`, { file: mergesFile, line: i + 1 })
    merges.push([parts[0], parts[1]])
    lineOf.push(i + 1)
  }
  return createTokenizer(
    { vocab, merges, specialTokens: impliedSpecials(vocab, merges) },
    { vocabFile, mergesFile, mergeLine: (rank) => lineOf[rank] },
  )
}

/** Read a Hugging Face `tokenizer.json` (byte-level BPE only). */
export function readHfTokenizerJson(file: string): Tokenizer {
  const root = parseJson(readText(file), file)
  if (!isObject(root)) throw err('expected a JSON object', { file })
  const model = root.model
  if (!isObject(model)) throw err('missing "model" object', { file, field: 'model' })
  if (model.type !== undefined && model.type !== 'BPE') throw err(`model type ${JSON.stringify(model.type)} is not supported (only BPE)`, { file, field: 'model.type' })
  if (model.continuing_subword_prefix || model.end_of_word_suffix)
    throw err('continuing_subword_prefix / end_of_word_suffix are not supported (byte-level BPE has none)', { file, field: 'model' })
  if (model.byte_fallback) throw err('byte_fallback is not supported (byte-level BPE needs none)', { file, field: 'model.byte_fallback' })
  if (root.normalizer !== null && root.normalizer !== undefined)
    throw err('a normalizer is not supported (GPT-2 byte-level BPE has none)', { file, field: 'normalizer' })
  checkByteLevel(root.pre_tokenizer, file, 'pre_tokenizer')
  if (root.decoder !== null && root.decoder !== undefined && (!isObject(root.decoder) || root.decoder.type !== 'ByteLevel'))
    throw err('decoder must be ByteLevel', { file, field: 'decoder.type' })

  const vocab: (string | undefined)[] = vocabFromObject(model.vocab, file, 'model.vocab')
  const specials: string[] = []
  const added = root.added_tokens ?? []
  if (!Array.isArray(added)) throw err('added_tokens must be an array', { file, field: 'added_tokens' })
  added.forEach((t: unknown, i: number) => {
    const f = `added_tokens[${i}]`
    if (!isObject(t) || typeof t.content !== 'string' || typeof t.id !== 'number' || !Number.isInteger(t.id) || t.id < 0)
      throw err('each added token needs a string "content" and an integer "id"', { file, field: f })
    if (vocab[t.id] !== undefined && vocab[t.id] !== t.content)
      throw err(`id ${t.id} is ${JSON.stringify(vocab[t.id])} in model.vocab but ${JSON.stringify(t.content)} here`, { file, field: f })
    vocab[t.id] = t.content
    // Every added token is treated as special: recognised only with allowSpecial (see docs/tokenizer.md).
    specials.push(t.content)
  })
  checkDense(vocab, file, 'model.vocab')

  const rawMerges = model.merges ?? []
  if (!Array.isArray(rawMerges)) throw err('model.merges must be an array', { file, field: 'model.merges' })
  const merges = rawMerges.map((m: unknown, i: number): readonly [string, string] => {
    // Older files write "a b", newer ones ["a", "b"].
    if (typeof m === 'string') {
      const p = m.split(' ')
      if (p.length === 2 && p[0] && p[1]) return [p[0], p[1]]
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string' && m[0] && m[1]) return [m[0], m[1]]
    throw err(`malformed merge ${JSON.stringify(m)?.slice(0, 80)}`, { file, field: `model.merges[${i}]` })
  })
  return createTokenizer({ vocab: vocab as string[], merges, specialTokens: specials }, { vocabFile: file, mergesField: 'model.merges' })
}

function checkByteLevel(pt: unknown, file: string, field: string): void {
  if (pt === null || pt === undefined) throw err('a ByteLevel pre_tokenizer is required', { file, field })
  if (!isObject(pt)) throw err('pre_tokenizer must be an object', { file, field })
  if (pt.type === 'Sequence' && Array.isArray(pt.pretokenizers) && pt.pretokenizers.length === 1)
    return checkByteLevel(pt.pretokenizers[0], file, `${field}.pretokenizers[0]`)
  if (pt.type !== 'ByteLevel') throw err(`pre_tokenizer type ${JSON.stringify(pt.type)} is not supported (only ByteLevel)`, { file, field: `${field}.type` })
  if (pt.add_prefix_space === true) throw err('add_prefix_space: true is not supported (GPT-2 uses false)', { file, field: `${field}.add_prefix_space` })
  if (pt.use_regex === false) throw err('use_regex: false is not supported (GPT-2 uses the regex)', { file, field: `${field}.use_regex` })
}

/**
 * Load a tokenizer from a directory holding `tokenizer.json` (preferred: it flags special tokens)
 * or `vocab.json` + `merges.txt`; a path to a tokenizer.json file also works.
 */
export function loadTokenizer(dirOrFile: string): Tokenizer {
  if (existsSync(dirOrFile) && statSync(dirOrFile).isFile()) return readHfTokenizerJson(dirOrFile)
  if (!existsSync(dirOrFile)) throw new Instruct3Error('tokenizer directory not found', { code: 'ENOENT', details: { file: dirOrFile } })
  const hf = join(dirOrFile, HF_FILE)
  if (existsSync(hf)) return readHfTokenizerJson(hf)
  const v = join(dirOrFile, VOCAB_FILE)
  const m = join(dirOrFile, MERGES_FILE)
  if (existsSync(v) && existsSync(m)) return readGpt2Files(v, m)
  throw new Instruct3Error(`no tokenizer here: expected ${HF_FILE} or ${VOCAB_FILE} + ${MERGES_FILE}`, {
    code: 'ENOENT',
    details: { file: dirOrFile },
  })
}

/** vocab.json text: ids in order (built by hand, so keys like "__proto__" or "12" keep their place). */
export function gpt2VocabJson(spec: TokenizerSpec): string {
  return '{' + spec.vocab.map((t, i) => `${JSON.stringify(t)}:${i}`).join(',') + '}\n'
}

export function gpt2MergesTxt(spec: TokenizerSpec): string {
  return '#version: 0.2\n' + spec.merges.map(([a, b]) => `${a} ${b}\n`).join('')
}

/** tokenizer.json text in Hugging Face's layout for GPT-2-style byte-level BPE. */
export function hfTokenizerJson(tok: Tokenizer): string {
  const spec = tok.toSpec()
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }
  const head = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...tok.specialTokens].sort((a, b) => a[1] - b[1]).map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
  }
  const modelHead = {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: '',
    end_of_word_suffix: '',
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
  }
  // Hand-built vocab object (see gpt2VocabJson); merges as "a b" strings (read by every tokenizers version).
  const headText = JSON.stringify(head, null, 2).slice(0, -2)
  const modelText = JSON.stringify(modelHead, null, 2).slice(0, -2).replace(/\n/g, '\n  ')
  const vocabText = spec.vocab.map((t, i) => `      ${JSON.stringify(t)}: ${i}`).join(',\n')
  const mergesText = spec.merges.map(([a, b]) => `      ${JSON.stringify(a + ' ' + b)}`).join(',\n')
  return `${headText},\n  "model": ${modelText},\n    "vocab": {\n${vocabText}\n    },\n    "merges": [\n${mergesText}\n    ]\n  }\n}\n`
}

/**
 * Write the tokenizer into `dir` in the given forms (default both), each file atomically.
 * Also writes `instruct3-tokenizer.json` (fingerprint, sizes, special ids) for people and tools.
 */
export async function saveTokenizer(dir: string, tok: Tokenizer, opts: { formats?: readonly TokenizerFormat[] } = {}): Promise<void> {
  const formats = opts.formats ?? ['gpt2', 'hf']
  const spec = tok.toSpec()
  if (formats.includes('gpt2')) {
    await writeFileAtomic(join(dir, VOCAB_FILE), gpt2VocabJson(spec))
    await writeFileAtomic(join(dir, MERGES_FILE), gpt2MergesTxt(spec))
  }
  if (formats.includes('hf')) await writeFileAtomic(join(dir, HF_FILE), hfTokenizerJson(tok))
  const info = {
    fingerprint: tok.fingerprint,
    vocabSize: tok.vocabSize,
    merges: spec.merges.length,
    specialTokens: Object.fromEntries(tok.specialTokens),
    pattern: GPT2_PATTERN,
  }
  await writeFileAtomic(join(dir, 'instruct3-tokenizer.json'), JSON.stringify(info, null, 2) + '\n')
}
