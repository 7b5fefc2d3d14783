/**
 * Native matmuls for jax-js's WASM backend (issue 17). Importing this module installs, when the native addon
 * loaded (src/model/native.ts), the kernel host hook that scripts/patches/jax-native-gemm.js adds to jax-js:
 *
 *   prepare(kernel, hash): if the kernel is exactly a matmul, a plan (a GEMM descriptor; see native/gemm.c),
 *                          else null and jax-js runs its WASM kernel unchanged;
 *   run(plan, memory, ptrs): the addon's `gemm` on the WASM memory, in place of the WASM kernel.
 *
 * A kernel is a matmul when its reduction is an f32 Add over K and its expression is the product of two loads whose indices, as functions of the flat output index g and of the
 * reduction index r, are those of C[u](m, n) = sum_r A[u](m, r) B[u](r, n) with g = (u*M + m)*N + n:
 *   index_A(g, r) = aOff[u] + m*sAm + r*sAk,   index_B(g, r) = bOff[u] + n*sBn + r*sBk.
 * The epilogue may be `acc`, `acc * c` (attention's 1/sqrt(d)) and either plus a load whose index is
 * dOff + u*sDu + m*sDm + n*sDn (the bias of a linear layer); anything else stays in WASM.
 * The descriptor is *derived* by evaluating the index expressions (jax-js's own AluExp.evaluate) at a few
 * points, then *verified* at many more: every g when the output is small, else all boundaries of n, m, u,
 * every multiple (+-1) of each divisor/modulus that occurs in the expressions, and random points, each with r
 * at its ends, middle and divisor multiples. Index expressions may only use integer arithmetic on g and r (no
 * loads, no conditionals). The addon additionally refuses any operand that would leave the memory.
 *
 * INSTRUCT3_NATIVE=0 (no addon) or INSTRUCT3_NATIVE_GEMM=0 (this hook only) keeps every matmul in WASM.
 * INSTRUCT3_NATIVE_THREADS sets the addon's threads per matmul (default: every core, os.availableParallelism();
 * INSTRUCT3_THREADS only sizes jax-js's WASM worker pool, which generation keeps at 1 because its small kernels
 * lose to the pool's message latency: the addon's threads have no such cost, so matmuls use all cores anyway).
 */
import { loadNative, type NativeAddon } from './native.ts'
import { availableParallelism } from 'node:os'

/** The addon's matmul functions (native/gemm.c). */
export interface GemmAddon {
  /** C = A @ B on `mem` as `desc` says (GEMM_HEADER fields, then aOff[batch], bOff[batch]); throws on a bad descriptor. */
  gemm(mem: Float32Array, desc: Int32Array, threads: number): void
  /** Calls so far and the micro-kernel this build uses. */
  gemmInfo(): { calls: number; isa: string; mr: number; nr: number }
}

/** What the host hook sees of a jax-js AluExp (0.1.25's dist/backend-*.js). */
interface AluExp {
  op: string
  dtype: string
  src: AluExp[]
  arg: unknown
  evaluate(context: Record<string, number>): number
  rewriteGlobalViews(): AluExp
  simplify(): AluExp
}
interface Kernel {
  nargs: number
  size: number
  exp: AluExp
  reduction?: { op: string; dtype: string; size: number; epilogue: AluExp }
}

/** A matmul recognised in a kernel, with element offsets relative to each operand's buffer. */
export interface GemmPlan {
  /** kernel inputs; the WASM kernel gets nargs input pointers then one output pointer */
  nargs: number
  batch: number
  m: number
  n: number
  k: number
  /** kernel input (gid) holding A and B */
  aInput: number
  bInput: number
  sAm: number
  sAk: number
  sBk: number
  sBn: number
  aOff: number[]
  bOff: number[]
  /** epilogue: C = alpha * acc (+ bias[dOff + u*sDu + m*sDm + n*sDn] from input dInput when dInput >= 0) */
  alpha: number
  dInput: number
  dOff: number
  sDu: number
  sDm: number
  sDn: number
  /** reused descriptor for the addon (calls on one plan never overlap: each runs to completion) */
  desc: Int32Array
}

