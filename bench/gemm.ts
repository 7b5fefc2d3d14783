/**
 * `npm run bench -- gemm [--threads 1,2] [--torch-threads 1,2] [--set train,decode] [--no-torch] [--ab]`
 *
 * GFLOP/s of every matmul shape of a d=256 training step and of a decode step (bench/gemm-shapes.ts), for
 * jax-js (one Node process per thread count; a jitted np.matmul with the layout's transposes fused, as the
 * model runs it), next to PyTorch + OpenBLAS on the same shapes (bench/torch_gemm.py) and next to this
 * machine's WASM SIMD ceiling per core (bench/wasm-ceiling.ts, with and without relaxed-SIMD FMA, timed by CPU
 * time). "% ceiling" is jax-js's wall-clock GFLOP/s over threads x the better ceiling: meaningful on a quiet machine.
 *
 * Native column (issue 17): when the native addon is built (src/model/native-gemm.ts), each shape is also timed
 * through native/gemm.c in the same process (the hook switched on and off per call), by wall clock and by
 * this process's CPU time (all threads: GFLOP per CPU-second is the per-core rate, meaningful under load);
 * OpenBLAS gets the same CPU-time column. The t=N child gives the addon N threads too (INSTRUCT3_NATIVE_THREADS).
 *
 * --ab: A/B of our matmul kernel against jax-js 0.1.25's own, interleaved in one process (one thread):
 * each shape is timed old, new, old, new... by this process's CPU time (INSTRUCT3_JAX_GEMM selects the tiles
 * per compile, see scripts/patches/jax-wasm-gemm.js), and the table gives each side's best round and old/new.
 */
import { execFileSync } from 'node:child_process'
import { jaxChild, machineLine, median, parseArgs, table, torchChild, torchVersion } from './engine-common.ts'
import { decodeShapes, flops, trainingShapes, type GemmShape } from './gemm-shapes.ts'
import { wasmCeiling } from './wasm-ceiling.ts'

type Spec = { shapes: GemmShape[]; ab?: boolean; rounds?: number }
type Timing = { name: string; ms: number; gflops: number; native?: { ms: number; gflops: number; cpuGflops: number } }

/** Median ms of one call of `fn` (after a warm-up call that compiles), by wall clock or by this process's CPU time. */
async function timeShape(fn: () => Promise<void>, targetMs = 40, groups = 5, clock: 'wall' | 'cpu' = 'wall'): Promise<number> {
  const now = clock === 'wall' ? () => performance.now() : () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  await fn()
  const t0 = now()
  await fn()
  const once = Math.max(now() - t0, 1e-3)
  const reps = Math.max(1, Math.round(targetMs / once))
  const times: number[] = []
  for (let g = 0; g < groups; g++) {
    const t = now()
    for (let r = 0; r < reps; r++) await fn()
    times.push((now() - t) / reps)
  }
  return median(times)
}

/** Median wall ms and CPU ms (this process, all threads) of one call, timed over the same calls. */
async function timeShapeBoth(fn: () => Promise<void>, targetMs = 40, groups = 5): Promise<{ wall: number; cpu: number }> {
  const cpuNow = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  await fn()
  const t0 = performance.now()
  await fn()
  const reps = Math.max(1, Math.round(targetMs / Math.max(performance.now() - t0, 1e-3)))
  const wall: number[] = []
  const cpu: number[] = []
  for (let g = 0; g < groups; g++) {
    const [w, c] = [performance.now(), cpuNow()]
    for (let r = 0; r < reps; r++) await fn()
    wall.push((performance.now() - w) / reps)
    cpu.push((cpuNow() - c) / reps)
  }
  return { wall: median(wall), cpu: median(cpu) }
}

