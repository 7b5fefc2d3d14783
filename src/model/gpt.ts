/**
 * The GPT-2 model: pre-LayerNorm blocks, learned positions, causal self-attention, tanh GELU,
 * weight-tied LM head. Parameters are a flat record keyed by their Hugging Face GPT-2 names
 * (the mapping is spelled out once, in `paramShapes`), with Conv1D weights in [in, out] layout,
 * so a checkpoint is just this record written as safetensors.
 *
 * Ownership (jax-js): every function here consumes the arrays it is given, once each, as jax-js
 * requires; `.ref` marks a second use. Shapes are in comments: B batch, T time, C = nEmbd,
 * H heads, D = C / H, V vocab.
 */
import { np, nn, random, type JArray } from './jax.ts'
import type { GPTConfig } from './config.ts'
import { createRng } from './rng.ts'

export type Params = Record<string, JArray>
/** Host-side parameters (for init, checkpoints and tests). */
export type HostParams = Record<string, Float32Array>

/** Every parameter's HF GPT-2 name and shape, in checkpoint order. */
export function paramShapes(c: GPTConfig): Array<[string, number[]]> {
  const C = c.nEmbd
  const out: Array<[string, number[]]> = [
    ['transformer.wte.weight', [c.vocabSize, C]],
    ['transformer.wpe.weight', [c.nCtx, C]],
  ]
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`
    out.push(
      [`${h}.ln_1.weight`, [C]],
      [`${h}.ln_1.bias`, [C]],
      [`${h}.attn.c_attn.weight`, [C, 3 * C]],
      [`${h}.attn.c_attn.bias`, [3 * C]],
      [`${h}.attn.c_proj.weight`, [C, C]],
      [`${h}.attn.c_proj.bias`, [C]],
      [`${h}.ln_2.weight`, [C]],
      [`${h}.ln_2.bias`, [C]],
      [`${h}.mlp.c_fc.weight`, [C, 4 * C]],
      [`${h}.mlp.c_fc.bias`, [4 * C]],
      [`${h}.mlp.c_proj.weight`, [4 * C, C]],
      [`${h}.mlp.c_proj.bias`, [C]],
    )
  }
  out.push(['transformer.ln_f.weight', [C]], ['transformer.ln_f.bias', [C]])
  return out
}

/**
 * GPT-2 init: N(0, 0.02) for weights and embeddings, residual projections (attn.c_proj, mlp.c_proj)
 * scaled by 1/sqrt(2 * nLayer), zeros for biases, ones for LayerNorm gains. Deterministic in `seed`,
 * computed on the host so it does not depend on the engine's RNG.
 */
export function initParams(c: GPTConfig, seed: number): HostParams {
  const rng = createRng(seed)
  const out: HostParams = {}
  const residStd = 0.02 / Math.sqrt(2 * c.nLayer)
  for (const [name, shape] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1)
    const a = new Float32Array(n)
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight')) a.fill(1)
    else if (name.endsWith('.bias')) a.fill(0)
    else {
      const std = name.endsWith('c_proj.weight') ? residStd : 0.02
      for (let i = 0; i < n; i++) a[i] = rng.normal() * std
    }
    out[name] = a
  }
  return out
}

/** Upload host parameters to the engine. */
export function toDevice(c: GPTConfig, host: HostParams): Params {
  const p: Params = {}
  for (const [name, shape] of paramShapes(c)) p[name] = np.array(host[name]).reshape(shape)
  return p
}


export function layerNorm(x: JArray, g: JArray, b: JArray, eps: number): JArray {
  // x: [..., C]
  const mu = x.ref.mean(-1, { keepdims: true })
  const xc = x.sub(mu)
  const v = np.square(xc.ref).mean(-1, { keepdims: true })
  return xc.mul(np.reciprocal(np.sqrt(v.add(eps)))).mul(g).add(b)
}

const GELU_C = Math.sqrt(2 / Math.PI)

/**
 * GPT-2's tanh GELU, 0.5 x (1 + tanh u) with u = sqrt(2/pi) (x + 0.044715 x^3), written as x * sigmoid(2u)
 * (the same function: 0.5 (1 + tanh u) = sigmoid(2u)), which jax-js 0.1.25 fuses into fewer, cheaper
 * elementwise kernels than its nn.gelu: forward+backward on [1024, 1024] measured 14.9 -> 12.0 ms CPU time,
 * values within 8e-8 and gradients within 5e-8 of the float64 tanh formula. exp's argument is capped at 80
 * (where the result is ~1e-35 x): an overflow to inf would make the gradient inf * 0 = NaN.
 */
export function geluTanh(x: JArray): JArray {
  const negTwoU = x.ref.mul(np.square(x.ref).mul(-2 * GELU_C * 0.044715).sub(2 * GELU_C)) // -2u
  return x.mul(np.reciprocal(np.exp(np.minimum(negTwoU, 80)).add(1)))
}

/** x @ W + b for x [..., in], W [in, out] (Conv1D layout). */
function linear(x: JArray, w: JArray, b: JArray): JArray {
  const shape = x.shape
  const n = shape[shape.length - 1]
  const rows = shape.slice(0, -1)
  const y = np.matmul(x.reshape([-1, n]), w).add(b)
  return y.reshape([...rows, -1])
}

export type ForwardOptions = {
  /** PRNG key for dropout (training only); omit for deterministic forward. */
  dropoutKey?: JArray
}

function dropout(x: JArray, rate: number, key: JArray | undefined): JArray {
  if (!key || rate <= 0) {
    key?.dispose()
    return x
  }
  const keep = random.bernoulli(key, 1 - rate, x.shape)
  return np.where(keep, x.div(1 - rate), 0)
}

/**
 * Self-attention inside a block: q, k, v [B, T, H, D] for the block's new positions -> [B, T, H, D].
 * Training attends causally over the sequence; generation writes k/v into its cache first (generate.ts).
 */
export type Attend = (q: JArray, k: JArray, v: JArray, layer: number) => JArray

export const causalAttention: Attend = (q, k, v) => nn.dotProductAttention(q, k, v, { isCausal: true })

/** Embeddings of tokens [B, T] at positions 0..T-1 -> [B, T, C]. Does not consume `wte`. */
export function embed(p: Params, idx: JArray): JArray {
  const T = idx.shape[1]
  return np.take(p['transformer.wte.weight'].ref, idx, 0).add(p['transformer.wpe.weight'].slice([0, T])) // [B, T, C] + [T, C]
}

/**
 * Block i (pre-LayerNorm): x [B, T, C] -> x + attn(ln_1(x)) -> x + mlp(ln_2(x)). Consumes the block's
 * parameters. The one definition of a block, for training, prefill and decode alike.
 */
export function block(p: Params, i: number, x: JArray, c: GPTConfig, attend: Attend, dropoutKeys?: { attn?: JArray; mlp?: JArray }): JArray {
  const [B, T] = x.shape
  const H = c.nHead
  const D = c.nEmbd / H
  const h = `transformer.h.${i}`
  const a = layerNorm(x.ref, p[`${h}.ln_1.weight`], p[`${h}.ln_1.bias`], c.layerNormEps)
  const qkv = linear(a, p[`${h}.attn.c_attn.weight`], p[`${h}.attn.c_attn.bias`]).reshape([B, T, 3, H, D])
  const q = qkv.ref.slice([], [], 0) // [B, T, H, D]
  const k = qkv.ref.slice([], [], 1)
  const v = qkv.slice([], [], 2)
  const y = attend(q, k, v, i).reshape([B, T, c.nEmbd])
  const ao = linear(y, p[`${h}.attn.c_proj.weight`], p[`${h}.attn.c_proj.bias`])
  x = x.add(dropout(ao, c.dropout, dropoutKeys?.attn))
  const m = layerNorm(x.ref, p[`${h}.ln_2.weight`], p[`${h}.ln_2.bias`], c.layerNormEps)
  const f = geluTanh(linear(m, p[`${h}.mlp.c_fc.weight`], p[`${h}.mlp.c_fc.bias`]))
  const mo = linear(f, p[`${h}.mlp.c_proj.weight`], p[`${h}.mlp.c_proj.bias`])
  return x.add(dropout(mo, c.dropout, dropoutKeys?.mlp))
}

/**
 * Transformer trunk: tokens [B, T] (int32) -> final hidden states [B, T, C] after ln_f.
 * Consumes every parameter except `transformer.wte.weight`, which is returned to the caller
 * (still owned) for the tied LM head.
 */
export function trunk(p: Params, idx: JArray, c: GPTConfig, opts: ForwardOptions = {}): { h: JArray; wte: JArray } {
  const wte = p['transformer.wte.weight']
  const keys = opts.dropoutKey ? random.split(opts.dropoutKey, 1 + 2 * c.nLayer) : undefined
  const keyAt = (i: number) => (keys ? keys.ref.slice(i) : undefined)

  let x = dropout(embed(p, idx), c.dropout, keyAt(0))
  for (let i = 0; i < c.nLayer; i++) x = block(p, i, x, c, causalAttention, { attn: keyAt(1 + 2 * i), mlp: keyAt(2 + 2 * i) })
  keys?.dispose()
  const hOut = layerNorm(x, p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], c.layerNormEps)
  return { h: hOut, wte }
}

/**
 * Attention with an explicit mask, written out with matmuls (faster here than nn.dotProductAttention
 * with `mask`): q [B, L, H, D], k/v [B, S, H, D], mask [B, 1, L, S] (true = attend) -> [B, L, H, D].
 */
function maskedAttention(q: JArray, k: JArray, v: JArray, mask: JArray): JArray {
  const D = q.shape[3]
  const s = np.matmul(q.transpose([0, 2, 1, 3]), k.transpose([0, 2, 3, 1])).mul(1 / Math.sqrt(D)) // [B, H, L, S]
  const pr = nn.softmax(np.where(mask, s, -1e30), -1)
  return np.matmul(pr, v.transpose([0, 2, 1, 3])).transpose([0, 2, 1, 3])
}

/** Block i's parameters, each referenced once more (for a second use of the same block). */
function blockRefs(p: Params, i: number): Params {
  const name = `transformer.h.${i}.`
  return Object.fromEntries(Object.entries(p).flatMap(([k, v]) => (k.startsWith(name) ? [[k, v.ref]] : [])))
}

/**
 * Trunk over shared prefixes: G prefixes [G, Tp] (right-padded, `prefixLen` [G] real tokens, >= 1), each
 * continued by K continuations [G*K, Tr] (rows g*K..g*K+K-1 continue prefix g). A continuation sits at
 * positions prefixLen[g].., attends to its prefix's real tokens and causally to itself, so its hidden
 * states equal trunk() on the concatenated sequence, while the prefix is forwarded once instead of K times.
 * -> continuation hidden states [G*K, Tr, C] after ln_f. Ownership as trunk().
 */
export function prefixTrunk(p: Params, prefix: JArray, prefixLen: JArray, rest: JArray, c: GPTConfig, opts: ForwardOptions = {}): { h: JArray; wte: JArray } {
  const [G, Tp] = prefix.shape
  const [N, Tr] = rest.shape
  const K = N / G
  const H = c.nHead
  const D = c.nEmbd / H
  const wte = p['transformer.wte.weight']
  const wpe = p['transformer.wpe.weight']
  const keys = opts.dropoutKey ? random.split(opts.dropoutKey, 2 + 4 * c.nLayer) : undefined
  const keyAt = (i: number) => (keys ? keys.ref.slice(i) : undefined)

  const len = np.repeat(prefixLen, K, 0) // [N]: each continuation's prefix length
  // continuation positions prefixLen + t, clamped into the table (only padding goes past it): [N, Tr]
  const pos = np.minimum(len.ref.reshape([N, 1]).add(np.arange(Tr).reshape([1, Tr])), c.nCtx - 1)
  let xp = dropout(np.take(wte.ref, prefix, 0).add(wpe.ref.slice([0, Tp])), c.dropout, keyAt(0)) // [G, Tp, C]
  let xr = dropout(np.take(wte.ref, rest, 0).add(np.take(wpe, pos, 0)), c.dropout, keyAt(1)) // [N, Tr, C]
  // keys a continuation attends to: its prefix's real tokens, then itself causally -> [N, 1, Tr, Tp + Tr]
  const inPrefix = np.broadcastTo(np.less(np.arange(Tp).reshape([1, 1, 1, Tp]), len.reshape([N, 1, 1, 1])), [N, 1, Tr, Tp])
  const causal = np.broadcastTo(np.lessEqual(np.arange(Tr).reshape([1, 1, 1, Tr]), np.arange(Tr).reshape([1, 1, Tr, 1])), [N, 1, Tr, Tr])
  const mask = np.concatenate([inPrefix, causal], 3)
  // a prefix's keys or values [G, Tp, H, D], once for each of its K continuations -> [N, Tp, H, D]
  const perRow = (a: JArray) => np.broadcastTo(a.reshape([G, 1, Tp, H, D]), [G, K, Tp, H, D]).reshape([N, Tp, H, D])
  for (let i = 0; i < c.nLayer; i++) {
    let pk: JArray | undefined
    let pv: JArray | undefined
    const capture: Attend = (q, k, v, layer) => {
      pk = k.ref
      pv = v.ref
      return causalAttention(q, k, v, layer)
    }
    const shared: Attend = (q, k, v) => maskedAttention(q, np.concatenate([perRow(pk!), k], 1), np.concatenate([perRow(pv!), v], 1), mask.ref)
    xp = block(blockRefs(p, i), i, xp, c, capture, { attn: keyAt(2 + 4 * i), mlp: keyAt(3 + 4 * i) })
    xr = block(p, i, xr, c, shared, { attn: keyAt(4 + 4 * i), mlp: keyAt(5 + 4 * i) })
  }
  xp.dispose()
  mask.dispose()
  keys?.dispose()
  return { h: layerNorm(xr, p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], c.layerNormEps), wte }
}

/** Tied LM head: hidden [B, T, C] @ wte^T -> logits [B, T, V]. */
export function lmHead(h: JArray, wte: JArray): JArray {
  const [B, T, C] = h.shape
  return np.matmul(h.reshape([B * T, C]), wte.transpose()).reshape([B, T, -1])
}

/** Full forward: tokens [B, T] -> logits [B, T, V]. */
export function forward(p: Params, idx: JArray, c: GPTConfig, opts: ForwardOptions = {}): JArray {
  const { h, wte } = trunk(p, idx, c, opts)
  return lmHead(h, wte)
}

/**
 * Per-token log-probabilities of `targets` under `logits`: [B, T, V], [B, T] -> [B, T].
 * logp(y) = logit_y - logsumexp(logits).
 */
export function tokenLogProbs(logits: JArray, targets: JArray): JArray {
  const lse = nn.logsumexp(logits.ref, -1) // [B, T]
  const picked = np.takeAlongAxis(logits, targets.reshape([...targets.shape, 1]), -1).reshape(targets.shape)
  return picked.sub(lse)
}

/**
 * Mean next-token cross-entropy over positions where mask = 1.
 * idx [B, T] inputs, targets [B, T], mask [B, T] float32.
 */
export function lmLoss(p: Params, idx: JArray, targets: JArray, mask: JArray, c: GPTConfig, opts: ForwardOptions = {}): JArray {
  const logits = forward(p, idx, c, opts)
  const lp = tokenLogProbs(logits, targets) // [B, T]
  const denom = np.maximum(mask.ref.sum(), 1)
  return lp.mul(mask).sum().neg().div(denom)
}