const HOOK = Symbol.for('instruct3.nativeGemm')
// batch, M, N, K, sAm, sAk, sBk, sBn, cOff, alpha (f32 bits), bias?, dOff, sDu, sDm, sDn (native/gemm.c)
const GEMM_HEADER = 15
const f32bits = new Int32Array(1)
const f32view = new Float32Array(f32bits.buffer)
/** matmuls below this many flops stay on one thread: waking the pool costs more than it saves */
const PARALLEL_MIN_FLOPS = 1 << 20
const INDEX_OPS = new Set(['Add', 'Sub', 'Mul', 'Idiv', 'Mod', 'Const', 'Variable'])

/** The index expression of a plain f32 load `GlobalIndex(gid)[index]`, or null. */
function loadOf(e: AluExp): { gid: number; index: AluExp } | null {
  if (e.op !== 'GlobalIndex' || e.dtype !== 'float32' || e.src.length !== 1) return null
  const [gid] = e.arg as [number, number]
  return { gid, index: e.src[0]! }
}

/** True when `e` is integer arithmetic on gidx/ridx only; collects every divisor/modulus constant. */
function plainIndex(e: AluExp, divisors: Set<number>): boolean {
  if (!INDEX_OPS.has(e.op)) return false
  if (e.op === 'Variable' && e.arg !== 'gidx' && e.arg !== 'ridx') return false
  if ((e.op === 'Idiv' || e.op === 'Mod') && e.src[1]?.op === 'Const') divisors.add(Math.abs(Number(e.src[1].arg)))
  return e.src.every((s) => plainIndex(s, divisors))
}

/** Smallest divisor d of `total` for which `breaks(d)` (1 included: M = 1 per batch), or `total` when none does. */
function firstBreak(total: number, breaks: (d: number) => boolean): number {
  for (let d = 1; d < total; d++) if (total % d === 0 && breaks(d)) return d
  return total
}

/** A deterministic pseudo-random integer stream (probe points must not depend on Math.random). */
function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % n
  }
}

/** Points of [0, size) worth probing: the ends, both sides of each multiple of `steps`, and random ones. */
function probePoints(size: number, steps: number[], random: number, seed: number): number[] {
  const pts = new Set<number>([0, 1, 2, size >> 1, size - 2, size - 1])
  for (const s of steps) {
    if (s <= 0 || s >= size) continue
    const mult = Math.floor(size / s)
    for (const j of [1, 2, 3, mult >> 1, mult - 1, mult]) for (const d of [-1, 0, 1]) pts.add(j * s + d)
  }
  const rand = lcg(seed)
  for (let i = 0; i < random; i++) pts.add(rand(size))
  return [...pts].filter((p) => p >= 0 && p < size)
}

const isAcc = (e: AluExp) => e.op === 'Variable' && e.arg === 'acc'

/** `acc`, `acc * c`, and either `+ load` (either order): alpha and the bias load, or null. */
function parseEpilogue(e: AluExp): { alpha: number; bias: { gid: number; index: AluExp } | null } | null {
  const scaled = (x: AluExp): number | null => {
    if (isAcc(x)) return 1
    if (x.op !== 'Mul') return null
    const [p, q] = x.src as [AluExp, AluExp]
    const c = isAcc(p) ? q : isAcc(q) ? p : null
    return c && c.op === 'Const' && c.dtype === 'float32' && Number.isFinite(Number(c.arg)) ? Number(c.arg) : null
  }
  const alpha = scaled(e)
  if (alpha !== null) return { alpha, bias: null }
  if (e.op !== 'Add' || e.dtype !== 'float32') return null
  for (const [x, y] of [[e.src[0]!, e.src[1]!], [e.src[1]!, e.src[0]!]]) {
    const a = scaled(x)
    const bias = loadOf(y)
    if (a !== null && bias) return { alpha: a, bias }
  }
  return null
}

/** The matmul descriptor of `kernel`, verified, or null when it is not exactly a matmul. */
export function recognizeGemm(kernel: Kernel): GemmPlan | null {
  try {
    return recognize(kernel)
  } catch {
    return null // an expression we cannot evaluate (another variable, an unexpected node): not ours
  }
}