async function child(spec: Spec): Promise<void> {
  const { np, jit, requestedThreads } = await import('../src/model/jax.ts')
  const { nativeGemmInfo, setNativeGemm } = await import('../src/model/native-gemm.ts')
  const haveNative = nativeGemmInfo() !== null
  const { createRng } = await import('../src/model/rng.ts')
  const rng = createRng(1)
  const rand = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) data[i] = rng.normal()
    return np.array(data).reshape(shape)
  }
  const tr = (x: ReturnType<typeof rand>) => (x.ndim === 3 ? x.transpose([0, 2, 1]) : x.transpose())
  // one set of jitted functions per side: a jitted function keeps the kernels it compiled first
  const makeMm = () => ({
    nn: jit((a: ReturnType<typeof rand>, b: ReturnType<typeof rand>) => np.matmul(a, b)),
    nt: jit((a: ReturnType<typeof rand>, b: ReturnType<typeof rand>) => np.matmul(a, tr(b))),
    tn: jit((a: ReturnType<typeof rand>, b: ReturnType<typeof rand>) => np.matmul(tr(a), b)),
  })
  const sides = { new: makeMm(), old: makeMm() }
  const out: Timing[] = []
  const abOut: { name: string; old: number[]; new: number[] }[] = []
  for (const s of spec.shapes) {
    const lead = s.batch > 1 ? [s.batch] : []
    const a = rand(s.layout === 'tn' ? [...lead, s.k, s.m] : [...lead, s.m, s.k])
    const b = rand(s.layout === 'nt' ? [...lead, s.n, s.k] : [...lead, s.k, s.n])
    const fnFor = (side: 'old' | 'new', native = false) => async () => {
      // the setting is read when a kernel compiles (first call); set it on every call all the same
      process.env.INSTRUCT3_JAX_GEMM = side === 'old' ? 'upstream' : ''
      // the native plan is made at compile time (hook on), the hook is read per dispatch
      setNativeGemm(native)
      const y = sides[side][s.layout](a.ref, b.ref)
      await y.blockUntilReady()
      y.dispose()
    }
    if (spec.ab) {
      // CPU time of this process, not wall time: on a shared machine the wall clock also counts the time
      // other processes hold the core, which swamps an old/new difference; one thread, so CPU time = work
      const r = { name: s.name, old: [] as number[], new: [] as number[] }
      for (let round = 0; round < (spec.rounds ?? 5); round++) {
        for (const side of ['old', 'new'] as const) r[side].push(await timeShape(fnFor(side), 100, 1, 'cpu'))
      }
      abOut.push(r)
    } else {
      if (haveNative) await fnFor('new', true)() // compile with the hook installed, so the kernel has its native plan
      const ms = await timeShape(fnFor('new'))
      const t: Timing = { name: s.name, ms, gflops: flops(s) / (ms / 1000) / 1e9 }
      if (haveNative) {
        const before = nativeGemmInfo()!.calls
        const n = await timeShapeBoth(fnFor('new', true))
        if (nativeGemmInfo()!.calls === before) throw new Error(`bench gemm: ${s.name} did not run natively`)
        t.native = { ms: n.wall, gflops: flops(s) / (n.wall / 1000) / 1e9, cpuGflops: flops(s) / (n.cpu / 1000) / 1e9 }
      }
      out.push(t)
    }
    a.dispose()
    b.dispose()
  }
  const ceiling = requestedThreads === 1 && !spec.ab ? { relaxed: wasmCeiling(true), muladd: wasmCeiling(false) } : null
  process.stdout.write(JSON.stringify({ threads: requestedThreads, results: out, ab: abOut, ceiling }) + '\n')
}

