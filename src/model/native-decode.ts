/**
 * The native KV-cache decoder (native/decode.c, issue 17): the GPT-2 forward for a list of tokens at
 * their own (row, position), with the KV cache in native memory. generate.ts asks it for "logits at the
 * next position" and keeps sampling, EOS and log-probs in JS, one code path for both engines.
 *
 * Weights are copied into the decoder (packed for its GEMM loops). A copy is reused only while the
 * parameter record holds the very same jax-js arrays (they are immutable), so new weights after a PPO
 * update are always copied in before they are used.
 */
import type { GPTConfig } from './config.ts'
import { paramShapes, type Params } from './gpt.ts'
import { loadNative } from './native.ts'
import type { JArray } from './jax.ts'

/** The decode functions of the native addon (native/decode.c). */
type DecodeAddon = {
  decodeCreate(dims: number[], layerNormEps: number): object
  decodeSetWeights(dec: object, weights: Float32Array[]): void
  decodeReset(dec: object, B: number, Tmax: number): void
  decodeForward(dec: object, tok: Int32Array, row: Int32Array, pos: Int32Array, emit: Int32Array, logits: Float32Array): void
  decodeFree(dec: object): void
}

export type NativeDecoder = {
  /** Make `params` the decoder's weights; copies only when they are not the arrays copied last time. */
  load(params: Params): void
  /** A fresh cache for B rows of up to Tmax positions. */
  reset(B: number, Tmax: number): void
  /**
   * Prompt pass: every prompt token of every row into the cache -> logits at each row's last prompt
   * token, written to `logits` [B, V].
   */
  prefill(prompts: number[][], logits: Float32Array): void
  /** One decode step: token tok[i] of row rows[i] at position pos[i] -> logits [B, V] at row rows[i]. */
  step(tok: Int32Array, rows: Int32Array, pos: Int32Array, logits: Float32Array): void
  /** Counters for tests and benchmarks: weight copies, their total ms, forward calls. */
  readonly stats: { copies: number; copyMs: number; forwards: number }
  dispose(): void
}

/** The addon's decode functions, or null (no addon, INSTRUCT3_NATIVE=0, or an addon without them). */
function decodeAddon(): DecodeAddon | null {
  const addon = loadNative() as (Partial<DecodeAddon> & object) | null
  return addon && typeof addon.decodeForward === 'function' ? (addon as DecodeAddon) : null
}

/** A native decoder for config `c`, or null when the native addon is not available. */
export function createNativeDecoder(c: GPTConfig): NativeDecoder | null {
  const addon = decodeAddon()
  if (!addon) return null
  const dec = addon.decodeCreate([c.vocabSize, c.nCtx, c.nEmbd, c.nLayer, c.nHead], c.layerNormEps)
  const names = paramShapes(c).map(([n]) => n)
  let loaded: JArray[] | null = null
  const stats = { copies: 0, copyMs: 0, forwards: 0 }
  return {
    stats,
    load(params) {
      const arrays = names.map((n) => {
        const a = params[n]
        if (!a) throw new Error(`native decode: parameter ${n} missing`)
        return a
      })
      if (loaded && arrays.every((a, i) => a === loaded![i])) return
      const t = performance.now()
      loaded = null // a failed copy leaves nothing to reuse
      addon.decodeSetWeights(dec, arrays.map((a) => a.ref.dataSync() as Float32Array))
      loaded = arrays
      stats.copies++
      stats.copyMs += performance.now() - t
    },
    reset(B, Tmax) {
      addon.decodeReset(dec, B, Tmax)
    },
    prefill(prompts, logits) {
      // position-major (all rows' position 0, then 1, ...): each row's tokens come in position order
      const n = prompts.reduce((s, p) => s + p.length, 0)
      const tok = new Int32Array(n)
      const row = new Int32Array(n)
      const pos = new Int32Array(n)
      const emit = new Int32Array(n)
      const maxLen = Math.max(...prompts.map((p) => p.length))
      let i = 0
      for (let t = 0; t < maxLen; t++)
        prompts.forEach((p, b) => {
          if (t >= p.length) return
          tok[i] = p[t]
          row[i] = b
          pos[i] = t
          emit[i] = t === p.length - 1 ? b : -1
          i++
        })
      addon.decodeForward(dec, tok, row, pos, emit, logits)
      stats.forwards++
    },
    step(tok, rows, pos, logits) {
      addon.decodeForward(dec, tok, rows, pos, rows, logits)
      stats.forwards++
    },
    dispose() {
      loaded = null
      addon.decodeFree(dec)
    },
  }
}
