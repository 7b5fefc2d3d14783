import { createHash } from 'node:crypto'
import { Instruct3Error } from '../util/errors.ts'
import { byteToChar, splitUtf8, tokenStringToBytes, utf8Decoder, utf8Encoder } from './bytes.ts'
import { forEachPiece, literalAlternation } from './pretokenize.ts'
import { createMinHeap } from './heap.ts'
import {
  ASSISTANT_TOKEN,
  EOS_TOKEN,
  PAD_TOKEN,
  SYSTEM_TOKEN,
  USER_TOKEN,
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  type TokenizerSpec,
} from './types.ts'

/** Where a spec came from, so validation errors can name the file and line. */
export type SpecSource = {
  vocabFile?: string
  mergesFile?: string
  /** 1-based line (in mergesFile) of merge rank i. */
  mergeLine?: (rank: number) => number
  /** Field path prefix for merges when they live in JSON (e.g. "model.merges"). */
  mergesField?: string
}

/** Pair key for two token ids (ids < 2^20, so the key stays an exact double). */
export const PAIR_SHIFT = 1048576
const MAX_VOCAB = PAIR_SHIFT
/** Words longer than this (in bytes) use the heap-based merge loop (O(n log n)). */
const LONG_WORD = 256
/** Bound on the per-word cache; it is cleared when full (cheap, and keeps memory flat). */
const CACHE_MAX = 200_000

/**
 * Build a tokenizer from its spec, validating it: dense vocab, all 256 byte tokens present,
 * every merge's parts and result in the vocab, special tokens in the vocab and unique.
 */