function loadAvg(): string {
  return execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(JSON.parse(args[1]) as Spec)
  const o = parseArgs(args)
  if (o.help) {
    console.log('usage: npm run bench -- gemm [--threads 1,2] [--torch-threads 1,2] [--set train,decode] [--no-torch] [--ab] [--rounds 3]')
    return
  }
  const sets = (o.set ?? 'train,decode').split(',')
  const shapes = [...(sets.includes('train') ? trainingShapes : []), ...(sets.includes('decode') ? decodeShapes : [])]
  console.log(`# gemm: ${machineLine()}`)
  if (o.ab) {
    const r = (await jaxChild('gemm', { shapes, ab: true, rounds: Number(o.rounds ?? 5) }, 1)) as { ab: { name: string; old: number[]; new: number[] }[] }
    const rows = r.ab.map((x, i) => {
      const s = shapes[i]
      const old = Math.min(...x.old)
      const neu = Math.min(...x.new)
      const gf = (ms: number) => (flops(s) / (ms / 1000) / 1e9).toFixed(1)
      return [s.name, `${s.batch > 1 ? s.batch + 'x ' : ''}${s.m}x${s.k}x${s.n} ${s.layout}`, gf(old), gf(neu), `${(old / neu).toFixed(2)}x`, x.old.map((v) => v.toFixed(2)).join(' '), x.new.map((v) => v.toFixed(2)).join(' ')]
    })
    console.log(table(['shape', 'b x MxKxN layout', 'jax-js 0.1.25 tiles GFLOP/s', 'patched GFLOP/s', 'speedup', 'old CPU ms (rounds)', 'new CPU ms (rounds)'], rows))
    console.log(`# load average at end: ${loadAvg()} (A/B interleaved in one process, one thread, by CPU time; best round of each side)`)
    return
  }
  const threads = (o.threads ?? '1,2').split(',').map(Number)
  const jax: { threads: number; results: Timing[]; ceiling: { relaxed: number | null; muladd: number | null } | null }[] = []
  for (const t of threads) jax.push((await jaxChild('gemm', { shapes }, t, undefined, { INSTRUCT3_NATIVE_THREADS: String(t) })) as (typeof jax)[number])
  const ceil = jax.find((j) => j.ceiling)?.ceiling ?? { relaxed: wasmCeiling(true), muladd: wasmCeiling(false) }
  const best = Math.max(ceil.relaxed ?? 0, ceil.muladd ?? 0)
  let torch: { threads: number; results: { name: string; gflops: number; cpu_gflops: number }[] }[] = []
  const version = o['no-torch'] ? null : torchVersion()
  if (version) {
    for (const t of (o['torch-threads'] ?? '1,2').split(',').map(Number)) torch.push((await torchChild('torch_gemm.py', { shapes, threads: t })) as (typeof torch)[number])
  } else console.log(o['no-torch'] ? '# PyTorch skipped (--no-torch)' : '# PyTorch not installed: jax-js alone')
  const nat = jax.filter((j) => j.results.every((r) => r.native))
  const header = [
    'shape', 'b x MxKxN layout', 'MFLOP',
    ...jax.map((j) => `WASM t=${j.threads} GFLOP/s`), ...jax.map((j) => `% ceiling t=${j.threads}`),
    ...nat.map((j) => `native t=${j.threads} GFLOP/s`), ...nat.map((j) => `native t=${j.threads} GFLOP/CPU-s`),
    ...torch.map((t) => `OpenBLAS t=${t.threads}`), ...torch.map((t) => `OpenBLAS t=${t.threads} GFLOP/CPU-s`),
    ...(torch.length ? ['jax-js best / OpenBLAS best'] : []),
  ]
  const rows = shapes.map((s, i) => {
    const js = jax.map((j) => j.results[i].gflops)
    const ns = nat.map((j) => j.results[i].native!)
    const ts = torch.map((t) => t.results[i])
    const jaxBest = Math.max(...js, ...ns.map((n) => n.gflops))
    return [
      s.name,
      `${s.batch > 1 ? s.batch + 'x ' : ''}${s.m}x${s.k}x${s.n} ${s.layout}`,
      (flops(s) / 1e6).toFixed(1),
      ...js.map((g) => g.toFixed(1)),
      ...jax.map((j, k) => `${((100 * js[k]) / (j.threads * best)).toFixed(0)}%`),
      ...ns.map((n) => n.gflops.toFixed(1)),
      ...ns.map((n) => n.cpuGflops.toFixed(1)),
      ...ts.map((t) => t.gflops.toFixed(1)),
      ...ts.map((t) => (t.cpu_gflops ?? NaN).toFixed(1)),
      ...(ts.length ? [`${(jaxBest / Math.max(...ts.map((t) => t.gflops))).toFixed(2)}x`] : []),
    ]
  })
  // step-weighted: the time a training step spends in matmuls at these rates
  const stepMs = (g: (i: number) => number, set: GemmShape[]) => set.reduce((acc, s) => acc + (s.perStep * flops(s)) / (g(shapes.indexOf(s)) * 1e9) * 1000, 0)
  console.log(table(header, rows))
  console.log(`\nWASM SIMD ceiling per core (12 independent f32x4 accumulators): relaxed_madd ${ceil.relaxed?.toFixed(1) ?? 'unsupported'} GFLOP/s, mul+add ${ceil.muladd?.toFixed(1)} GFLOP/s`)
  for (const [label, set] of [['training step', trainingShapes], ['decode step', decodeShapes]] as const) {
    if (!set.every((s) => shapes.includes(s))) continue
    const parts = [
      ...jax.map((j) => `WASM t=${j.threads} ${stepMs((i) => j.results[i].gflops, set).toFixed(1)} ms`),
      ...nat.map((j) => `native t=${j.threads} ${stepMs((i) => j.results[i].native!.gflops, set).toFixed(1)} ms`),
    ]
    const tparts = torch.map((t) => `OpenBLAS t=${t.threads} ${stepMs((i) => t.results[i].gflops, set).toFixed(1)} ms`)
    console.log(`matmul time of one ${label} at these rates: ${[...parts, ...tparts].join(', ')}`)
  }
  console.log(`# load average at end: ${loadAvg()}${nat.length ? ' (native: in-process, hook on; GFLOP/CPU-s counts every thread of the process)' : ''}`)
}