function recognize(kernel: Kernel): GemmPlan | null {
  const re = kernel.reduction
  if (!re || re.op !== 'Add' || re.dtype !== 'float32' || re.size < 1 || kernel.size < 2) return null
  const epi = parseEpilogue(re.epilogue.rewriteGlobalViews().simplify())
  if (!epi) return null
  const exp = kernel.exp.rewriteGlobalViews().simplify()
  if (exp.op !== 'Mul' || exp.dtype !== 'float32') return null
  const loads = exp.src.map(loadOf)
  if (loads.length !== 2 || !loads[0] || !loads[1]) return null
  const divisors = new Set<number>()
  if (!loads.every((l) => plainIndex(l!.index, divisors))) return null
  if (epi.bias && !plainIndex(epi.bias.index, divisors)) return null
  const at = (e: AluExp) => (g: number, r: number) => e.evaluate({ gidx: g, ridx: r })
  // A is the operand that does not move along the output row (n); B the one that does
  let [fa, fb] = [at(loads[0].index), at(loads[1].index)]
  let [aInput, bInput] = [loads[0].gid, loads[1].gid]
  if (fa(1, 0) !== fa(0, 0)) {
    ;[fa, fb] = [fb, fa]
    ;[aInput, bInput] = [bInput, aInput]
  }
  if (fa(1, 0) !== fa(0, 0) || fb(1, 0) === fb(0, 0)) return null
  const S = kernel.size
  const K = re.size
  const sBn = fb(1, 0) - fb(0, 0)
  const N = firstBreak(S, (d) => fa(d, 0) !== fa(0, 0) || fb(d, 0) !== fb(0, 0) + d * sBn)
  const rows = S / N
  const sAm = rows > 1 ? fa(N, 0) - fa(0, 0) : 0
  const M = firstBreak(rows, (d) => fa(d * N, 0) !== fa(0, 0) + d * sAm || fb(d * N, 0) !== fb(0, 0))
  const batch = rows / M
  const sAk = K > 1 ? fa(0, 1) - fa(0, 0) : 0
  const sBk = K > 1 ? fb(0, 1) - fb(0, 0) : 0
  const aOff: number[] = []
  const bOff: number[] = []
  for (let u = 0; u < batch; u++) {
    aOff.push(fa(u * M * N, 0))
    bOff.push(fb(u * M * N, 0))
  }
  // the bias index as a function of g alone (it must not use r: evaluate throws on a missing variable)
  const fd = epi.bias ? ((e: AluExp) => (g: number) => e.evaluate({ gidx: g }))(epi.bias.index) : null
  const d0 = fd ? fd(0) : 0
  const sDn = fd && N > 1 ? fd(1) - d0 : 0
  const sDm = fd && M > 1 ? fd(N) - d0 : 0
  const sDu = fd && batch > 1 ? fd(M * N) - d0 : 0
  if ([sAm, sAk, sBk, sBn, ...aOff, ...bOff, d0, sDn, sDm, sDu].some((v) => v < 0 || !Number.isInteger(v))) return null
  const plan: GemmPlan = {
    nargs: kernel.nargs, batch, m: M, n: N, k: K, aInput, bInput, sAm, sAk, sBk, sBn, aOff, bOff,
    alpha: epi.alpha, dInput: epi.bias ? epi.bias.gid : -1, dOff: d0, sDu, sDm, sDn,
    desc: new Int32Array(GEMM_HEADER + 2 * batch),
  }
  return verify(plan, fa, fb, fd, S, [...divisors]) ? plan : null
}

/** Check the descriptor against the index expressions at the probe points (see the module comment). */
function verify(p: GemmPlan, fa: (g: number, r: number) => number, fb: (g: number, r: number) => number, fd: ((g: number) => number) | null, S: number, divisors: number[]): boolean {
  const { m: M, n: N, k: K } = p
  const gs = S <= 4096 ? Array.from({ length: S }, (_, i) => i) : probePoints(S, [N, M * N, ...divisors], 1500, S)
  const rs = K <= 16 ? Array.from({ length: K }, (_, i) => i) : probePoints(K, divisors, 8, K)
  for (const g of gs) {
    const u = Math.floor(g / (M * N))
    const m = Math.floor(g / N) % M
    const n = g % N
    if (fd && fd(g) !== p.dOff + u * p.sDu + m * p.sDm + n * p.sDn) return false
    for (const r of rs) {
      if (fa(g, r) !== p.aOff[u]! + m * p.sAm + r * p.sAk) return false
      if (fb(g, r) !== p.bOff[u]! + n * p.sBn + r * p.sBk) return false
    }
  }
  return true
}