export function createTokenizer(spec: TokenizerSpec, source: SpecSource = {}): Tokenizer {
  const vocab = spec.vocab
  const n = vocab.length
  const vocabErr = (msg: string, field: string) =>
    new Instruct3Error(msg, { code: 'ETOKENIZER', details: { file: source.vocabFile, field } })
  if (n === 0) throw vocabErr('empty vocabulary', 'vocab')
  if (n > MAX_VOCAB) throw vocabErr(`vocabulary too large (${n} > ${MAX_VOCAB})`, 'vocab')

  const idOf = new Map<string, number>()
  for (let id = 0; id < n; id++) {
    const t = vocab[id]
    if (typeof t !== 'string') throw vocabErr(`missing token for id ${id} (ids must be dense 0..${n - 1})`, `vocab[${id}]`)
    if (idOf.has(t)) throw vocabErr(`duplicate token ${JSON.stringify(t)} (ids ${idOf.get(t)} and ${id})`, `vocab[${id}]`)
    idOf.set(t, id)
  }

  const special = new Map<string, number>()
  for (const s of spec.specialTokens) {
    const id = idOf.get(s)
    if (id === undefined) throw vocabErr(`special token ${JSON.stringify(s)} is not in the vocabulary`, 'specialTokens')
    if (s.length === 0) throw vocabErr('empty special token', 'specialTokens')
    special.set(s, id)
  }
  if (!special.has(EOS_TOKEN)) throw vocabErr(`no ${EOS_TOKEN} special token (every instruct3 tokenizer needs EOS)`, 'specialTokens')
  const isSpecialId = new Uint8Array(n)
  for (const id of special.values()) isSpecialId[id] = 1

  // Bytes of every id.
  const bytesOf: Uint8Array[] = new Array(n)
  for (let id = 0; id < n; id++) {
    if (isSpecialId[id]) bytesOf[id] = utf8Encoder.encode(vocab[id])
    else {
      const b = tokenStringToBytes(vocab[id])
      if (b === null || b.length === 0)
        throw vocabErr(`token ${JSON.stringify(vocab[id])} is not a byte-level token (and not special)`, `vocab[${id}]`)
      bytesOf[id] = b
    }
  }
  const byteToId = new Int32Array(256)
  for (let b = 0; b < 256; b++) {
    const id = idOf.get(byteToChar[b])
    if (id === undefined || isSpecialId[id]) throw vocabErr(`missing base token for byte ${b} (${JSON.stringify(byteToChar[b])})`, 'vocab')
    byteToId[b] = id
  }

  // Merge ranks: pairKey -> rank, and rank -> merged id.
  const rankOf = new Map<number, number>()
  const mergedId = new Int32Array(spec.merges.length)
  spec.merges.forEach(([a, b], rank) => {
    const where = () =>
      source.mergeLine
        ? { file: source.mergesFile, line: source.mergeLine(rank) }
        : { file: source.mergesFile ?? source.vocabFile, field: `${source.mergesField ?? 'merges'}[${rank}]` }
    const ia = idOf.get(a)
    const ib = idOf.get(b)
    const ic = idOf.get(a + b)
    const bad = (msg: string) => new Instruct3Error(msg, { code: 'ETOKENIZER', details: where() })
    if (ia === undefined || isSpecialId[ia]) throw bad(`merge part ${JSON.stringify(a)} is not in the vocabulary`)
    if (ib === undefined || isSpecialId[ib]) throw bad(`merge part ${JSON.stringify(b)} is not in the vocabulary`)
    if (ic === undefined || isSpecialId[ic]) throw bad(`merge result ${JSON.stringify(a + b)} is not in the vocabulary`)
    const key = ia * PAIR_SHIFT + ib
    if (rankOf.has(key)) throw bad(`duplicate merge ${JSON.stringify(a)} ${JSON.stringify(b)}`)
    rankOf.set(key, rank)
    mergedId[rank] = ic
  })

  const fingerprint = fingerprintOf(spec)
  const specialRe = literalAlternation(special.keys())
  const cache = new Map<string, number[]>()

  /** Append the BPE ids of one word (given as bytes) to out. */
  function bpeBytes(bytes: Uint8Array | number[], out: number[]): void {
    const len = bytes.length
    if (len === 1) {
      out.push(byteToId[bytes[0]])
      return
    }
    if (len > LONG_WORD) return bpeLong(bytes, out)
    // tiktoken-style: ranks[i] is the rank of (sym[i], sym[i+1]); merge the lowest (leftmost on ties).
    const sym: number[] = new Array(len)
    for (let i = 0; i < len; i++) sym[i] = byteToId[bytes[i]]
    const ranks: number[] = new Array(len - 1)
    for (let i = 0; i < len - 1; i++) ranks[i] = rankOf.get(sym[i] * PAIR_SHIFT + sym[i + 1]) ?? Infinity
    let m = len
    while (m > 1) {
      let best = Infinity
      let at = -1
      for (let i = 0; i < m - 1; i++) if (ranks[i] < best) ((best = ranks[i]), (at = i))
      if (at < 0) break
      sym[at] = mergedId[best]
      sym.splice(at + 1, 1)
      ranks.splice(at, 1)
      m--
      if (at > 0) ranks[at - 1] = rankOf.get(sym[at - 1] * PAIR_SHIFT + sym[at]) ?? Infinity
      if (at < m - 1) ranks[at] = rankOf.get(sym[at] * PAIR_SHIFT + sym[at + 1]) ?? Infinity
    }
    for (let i = 0; i < m; i++) out.push(sym[i])
  }

  /** Same result as the loop above, in O(n log n): linked list + heap of (rank, position). */
  function bpeLong(bytes: Uint8Array | number[], out: number[]): void {
    const len = bytes.length
    const sym = new Int32Array(len)
    const next = new Int32Array(len)
    const prev = new Int32Array(len)
    for (let i = 0; i < len; i++) ((sym[i] = byteToId[bytes[i]]), (next[i] = i + 1), (prev[i] = i - 1))
    next[len - 1] = -1
    const heap = createMinHeap()
    const pushPair = (i: number) => {
      const j = next[i]
      if (j < 0) return
      const r = rankOf.get(sym[i] * PAIR_SHIFT + sym[j])
      if (r !== undefined) heap.push(r, i)
    }
    for (let i = 0; i < len - 1; i++) pushPair(i)
    while (heap.size > 0) {
      const [r, i] = heap.pop()
      const j = next[i]
      if (sym[i] < 0 || j < 0 || rankOf.get(sym[i] * PAIR_SHIFT + sym[j]) !== r) continue // stale
      sym[i] = mergedId[r]
      sym[j] = -1
      next[i] = next[j]
      if (next[j] >= 0) prev[next[j]] = i
      if (prev[i] >= 0) pushPair(prev[i])
      pushPair(i)
    }
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i])
  }

  function encodePiece(piece: string, out: number[]): void {
    const hit = cache.get(piece)
    if (hit !== undefined) {
      for (let i = 0; i < hit.length; i++) out.push(hit[i])
      return
    }
    let bytes: Uint8Array | number[]
    let ascii = true
    for (let i = 0; i < piece.length; i++) if (piece.charCodeAt(i) > 127) ((ascii = false), (i = piece.length))
    if (ascii) {
      bytes = new Array(piece.length)
      for (let i = 0; i < piece.length; i++) bytes[i] = piece.charCodeAt(i)
    } else bytes = utf8Encoder.encode(piece)
    const start = out.length
    bpeBytes(bytes, out)
    if (piece.length <= LONG_WORD) {
      if (cache.size >= CACHE_MAX) cache.clear()
      cache.set(piece, out.slice(start))
    }
  }

  function encodeOrdinary(text: string, out: number[]): void {
    forEachPiece(text, (p) => encodePiece(p, out))
  }

  function encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = []
    if (!opts.allowSpecial || specialRe === null) {
      encodeOrdinary(text, out)
      return out
    }
    const re = new RegExp(specialRe.source, 'g')
    let last = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) encodeOrdinary(text.slice(last, m.index), out)
      out.push(special.get(m[0])!)
      last = m.index + m[0].length
    }
    if (last < text.length) encodeOrdinary(text.slice(last), out)
    return out
  }

  function encodeBytes(bytes: Uint8Array): number[] {
    const out: number[] = []
    for (const run of splitUtf8(bytes)) {
      if (run.valid) encodeOrdinary(utf8Decoder.decode(bytes.subarray(run.start, run.end)), out)
      else out.push(byteToId[bytes[run.start]])
    }
    return out
  }

  function checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= n)
      throw new Instruct3Error(`token id ${id} is out of range (vocab size ${n})`, { code: 'ETOKENIZER', details: { field: 'ids' } })
  }

  function decodeBytes(ids: ArrayLike<number>, opts: DecodeOptions = {}): Uint8Array {
    let total = 0
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i])
      if (!(opts.skipSpecial && isSpecialId[ids[i]])) total += bytesOf[ids[i]].length
    }
    const out = new Uint8Array(total)
    let off = 0
    for (let i = 0; i < ids.length; i++) {
      if (opts.skipSpecial && isSpecialId[ids[i]]) continue
      const b = bytesOf[ids[i]]
      out.set(b, off)
      off += b.length
    }
    return out
  }

  const specialId = (name: string): number => {
    const id = special.get(name)
    if (id === undefined)
      throw new Instruct3Error(`this tokenizer has no ${name} token (add it with withSpecialTokens)`, {
        code: 'ETOKENIZER',
        details: { field: 'specialTokens' },
      })
    return id
  }

  const specSnapshot: TokenizerSpec = {
    vocab: [...vocab],
    merges: spec.merges.map(([a, b]) => [a, b] as const),
    specialTokens: [...special.keys()],
  }

  return {
    vocabSize: n,
    eosId: special.get(EOS_TOKEN)!,
    get padId() {
      return specialId(PAD_TOKEN)
    },
    get systemId() {
      return specialId(SYSTEM_TOKEN)
    },
    get userId() {
      return specialId(USER_TOKEN)
    },
    get assistantId() {
      return specialId(ASSISTANT_TOKEN)
    },
    specialTokens: special,
    fingerprint,
    encode,
    encodeBytes,
    decode: (ids, opts) => utf8Decoder.decode(decodeBytes(ids, opts)),
    decodeBytes,
    tokenToId: (t) => idOf.get(t),
    idToToken: (id) => (Number.isInteger(id) && id >= 0 && id < n ? vocab[id] : undefined),
    tokenBytes: (id) => (checkId(id), bytesOf[id].slice()),
    isSpecial: (id) => isSpecialId[id] === 1,
    toSpec: () => specSnapshot,
  }
}

