/**
 * Batched sampling with a KV cache.
 *
 * jax-js has no dynamic_update_slice or while_loop (0.1.25), and jit recompiles for every new input
 * shape. So the cache is a fixed-size buffer [B, Tmax, H, D] per layer; a decode step writes the new
 * key/value at each row's own position with `where(onehot(pos), k_t, cache)` and attends with
 * `keyValueSeqLengths = pos + 1`; the loop runs in JS. Prompt length and Tmax are rounded up to
 * buckets so each (B, P, Tmax) compiles once. Rows have their own prompt lengths (right-padded).
 *
 * When the native addon is built, the logits come from its fused decoder instead (native/decode.c via
 * native-decode.ts: KV cache in native memory, one call per step); INSTRUCT3_NATIVE=0 or
 * `createGenerator(c, { native: false })` keeps jax-js. Sampling, EOS and log-probs are the same code.
 */
import { np, nn, jit, tree, type JArray } from './jax.ts'
import type { GPTConfig } from './config.ts'
import { block, causalAttention, embed, layerNorm, type Attend, type Params } from './gpt.ts'
import { createRng, type Rng } from './rng.ts'
import { Instruct3Error } from '../util/errors.ts'
import { createNativeDecoder, type NativeDecoder } from './native-decode.ts'

export type SamplingOptions = {
  maxNewTokens: number
  /** 0 = greedy. */
  temperature?: number
  topK?: number
  topP?: number
  /** Stop a row when it emits this token (it is kept in the output). */
  eosId?: number
  seed?: number
  rng?: Rng
}

export type GenerationResult = {
  /** Generated tokens per row (without the prompt; includes EOS when emitted). */
  tokens: number[][]
  /** Log-probability of each generated token under the sampling distribution's logits (temperature 1). */
  logprobs: number[][]
  /** Whether the row ended with EOS. */
  finished: boolean[]
}

type Caches = { k: JArray[]; v: JArray[] }

/** Round n up to a multiple of `m`, capped at `cap`. */
export function bucket(n: number, m: number, cap: number): number {
  return Math.min(cap, Math.ceil(n / m) * m)
}

/**
 * Prefill: tokens [B, P] -> logits at each row's last prompt position [B, V] and caches [B, Tmax, H, D]
 * (the prompt's keys and values, zero-padded to Tmax).
 */
function prefillFn(c: GPTConfig, Tmax: number) {
  return (p: Params, idx: JArray, lastPos: JArray): [JArray, JArray[], JArray[]] => {
    const [B, P] = idx.shape
    const ks: JArray[] = []
    const vs: JArray[] = []
    const pad = [[0, 0], [0, Tmax - P], [0, 0], [0, 0]] as Array<[number, number]>
    const capture: Attend = (q, k, v, layer) => {
      ks.push(np.pad(k.ref, pad))
      vs.push(np.pad(v.ref, pad))
      return causalAttention(q, k, v, layer)
    }
    let x = embed(p, idx) // [B, P, C]
    for (let i = 0; i < c.nLayer; i++) x = block(p, i, x, c, capture)
    // hidden at each row's last prompt token: [B, C]
    const last = np.takeAlongAxis(x, lastPos.reshape([B, 1, 1]), 1).reshape([B, c.nEmbd])
    const hl = layerNorm(last, p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], c.layerNormEps)
    const logits = np.matmul(hl, p['transformer.wte.weight'].transpose()) // [B, V]
    return [logits, ks, vs]
  }
}

/**
 * Attention of one query step over the cache: q [B, 1, H, D], k/v [B, Tmax, H, D], valid [B, 1, 1, Tmax].
 * Written out with matmuls: measured 3x faster than nn.dotProductAttention with keyValueSeqLengths here.
 */
function cachedAttention(q: JArray, k: JArray, v: JArray, valid: JArray): JArray {
  const D = q.shape[3]
  const s = np.matmul(q.transpose([0, 2, 1, 3]), k.transpose([0, 2, 3, 1])).mul(1 / Math.sqrt(D)) // [B, H, 1, Tmax]
  const pr = nn.softmax(np.where(valid, s, -1e30), -1)
  return np.matmul(pr, v.transpose([0, 2, 1, 3])).transpose([0, 2, 1, 3]) // [B, 1, H, D]
}