// ---- the hook ---------------------------------------------------------------------------------------------

/** Test seam: called on each descriptor just before the addon runs it (tests corrupt it to prove they notice). */
export const nativeGemmTesting: { mutateDescriptor: ((desc: Int32Array) => void) | null } = { mutateDescriptor: null }

let addon: (NativeAddon & GemmAddon) | null = null
const plans = new Map<string, GemmPlan | null>()
let view: Float32Array | null = null
let threads = availableParallelism()

/** A Float32Array over the whole WASM memory, renewed when the memory grows (a new buffer). */
function memoryView(memory: WebAssembly.Memory): Float32Array {
  const buffer = memory.buffer
  if (!view || view.buffer !== buffer) view = new Float32Array(buffer)
  return view
}

function prepare(kernel: Kernel, hash: string): GemmPlan | null {
  let plan = plans.get(hash)
  if (plan === undefined) {
    plan = recognizeGemm(kernel)
    plans.set(hash, plan)
  }
  return plan
}

function run(plan: GemmPlan, memory: WebAssembly.Memory, ptrs: number[]): void {
  if (ptrs.length !== plan.nargs + 1) throw new Error(`native gemm: expected ${plan.nargs} inputs and 1 output, got ${ptrs.length} pointers`)
  const out = ptrs[plan.nargs]!
  const a = ptrs[plan.aInput]!
  const b = ptrs[plan.bInput]!
  const bias = plan.dInput >= 0 ? ptrs[plan.dInput]! : 0
  if ((a | b | out | bias) & 3) throw new Error(`native gemm: operand not 4-byte aligned (A ${a}, B ${b}, C ${out}, bias ${bias})`)
  const d = plan.desc
  d[0] = plan.batch
  d[1] = plan.m
  d[2] = plan.n
  d[3] = plan.k
  d[4] = plan.sAm
  d[5] = plan.sAk
  d[6] = plan.sBk
  d[7] = plan.sBn
  d[8] = out >>> 2
  f32view[0] = plan.alpha
  d[9] = f32bits[0]!
  d[10] = plan.dInput >= 0 ? 1 : 0
  d[11] = (bias >>> 2) + plan.dOff
  d[12] = plan.sDu
  d[13] = plan.sDm
  d[14] = plan.sDn
  for (let u = 0; u < plan.batch; u++) {
    d[GEMM_HEADER + u] = (a >>> 2) + plan.aOff[u]!
    d[GEMM_HEADER + plan.batch + u] = (b >>> 2) + plan.bOff[u]!
  }
  nativeGemmTesting.mutateDescriptor?.(d)
  const flops = 2 * plan.batch * plan.m * plan.n * plan.k
  addon!.gemm(memoryView(memory), d, flops >= PARALLEL_MIN_FLOPS ? threads : 1)
}

const hook = { prepare, run }

/** Route recognised matmuls to the addon (true) or back to WASM (false). Returns whether native is now on. */
export function setNativeGemm(on: boolean): boolean {
  const g = globalThis as unknown as Record<symbol, unknown>
  if (on && addon) g[HOOK] = hook
  else delete g[HOOK]
  return g[HOOK] === hook
}

/** The addon's call counter and ISA, or null without the addon. */
export function nativeGemmInfo(): ReturnType<GemmAddon['gemmInfo']> | null {
  return addon ? addon.gemmInfo() : null
}

/** Threads per native matmul (the addon's pool). */
export function setNativeGemmThreads(n: number): void {
  threads = Math.max(1, n | 0)
}

{
  const loaded = loadNative() as (NativeAddon & Partial<GemmAddon>) | null
  if (loaded && typeof loaded.gemm === 'function' && typeof loaded.gemmInfo === 'function') addon = loaded as NativeAddon & GemmAddon
  if (process.env.INSTRUCT3_NATIVE_THREADS) setNativeGemmThreads(Number(process.env.INSTRUCT3_NATIVE_THREADS))
  setNativeGemm(process.env.INSTRUCT3_NATIVE_GEMM !== '0')
}
