/**
 * Language-model data: a corpus tokenized once into one stream of ids (documents joined by EOS),
 * cached as a little-endian int32 file next to the run; training windows drawn at random offsets
 * from the run's RNG (so resume replays them); validation windows taken in order.
 */
import { existsSync, readFileSync } from 'node:fs'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { readJsonl } from '../util/jsonl.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { Tokenizer } from '../tokenizer/index.ts'
import type { HostBatch } from '../model/trainable.ts'
import type { Rng } from '../model/rng.ts'
import { createProgress } from '../util/progress.ts'

/** Tokenize the `text` field of every row of a corpus JSONL file, EOS after each document. */
export async function tokenizeCorpus(file: string, tok: Tokenizer, opts: { cache?: string; quiet?: boolean; maxDocs?: number } = {}): Promise<Int32Array> {
  if (opts.cache && existsSync(opts.cache)) {
    const b = readFileSync(opts.cache)
    return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
  }
  const chunks: number[][] = []
  let n = 0
  let docs = 0
  const progress = createProgress({ label: 'tokenize', total: 0, unit: 'doc', quiet: opts.quiet })
  for await (const { value, line } of readJsonl<{ text?: unknown }>(file)) {
    if (typeof value.text !== 'string') throw new Instruct3Error('missing string "text"', { code: 'ECORPUS', details: { file, line, field: 'text' } })
    const ids = tok.encode(value.text)
    ids.push(tok.eosId)
    chunks.push(ids)
    n += ids.length
    progress.tick(1, { tokens: n })
    if (opts.maxDocs && ++docs >= opts.maxDocs) break
  }
  progress.done()
  if (n === 0) throw new Instruct3Error('corpus is empty: no documents to train on', { code: 'ECORPUS', details: { file } })
  const out = new Int32Array(n)
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.length
  }
  if (opts.cache) writeFileAtomicSync(opts.cache, new Uint8Array(out.buffer))
  return out
}

/** A random-window LM batch: inputs = ids[o, o+T), targets = ids[o+1, o+T+1). */
export function randomWindows(tokens: Int32Array, B: number, T: number, rng: Rng): HostBatch {
  if (tokens.length < T + 2) throw new Instruct3Error(`corpus has ${tokens.length} tokens, fewer than one window of ${T + 1}`, { code: 'ECORPUS' })
  const inputs = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  for (let b = 0; b < B; b++) {
    const o = rng.int(tokens.length - T - 1)
    inputs.set(tokens.subarray(o, o + T), b * T)
    targets.set(tokens.subarray(o + 1, o + T + 1), b * T)
  }
  return { inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] }, mask: { data: new Float32Array(B * T).fill(1), shape: [B, T] } }
}

/** Consecutive non-overlapping validation windows (deterministic), at most `maxBatches` batches of B. */
export function sequentialWindows(tokens: Int32Array, B: number, T: number, maxBatches: number): HostBatch[] {
  const out: HostBatch[] = []
  const total = Math.floor((tokens.length - 1) / T)
  const nb = Math.min(maxBatches, Math.floor(total / B))
  for (let i = 0; i < nb; i++) {
    const inputs = new Int32Array(B * T)
    const targets = new Int32Array(B * T)
    for (let b = 0; b < B; b++) {
      const o = (i * B + b) * T
      inputs.set(tokens.subarray(o, o + T), b * T)
      targets.set(tokens.subarray(o + 1, o + T + 1), b * T)
    }
    out.push({ inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] }, mask: { data: new Float32Array(B * T).fill(1), shape: [B, T] } })
  }
  return out
}