/** One decode step: token [B] at position pos [B] -> logits [B, V], updated caches. */
function decodeFn(c: GPTConfig, Tmax: number) {
  return (p: Params, tok: JArray, pos: JArray, kc: JArray[], vc: JArray[]): [JArray, JArray[], JArray[]] => {
    const B = tok.shape[0]
    const wte = p['transformer.wte.weight']
    // [B, 1, C]: each row's token at its own position
    let x = np.take(wte.ref, tok, 0).add(np.take(p['transformer.wpe.weight'], pos.ref, 0)).reshape([B, 1, c.nEmbd])
    // onehot of the write position, broadcast over [B, Tmax, H, D]
    const where = np.equal(np.arange(Tmax).reshape([1, Tmax]), pos.ref.reshape([B, 1])).reshape([B, Tmax, 1, 1])
    // keys at positions <= pos take part in attention: [B, 1, 1, Tmax]
    const valid = np.lessEqual(np.arange(Tmax).reshape([1, 1, 1, Tmax]), pos.reshape([B, 1, 1, 1]))
    const ks: JArray[] = []
    const vs: JArray[] = []
    const cached: Attend = (q, kNew, vNew, layer) => {
      const k = np.where(where.ref, kNew, kc[layer]) // [B, Tmax, H, D]
      const v = np.where(where.ref, vNew, vc[layer])
      ks.push(k.ref)
      vs.push(v.ref)
      return cachedAttention(q, k, v, valid.ref)
    }
    for (let i = 0; i < c.nLayer; i++) x = block(p, i, x, c, cached)
    where.dispose()
    valid.dispose()
    const hl = layerNorm(x.reshape([B, c.nEmbd]), p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], c.layerNormEps)
    return [np.matmul(hl, wte.transpose()), ks, vs]
  }
}

/**
 * Where a generate call gets its logits: jax-js kernels (fixed-size cache buffers, jit per shape bucket)
 * or the native decoder (native/decode.c). Everything else, sampling, EOS and log-probs, is shared.
 */
type LogitsSource = {
  /** Logits [B, V] at each row's last prompt token (the prompts' keys and values go into the cache). */
  prefill(): Float32Array
  /** Rows not done feed next[b] at position pos[b] -> logits [B, V] (rows that are done: anything). */
  step(next: Int32Array, pos: Int32Array, done: boolean[]): Float32Array
  dispose(): void
}

export type GeneratorOptions = {
  /** Use the native decoder when the addon is there (default true); false always uses jax-js. */
  native?: boolean
}

/**
 * A generator bound to one model config; jit caches (and the native decoder with its copy of the
 * weights) live as long as it does.
 */
