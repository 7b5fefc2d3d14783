/**
 * Turning chat examples into fixed-shape batches. Sequences are right-padded with PAD (never EOS) to a
 * bucketed length so each shape compiles once; masks mark the tokens that count.
 */
import { Instruct3Error } from '../util/errors.ts'
import type { HostBatch } from '../model/trainable.ts'

/** Round up to a multiple of 16, capped at the context. */
export function bucketLength(n: number, nCtx: number): number {
  return Math.min(nCtx, Math.max(16, Math.ceil(n / 16) * 16))
}

export type Example = { ids: number[]; responseMask: number[] }

/**
 * Next-token batch from examples: inputs = ids[:-1], targets = ids[1:], mask = responseMask[1:]
 * (a target counts when the token being predicted is a response token). Rows padded to T.
 */
export function lmBatch(examples: Example[], T: number, padId: number): HostBatch {
  const B = examples.length
  const inputs = new Int32Array(B * T).fill(padId)
  const targets = new Int32Array(B * T).fill(padId)
  const mask = new Float32Array(B * T)
  examples.forEach((e, b) => {
    const n = Math.min(e.ids.length - 1, T)
    for (let t = 0; t < n; t++) {
      inputs[b * T + t] = e.ids[t]
      targets[b * T + t] = e.ids[t + 1]
      mask[b * T + t] = e.responseMask[t + 1]
    }
  })
  return { inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] }, mask: { data: mask, shape: [B, T] } }
}

/**
 * Packing: concatenate examples (each already ending with EOS) into rows of exactly T + 1 tokens,
 * splitting an example across rows when needed, so no compute is spent on padding. Masks travel with
 * their tokens. Returns rows usable by `lmBatch` (ids of length T + 1).
 */
export function packExamples(examples: Example[], T: number, padId: number): Example[] {
  const rows: Example[] = []
  let ids: number[] = []
  let mask: number[] = []
  for (const e of examples) {
    ids.push(...e.ids)
    mask.push(...e.responseMask)
    while (ids.length >= T + 1) {
      rows.push({ ids: ids.slice(0, T + 1), responseMask: mask.slice(0, T + 1) })
      // overlap one token so the next row predicts the token after this row's last
      ids = ids.slice(T)
      mask = mask.slice(T)
    }
  }
  if (ids.length > 1) {
    const pad = T + 1 - ids.length
    rows.push({ ids: ids.concat(new Array(pad).fill(padId)), responseMask: mask.concat(new Array(pad).fill(0)) })
  }
  return rows
}

/**
 * Sequences for scoring (reward/value models): right-padded tokens and the index of each sequence's
 * last real token. Over-long sequences are an error (they would lose the end, where the reward is read).
 */
export function scoreBatch(seqs: number[][], T: number, padId: number, where?: { file?: string }): HostBatch {
  const N = seqs.length
  const inputs = new Int32Array(N * T).fill(padId)
  const last = new Int32Array(N)
  seqs.forEach((s, i) => {
    if (s.length > T)
      throw new Instruct3Error(`sequence of ${s.length} tokens is longer than the context (${T})`, { code: 'ECONTEXT', details: { file: where?.file } })
    inputs.set(s, i * T)
    last[i] = s.length - 1
  })
  return { inputs: { data: inputs, shape: [N, T] }, last: { data: last, shape: [N] } }
}

/** Fisher-Yates shuffle driven by a [0,1) source (the run's RNG). */
export function shuffled<T>(xs: readonly T[], next: () => number): T[] {
  const a = xs.slice()
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
