/**
 * Exact and near-duplicate detection.
 *
 * Exact: SHA-256 of the canonical text (lower-cased, whitespace collapsed).
 * Near: MinHash over word 5-shingles (64 hash functions) with LSH banding (16 bands x 4 rows) to
 * find candidates, then the estimated Jaccard similarity (fraction of equal signature slots) must
 * reach `threshold` (default 0.8). The first document in input order is kept, so the result is
 * deterministic for a fixed input order.
 */
import { sha256Hex } from './hash.ts'
import { canonicalForDedup } from './normalize.ts'

export const NUM_HASHES = 64
const BANDS = 16
const ROWS = NUM_HASHES / BANDS
const SHINGLE = 5

// Fixed odd multipliers / seeds derived from a simple LCG so signatures are reproducible.
const SEEDS: Uint32Array = (() => {
  const s = new Uint32Array(NUM_HASHES * 2)
  let x = 0x9e3779b9
  for (let i = 0; i < s.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    s[i] = x | 1
  }
  return s
})()

function fnv1a(str: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function mix(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

/** MinHash signature of a canonical text (word 5-shingles; short texts use the whole text). */
export function minhash(canonical: string): Uint32Array {
  const words = canonical.split(' ')
  const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff)
  const n = Math.max(1, words.length - SHINGLE + 1)
  for (let i = 0; i < n; i++) {
    const h = fnv1a(words.slice(i, i + SHINGLE).join(' '))
    for (let k = 0; k < NUM_HASHES; k++) {
      const v = mix((Math.imul(h, SEEDS[2 * k]) + SEEDS[2 * k + 1]) >>> 0)
      if (v < sig[k]) sig[k] = v
    }
  }
  return sig
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let eq = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++
  return eq / a.length
}

export type DedupVerdict = { kind: 'kept' } | { kind: 'exact' | 'near'; of: number; similarity: number }

export type Deduper = {
  /** Offer the next document (index = order of offering); returns whether it is kept or a duplicate of an earlier kept one. */
  offer(text: string): DedupVerdict
}

export function createDeduper(opts: { threshold?: number } = {}): Deduper {
  const threshold = opts.threshold ?? 0.8
  const exact = new Map<string, number>()
  const bands: Array<Map<string, number[]>> = Array.from({ length: BANDS }, () => new Map())
  const sigs: Uint32Array[] = []
  let index = 0
  return {
    offer(text) {
      const i = index++
      const canon = canonicalForDedup(text)
      const h = sha256Hex(canon)
      const prev = exact.get(h)
      if (prev !== undefined) return { kind: 'exact', of: prev, similarity: 1 }
      const sig = minhash(canon)
      const keys: string[] = []
      let best = -1
      let bestSim = 0
      for (let b = 0; b < BANDS; b++) {
        const key = Array.from(sig.subarray(b * ROWS, (b + 1) * ROWS)).join(',')
        keys.push(key)
        for (const j of bands[b].get(key) ?? []) {
          const sim = estimatedJaccard(sig, sigs[j])
          if (sim > bestSim || (sim === bestSim && j < best)) {
            bestSim = sim
            best = j
          }
        }
      }
      if (best >= 0 && bestSim >= threshold) return { kind: 'near', of: best, similarity: bestSim }
      exact.set(h, i)
      sigs[i] = sig
      for (let b = 0; b < BANDS; b++) {
        const list = bands[b].get(keys[b])
        if (list) list.push(i)
        else bands[b].set(keys[b], [i])
      }
      return { kind: 'kept' }
    },
  }
}
