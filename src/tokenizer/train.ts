import { Instruct3Error } from '../util/errors.ts'
import { byteOrder, byteToChar, utf8Encoder } from './bytes.ts'
import { forEachPiece } from './pretokenize.ts'
import { createTokenizer, PAIR_SHIFT } from './tokenizer.ts'
import { DEFAULT_SPECIAL_TOKENS, type Tokenizer, type TrainOptions } from './types.ts'
import { createMinHeap } from './heap.ts'

/**
 * Train a byte-level BPE tokenizer (GPT-2 style) on a stream of texts.
 *
 * Ids: 0..255 are the byte tokens in GPT-2's order (so they equal GPT-2's ids), then the special
 * tokens in the order given (EOS first by default, so eosId is 256 whatever vocabSize is), then
 * one token per merge in the order learned.
 *
 * Algorithm (the standard one, as in HF tokenizers' BpeTrainer):
 *  1. pre-tokenise with the GPT-2 regex and count distinct words;
 *  2. count adjacent symbol pairs over distinct words weighted by frequency, and index which
 *     words contain each pair;
 *  3. repeatedly take the most frequent pair from a max-heap (lazy: an entry whose count is
 *     stale is re-pushed with its current count), merge it in only the words that contain it,
 *     and update pair counts by the difference between each touched word's old and new pairs.
 * Ties are broken by the smaller pair of ids (left id, then right id), so training is deterministic.
 */
export async function trainBpe(texts: Iterable<string> | AsyncIterable<string>, opts: TrainOptions): Promise<Tokenizer> {
  const specials = opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS
  const minFrequency = opts.minFrequency ?? 2
  const base = 256 + specials.length
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < base)
    throw new Instruct3Error(`vocabSize must be an integer >= ${base} (256 bytes + ${specials.length} special tokens)`, {
      code: 'ETOKENIZER',
      details: { field: 'vocabSize' },
    })
  if (new Set(specials).size !== specials.length)
    throw new Instruct3Error('duplicate special tokens', { code: 'ETOKENIZER', details: { field: 'specialTokens' } })
  const totalMerges = opts.vocabSize - base
  const progress = opts.onProgress

  // 1. Word frequencies.
  const freq = new Map<string, number>()
  let bytesSeen = 0
  let docs = 0
  for await (const text of texts) {
    forEachPiece(text, (p) => freq.set(p, (freq.get(p) ?? 0) + 1))
    bytesSeen += text.length
    if (progress && ++docs % 1000 === 0) progress({ phase: 'count', merges: 0, totalMerges, words: freq.size, bytes: bytesSeen })
  }

  // Symbols are token ids. Bytes map to ids via GPT-2's byte order.
  const byteToId = new Int32Array(256)
  byteOrder.forEach((b, id) => (byteToId[b] = id))
  const words: Int32Array[] = []
  const counts: number[] = []
  for (const [w, c] of freq) {
    const b = utf8Encoder.encode(w)
    if (b.length < 2) continue // single bytes can never merge
    const s = new Int32Array(b.length)
    for (let i = 0; i < b.length; i++) s[i] = byteToId[b[i]]
    words.push(s)
    counts.push(c)
  }
  freq.clear()

  // 2. Pair counts and pair -> words index (may hold stale or duplicate word ids; checked on use).
  const pairCount = new Map<number, number>()
  const where = new Map<number, number[]>()
  for (let w = 0; w < words.length; w++) {
    const s = words[w]
    const c = counts[w]
    for (let i = 0; i < s.length - 1; i++) {
      const k = s[i] * PAIR_SHIFT + s[i + 1]
      pairCount.set(k, (pairCount.get(k) ?? 0) + c)
      const list = where.get(k)
      if (list === undefined) where.set(k, [w])
      else if (list[list.length - 1] !== w) list.push(w)
    }
  }
  // min-heap on (-count, key): the most frequent pair first, ties to the smaller key
  const heap = createMinHeap()
  for (const [k, c] of pairCount) heap.push(-c, k)

  // Token strings (GPT-2 byte-level form) for the vocab.
  const vocab: string[] = byteOrder.map((b) => byteToChar[b])
  vocab.push(...specials)
  const merges: Array<readonly [string, string]> = []
  const stamp = new Int32Array(words.length).fill(-1)
  const local = new Map<number, number>()

  // 3. Merge loop.
  let lastReport = 0
  const idOfToken = new Map<string, number>(vocab.map((t, i) => [t, i]))
  while (vocab.length < opts.vocabSize && heap.size > 0) {
    const [negC, k] = heap.pop()
    const c = -negC
    const cur = pairCount.get(k) ?? 0
    if (cur !== c) {
      if (cur > 0) heap.push(-cur, k) // stale entry: re-queue with the true count
      continue
    }
    if (c < minFrequency) break
    const a = Math.floor(k / PAIR_SHIFT)
    const b = k - a * PAIR_SHIFT
    // Two different merges can spell the same string (a+bc, ab+c): they then share one id, as in HF.
    const merged = vocab[a] + vocab[b]
    let newId = idOfToken.get(merged) ?? -1
    if (newId < 0) {
      newId = vocab.length
      vocab.push(merged)
      idOfToken.set(merged, newId)
    }
    merges.push([vocab[a], vocab[b]])
    const mergeNo = merges.length
    const touched = new Set<number>()

    for (const w of where.get(k) ?? []) {
      if (stamp[w] === mergeNo) continue
      stamp[w] = mergeNo
      const s = words[w]
      let has = false
      for (let i = 0; i < s.length - 1; i++) if (s[i] === a && s[i + 1] === b) ((has = true), (i = s.length))
      if (!has) continue
      // Merge left to right, non-overlapping.
      const t = new Int32Array(s.length)
      let m = 0
      for (let i = 0; i < s.length; ) {
        if (i < s.length - 1 && s[i] === a && s[i + 1] === b) ((t[m++] = newId), (i += 2))
        else t[m++] = s[i++]
      }
      const ns = t.subarray(0, m)
      // Delta = pairs(new) - pairs(old), weighted by the word's count.
      local.clear()
      for (let i = 0; i < s.length - 1; i++) {
        const pk = s[i] * PAIR_SHIFT + s[i + 1]
        local.set(pk, (local.get(pk) ?? 0) - 1)
      }
      for (let i = 0; i < m - 1; i++) {
        const pk = ns[i] * PAIR_SHIFT + ns[i + 1]
        local.set(pk, (local.get(pk) ?? 0) + 1)
        if (ns[i] === newId || ns[i + 1] === newId) {
          touched.add(pk)
          const list = where.get(pk)
          if (list === undefined) where.set(pk, [w])
          else if (list[list.length - 1] !== w) list.push(w)
        }
      }
      const cw = counts[w]
      for (const [pk, d] of local) {
        if (d === 0) continue
        const v = (pairCount.get(pk) ?? 0) + d * cw
        if (v > 0) pairCount.set(pk, v)
        else pairCount.delete(pk)
      }
      words[w] = m === s.length ? s : ns.slice()
    }
    where.delete(k)
    pairCount.delete(k)
    // Only pairs containing the new token can have grown; they are new, so push them.
    for (const pk of touched) {
      const v = pairCount.get(pk)
      if (v !== undefined) heap.push(-v, pk)
    }
    const done = vocab.length - base
    if (progress && done - lastReport >= 64) {
      lastReport = done
      progress({ phase: 'merge', merges: done, totalMerges })
    }
  }
  if (progress) progress({ phase: 'merge', merges: vocab.length - base, totalMerges })

  return createTokenizer({ vocab, merges, specialTokens: specials })
}