export function createGenerator(c: GPTConfig, genOpts: GeneratorOptions = {}) {
  const prefills = new Map<number, ReturnType<typeof jit>>()
  const decodes = new Map<number, ReturnType<typeof jit>>()
  const getPrefill = (Tmax: number) => {
    let f = prefills.get(Tmax)
    if (!f) prefills.set(Tmax, (f = jit(prefillFn(c, Tmax)) as never))
    return f as unknown as (p: Params, idx: JArray, lastPos: JArray) => [JArray, JArray[], JArray[]]
  }
  const getDecode = (Tmax: number) => {
    let f = decodes.get(Tmax)
    if (!f) decodes.set(Tmax, (f = jit(decodeFn(c, Tmax)) as never))
    return f as unknown as (p: Params, tok: JArray, pos: JArray, kc: JArray[], vc: JArray[]) => [JArray, JArray[], JArray[]]
  }
  // created at the first generate call (it holds a copy of the weights)
  let nativeDec: NativeDecoder | null | undefined = genOpts.native === false ? null : undefined
  let lastBackend: 'native' | 'jax' | null = null
  const native = (): NativeDecoder | null => (nativeDec === undefined ? (nativeDec = createNativeDecoder(c)) : nativeDec)

  /** jax-js: prefill and decode compiled per (B, P, Tmax) bucket, caches as device arrays. */
  function jaxSource(params: Params, prompts: number[][], maxNew: number): LogitsSource {
    const B = prompts.length
    const lens = prompts.map((p) => p.length)
    const P = bucket(Math.max(...lens), 16, c.nCtx)
    const Tmax = bucket(Math.max(...lens) + maxNew, 64, c.nCtx)
    let caches: Caches | null = null
    return {
      prefill() {
        const idx = new Int32Array(B * P)
        prompts.forEach((p, b) => idx.set(p, b * P))
        const [logits, k, v] = getPrefill(Tmax)(
          tree.ref(params),
          np.array(idx, { dtype: np.int32 }).reshape([B, P]),
          np.array(new Int32Array(lens.map((l) => l - 1)), { dtype: np.int32 }),
        )
        caches = { k, v }
        return logits.dataSync() as Float32Array // consumes logits
      },
      step(next, pos) {
        // rows that are done keep writing at their own position (clamped); their outputs are ignored
        const posNow = pos.map((p) => Math.min(p, Tmax - 1))
        const [logits, k, v] = getDecode(Tmax)(
          tree.ref(params),
          np.array(next, { dtype: np.int32 }),
          np.array(posNow, { dtype: np.int32 }),
          caches!.k,
          caches!.v,
        )
        caches = { k, v }
        return logits.dataSync() as Float32Array
      },
      dispose() {
        if (caches) {
          tree.dispose(caches.k)
          tree.dispose(caches.v)
        }
        caches = null
      },
    }
  }

  /** Native: weights copied in when they changed, cache sized to this call, rows that are done skipped. */
  function nativeSource(dec: NativeDecoder, params: Params, prompts: number[][], maxNew: number): LogitsSource {
    const B = prompts.length
    dec.load(params)
    dec.reset(B, Math.max(...prompts.map((p) => p.length)) + maxNew)
    const logits = new Float32Array(B * c.vocabSize)
    return {
      prefill() {
        dec.prefill(prompts, logits)
        return logits
      },
      step(next, pos, done) {
        const rows = Int32Array.from(done.flatMap((d, b) => (d ? [] : [b])))
        dec.step(rows.map((b) => next[b]), rows, rows.map((b) => pos[b]), logits)
        return logits
      },
      dispose() {},
    }
  }

  /**
   * Sample continuations for a batch of prompts (token id arrays of any lengths >= 1).
   * `params` is not consumed.
   */
  function generate(params: Params, prompts: number[][], opts: SamplingOptions): GenerationResult {
    const B = prompts.length
    if (B === 0) return { tokens: [], logprobs: [], finished: [] }
    const lens = prompts.map((p) => p.length)
    const maxLen = Math.max(...lens)
    if (Math.min(...lens) < 1) throw new Instruct3Error('every prompt needs at least one token', { code: 'EGENERATE' })
    if (maxLen + opts.maxNewTokens > c.nCtx)
      throw new Instruct3Error(`prompt (${maxLen} tokens) + maxNewTokens (${opts.maxNewTokens}) exceeds the context (${c.nCtx})`, {
        code: 'EGENERATE',
        details: { field: 'maxNewTokens' },
      })
    const out: number[][] = prompts.map(() => [])
    const lps: number[][] = prompts.map(() => [])
    const done = prompts.map(() => false)
    if (opts.maxNewTokens <= 0) return { tokens: out, logprobs: lps, finished: done }
    const rng = opts.rng ?? createRng(opts.seed ?? 0)
    const dec = native()
    const source = dec ? nativeSource(dec, params, prompts, opts.maxNewTokens) : jaxSource(params, prompts, opts.maxNewTokens)
    lastBackend = dec ? 'native' : 'jax'
    try {
      let host = source.prefill()
      const pos = Int32Array.from(lens)
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const V = host.length / B
        const next = new Int32Array(B)
        for (let b = 0; b < B; b++) {
          const row = host.subarray(b * V, (b + 1) * V)
          if (done[b]) {
            next[b] = opts.eosId ?? 0
            continue
          }
          const [t, lp] = sampleWithLogprob(row, opts, rng)
          next[b] = t
          out[b].push(t)
          lps[b].push(lp)
          if (opts.eosId !== undefined && t === opts.eosId) done[b] = true
        }
        if (done.every(Boolean) || step === opts.maxNewTokens - 1) break
        host = source.step(next, pos, done)
        for (let b = 0; b < B; b++) if (!done[b]) pos[b]++
      }
    } finally {
      source.dispose()
    }
    return { tokens: out, logprobs: lps, finished: done }
  }

  return {
    generate,
    /** Which engine the last generate call used (null before the first call). */
    get backend() {
      return lastBackend
    },
    /** The native decoder's counters (weight copies, forwards), or null when it is not used. */
    get nativeStats() {
      return nativeDec ? nativeDec.stats : null
    },
    dispose() {
      for (const f of [...prefills.values(), ...decodes.values()]) (f as unknown as { dispose(): void }).dispose()
      prefills.clear()
      decodes.clear()
      nativeDec?.dispose()
      nativeDec = genOpts.native === false ? null : undefined
    },
  }
}