/**
 * Return a tokenizer with the given special tokens appended (new ids at the end) where missing,
 * e.g. to give plain GPT-2 the chat role markers and PAD. Changes vocabSize and the fingerprint.
 */
export function withSpecialTokens(tok: Tokenizer, names: readonly string[]): Tokenizer {
  const spec = tok.toSpec()
  const missing = names.filter((s) => !tok.specialTokens.has(s))
  if (missing.length === 0) return tok
  for (const s of missing)
    if (tok.tokenToId(s) !== undefined)
      throw new Instruct3Error(`cannot add special token ${JSON.stringify(s)}: it is already an ordinary token`, { code: 'ETOKENIZER' })
  return createTokenizer({ vocab: [...spec.vocab, ...missing], merges: spec.merges, specialTokens: [...spec.specialTokens, ...missing] })
}

/** sha256 over a canonical form of vocab, merges and special tokens (independent of the file format). */
export function fingerprintOf(spec: TokenizerSpec): string {
  const h = createHash('sha256')
  h.update('instruct3-bpe-v1\n')
  h.update(JSON.stringify(spec.vocab))
  h.update('\n')
  h.update(JSON.stringify(spec.merges.map(([a, b]) => a + ' ' + b)))
  h.update('\n')
  h.update(JSON.stringify([...spec.specialTokens].sort()))
  return h.digest('hex')
}