/** log softmax(row)[t], computed stably on the host. */
export function logSoftmaxAt(row: Float32Array, t: number): number {
  let m = -Infinity
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i]
  let s = 0
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m)
  return row[t] - m - Math.log(s)
}

/** exp((row[i] - max) / temperature) for plain sampling; grown to the largest vocabulary seen. */
let scratch = new Float64Array(0)

/**
 * Sample a token from one row of logits -> [token, log softmax(row)[token]]. Plain temperature sampling
 * (no top-k / top-p) runs over a reused buffer, with the same operations in the same order as
 * `sampleToken` + `logSoftmaxAt` (so the same token and log-prob), and at temperature 1 it reuses the
 * exponentials for the log-prob: PPO's rollouts sample this way at V = 4096, where the general path's
 * arrays and closures cost more per row than a native decode step.
 */
export function sampleWithLogprob(row: Float32Array, opts: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): [number, number] {
  const temperature = opts.temperature ?? 1
  const V = row.length
  const plain = temperature > 0 && !(opts.topK && opts.topK > 0 && opts.topK < V) && (opts.topP ?? 1) >= 1
  if (!plain) {
    const t = sampleToken(row, opts, rng)
    return [t, logSoftmaxAt(row, t)]
  }
  if (scratch.length < V) scratch = new Float64Array(V)
  let m = -Infinity
  for (let i = 0; i < V; i++) if (row[i] > m) m = row[i]
  let z = 0
  for (let i = 0; i < V; i++) z += scratch[i] = Math.exp((row[i] - m) / temperature)
  let u = rng.next() * z
  let t = V - 1
  for (let j = 0; j < V; j++) {
    u -= scratch[j]
    if (u <= 0) {
      t = j
      break
    }
  }
  // (row[i] - m) / 1 is row[i] - m: z is then logSoftmaxAt's sum, to the bit
  return [t, temperature === 1 ? row[t] - m - Math.log(z) : logSoftmaxAt(row, t)]
}

/** Temperature / top-k / top-p sampling from one row of logits. */
export function sampleToken(row: Float32Array, opts: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const temperature = opts.temperature ?? 1
  if (temperature <= 0) {
    let best = 0
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i
    return best
  }
  const V = row.length
  let ids: number[] = Array.from({ length: V }, (_, i) => i)
  const topK = opts.topK && opts.topK > 0 ? Math.min(opts.topK, V) : V
  const topP = opts.topP ?? 1
  if (topK < V || topP < 1) ids.sort((a, b) => row[b] - row[a])
  if (topK < V) ids = ids.slice(0, topK)
  let m = -Infinity
  for (const i of ids) if (row[i] > m) m = row[i]
  const probs = ids.map((i) => Math.exp((row[i] - m) / temperature))
  let z = probs.reduce((a, b) => a + b, 0)
  if (topP < 1) {
    let cum = 0
    let cut = probs.length
    for (let j = 0; j < probs.length; j++) {
      cum += probs[j] / z
      if (cum >= topP) {
        cut = j + 1
        break
      }
    }
    ids = ids.slice(0, cut)
    probs.length = cut
    z = probs.reduce((a, b) => a + b, 0)
  }
  let u = rng.next() * z
  for (let j = 0; j < ids.length; j++) {
    u -= probs[j]
    if (u <= 0) return ids[j]
  }
  return ids[ids.length - 1]
}
