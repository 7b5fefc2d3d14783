/**
 * `npm run bench -- train [--threads 1,2] [--native 0,1] [--steps 8] [--warmup 2] [--models d128,d256,gpt2s] [--torch-threads 1,2] [--repeat 1] [--no-torch]`
 * `npm run bench -- train --profile [d256]`: per-kernel time breakdown of training steps (jax-js profiler)
 * `npm run bench -- train --ab [--models d128,d256] [--steps 10]`: our matmul tiles against jax-js 0.1.25's, A/B in one process
 * `npm run bench -- train --ab native [--models d128,d256] [--steps 10]`: WASM matmuls against native ones, the same way
 *
 * Training throughput (tokens/s, median step after warmup) and peak RSS of the GPT engine on random
 * tokens, against the same model in PyTorch (bench/torch_train.py) when /usr/bin/python3 has torch.
 * Each setting runs in its own process. jax-js settings:
 *   trainable       createTrainable (src/model) as training uses it: jit(valueAndGrad) + jitted AdamW,
 *                   results read with item(); INSTRUCT3_THREADS=N
 *   async-grad      the same jitted loss/gradient, but awaited with blockUntilReady before the (sync)
 *                   AdamW step: jax-js 0.1.25 only hands kernels to its worker pool on async reads
 * --native 0,1: each jax-js setting with matmuls in WASM (INSTRUCT3_NATIVE=0) and through the native addon
 * (native/gemm.c, with INSTRUCT3_NATIVE_THREADS = the setting's thread count); the default is both when the addon is built.
 * With --repeat N the settings run round-robin N times (interleaved A/B on a shared machine), best run shown.
 */
import { np, jit, valueAndGrad, tree, blockUntilReady, requestedThreads, type JArray } from '../src/model/jax.ts'
import { profiler } from '@jax-js/jax'
import { makeConfig, paramCount, type GPTConfig } from '../src/model/config.ts'
import { initParams, type Params } from '../src/model/gpt.ts'
import { createTrainable, toBatch, uploadParams, type HostBatch } from '../src/model/trainable.ts'
import { lmObjective, type Batch } from '../src/model/objectives.ts'
import { createAdamW, defaultAdamW } from '../src/model/optim.ts'
import { createRng } from '../src/model/rng.ts'
import { jaxChild, kernelBreakdown, machineLine, median, parseArgs, peakRssMb, table, torchChild, torchVersion } from './engine-common.ts'
import { loadNative } from '../src/model/native.ts'

type ModelSpec = { name: string; config: GPTConfig; batch: number }

const MODELS: Record<string, () => ModelSpec> = {
  d128: () => ({ name: 'd128 (4L 4H V256 T64 B16)', config: makeConfig({ vocabSize: 256, nCtx: 64, nEmbd: 128, nLayer: 4, nHead: 4 }), batch: 16 }),
  d256: () => ({ name: 'd256 (4L 4H V256 T64 B16)', config: makeConfig({ vocabSize: 256, nCtx: 64, nEmbd: 256, nLayer: 4, nHead: 4 }), batch: 16 }),
  // GPT-2 small's block (d 768, 12 heads, MLP 3072) at reduced depth, vocabulary and batch
  gpt2s: () => ({ name: 'GPT-2-small block (2L 12H d768 V256 T64 B8)', config: makeConfig({ vocabSize: 256, nCtx: 64, nEmbd: 768, nLayer: 2, nHead: 12 }), batch: 8 }),
}

type ChildSpec = { model: string; mode: 'trainable' | 'async-grad' | 'profile' | 'ab'; steps: number; warmup: number; compare?: 'tiles' | 'native' }

function randomBatch(c: GPTConfig, B: number, seed: number): HostBatch {
  const rng = createRng(seed)
  const T = c.nCtx
  const seq = Int32Array.from({ length: B * (T + 1) }, () => rng.int(c.vocabSize))
  const inputs = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  for (let b = 0; b < B; b++) {
    inputs.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T)
    targets.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T)
  }
  return { inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] }, mask: { data: new Float32Array(B * T).fill(1), shape: [B, T] } }
}

async function child(spec: ChildSpec): Promise<void> {
  const m = MODELS[spec.model]()
  const c = m.config
  const times: number[] = []
  const losses: number[] = []
  if (spec.mode === 'ab') return abChild(spec)
  if (spec.mode === 'profile') {
    // warm up (compile), then trace every kernel of `steps - warmup` steps
    const tr = createTrainable({ config: c, params: initParams(c, 0), objective: lmObjective })
    for (let s = 0; s < spec.warmup; s++) {
      tr.accumulate(randomBatch(c, m.batch, s))
      tr.update(3e-4)
    }
    const n = spec.steps - spec.warmup
    const batches = Array.from({ length: n }, (_, s) => randomBatch(c, m.batch, 100 + s))
    performance.clearMeasures()
    profiler.startTrace()
    const t0 = performance.now()
    const updates: Array<[number, number]> = []
    for (const b of batches) {
      tr.accumulate(b)
      const u0 = performance.now()
      tr.update(3e-4)
      updates.push([u0, performance.now()])
    }
    const wall = performance.now() - t0
    profiler.stopTrace()
    const entries = performance.getEntriesByType('measure')
    const inUpdate = entries.filter((e) => updates.some(([a, b]) => e.startTime >= a && e.startTime < b))
    const updWall = updates.reduce((a, [u0, u1]) => a + u1 - u0, 0) / n
    const updKernels = inUpdate.reduce((a, e) => a + e.duration, 0) / n
    const report =
      kernelBreakdown(entries, wall, n) +
      `\n\nAdamW update (jitted, whole parameter record): ${updWall.toFixed(1)} ms/step wall (${((100 * updWall * n) / wall).toFixed(1)}% of the step), ` +
      `${updKernels.toFixed(1)} ms in ${inUpdate.length / n} kernels`
    tr.dispose()
    process.stdout.write(`${m.name}: ${n} traced steps, ${(wall / n).toFixed(0)} ms/step (tracing adds a little)\n${report}\n`)
    process.stdout.write(JSON.stringify({ ok: true }) + '\n')
    return
  } else if (spec.mode === 'trainable') {
    const tr = createTrainable({ config: c, params: initParams(c, 0), objective: lmObjective })
    for (let s = 0; s < spec.steps; s++) {
      const batch = randomBatch(c, m.batch, s)
      const t0 = performance.now()
      losses.push(tr.accumulate(batch).loss)
      tr.update(3e-4)
      times.push(performance.now() - t0)
    }
    tr.dispose()
  } else {
    const lossGrad = jit(valueAndGrad((p: Params, b: Batch) => lmObjective(p, b, c)[0]))
    const adam = createAdamW(defaultAdamW)
    let params = uploadParams(c, initParams(c, 0))
    let state = { m: tree.map((x: JArray) => np.zerosLike(x), tree.ref(params)) as Params, v: tree.map((x: JArray) => np.zerosLike(x), tree.ref(params)) as Params, step: 0 }
    for (let s = 0; s < spec.steps; s++) {
      const batch = randomBatch(c, m.batch, s)
      const t0 = performance.now()
      const [loss, grads] = lossGrad(tree.ref(params), toBatch(batch)) as unknown as [JArray, Params]
      await blockUntilReady(grads)
      losses.push(((await loss.data()) as Float32Array)[0])
      const out = adam.step(params, grads, state, 3e-4)
      params = out.params
      state = out.state
      times.push(performance.now() - t0)
    }
    tree.dispose([params, state.m, state.v])
  }
  const stepMs = median(times.slice(spec.warmup))
  const out = { threads: requestedThreads, mode: spec.mode, step_s: stepMs / 1000, tokens_per_s: (m.batch * c.nCtx) / (stepMs / 1000), first_step_s: times[0] / 1000, peak_rss_mb: peakRssMb(), losses }
  process.stdout.write(JSON.stringify(out) + '\n')
}

/**
 * --ab: one process, one thread, two trainables on the same weights and batches, stepped alternately: one
 * compiled with jax-js 0.1.25's matmul tiles (INSTRUCT3_JAX_GEMM=upstream, read when a kernel compiles and
 * part of the kernel cache key), one with ours. Step time is this process's CPU time, which other processes
 * on a shared machine do not inflate the way they inflate the wall clock.
 */
async function abChild(spec: ChildSpec): Promise<void> {
  const m = MODELS[spec.model]()
  const c = m.config
  const cpuMs = (): number => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  const sides = { old: 'upstream', new: '' } as const
  const native = spec.compare === 'native'
  const { setNativeGemm } = await import('../src/model/native-gemm.ts')
  // native A/B: both sides use our tiles; the hook is on for the new side only (read at compile and at dispatch)
  const pick = (side: 'old' | 'new') => {
    if (native) setNativeGemm(side === 'new')
    else process.env.INSTRUCT3_JAX_GEMM = sides[side]
  }
  if (native && !setNativeGemm(true)) throw new Error('bench train --ab native: the native addon is not built')
  const trs = {
    old: createTrainable({ config: c, params: initParams(c, 0), objective: lmObjective }),
    new: createTrainable({ config: c, params: initParams(c, 0), objective: lmObjective }),
  }
  const times = { old: [] as number[], new: [] as number[] }
  const losses = { old: [] as number[], new: [] as number[] }
  for (let s = 0; s < spec.steps; s++) {
    const batch = randomBatch(c, m.batch, s)
    for (const side of (s % 2 ? ['new', 'old'] : ['old', 'new']) as ('old' | 'new')[]) {
      pick(side)
      const t0 = cpuMs()
      losses[side].push(trs[side].accumulate(batch).loss)
      trs[side].update(3e-4)
      times[side].push(cpuMs() - t0)
    }
  }
  trs.old.dispose()
  trs.new.dispose()
  const oldMs = median(times.old.slice(spec.warmup))
  const newMs = median(times.new.slice(spec.warmup))
  const maxLossDiff = Math.max(...losses.old.map((l, i) => Math.abs(l - losses.new[i])))
  process.stdout.write(JSON.stringify({ old_ms: oldMs, new_ms: newMs, old_runs: times.old, new_runs: times.new, max_loss_diff: maxLossDiff }) + '\n')
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(JSON.parse(args[1]) as ChildSpec)
  const o = parseArgs(args)
  if (o.help) {
    console.log('usage: npm run bench -- train [--threads 1,2] [--native 0,1] [--steps 8] [--warmup 2] [--models d128,d256,gpt2s] [--torch-threads 1,2] [--repeat 1] [--no-torch]')
    console.log('       npm run bench -- train --profile [d128|d256|gpt2s] [--steps 5] [--warmup 2]   (per-kernel breakdown, one thread)')
    return
  }
  if (o.profile) {
    const key = o.profile === 'true' ? 'd256' : o.profile
    if (!MODELS[key]) throw new Error(`unknown model ${key}`)
    console.log(`# bench train --profile ${key}: ${new Date().toISOString()}; ${machineLine()}`)
    const { stdout } = await import('node:child_process').then(({ execFileSync }) => ({
      stdout: execFileSync(process.execPath, [new URL('./main.ts', import.meta.url).pathname, 'train', '--child', JSON.stringify({ model: key, mode: 'profile', steps: Number(o.steps ?? 5), warmup: Number(o.warmup ?? 2) })], {
        encoding: 'utf8',
        env: { ...process.env, INSTRUCT3_THREADS: '1' },
        maxBuffer: 16 << 20,
      }),
    }))
    console.log(stdout.replace(/\{"ok":true\}\n?$/, ''))
    return
  }
  if (o.ab) {
    const models = (o.models ?? 'd128,d256').split(',')
    const steps = Number(o.steps ?? 10)
    const warmup = Number(o.warmup ?? 2)
    console.log(`# bench train --ab: ${new Date().toISOString()}; ${machineLine()}`)
    const rows: string[][] = []
    for (const key of models) {
      const r = (await jaxChild('train', { model: key, mode: 'ab', steps, warmup, compare: o.ab === 'native' ? 'native' : 'tiles' }, 1, undefined, { INSTRUCT3_NATIVE_THREADS: '1' })) as { old_ms: number; new_ms: number; max_loss_diff: number }
      const tok = MODELS[key]().batch * MODELS[key]().config.nCtx
      rows.push([MODELS[key]().name, r.old_ms.toFixed(0), r.new_ms.toFixed(0), (tok / (r.old_ms / 1000)).toFixed(0), (tok / (r.new_ms / 1000)).toFixed(0), `${(r.old_ms / r.new_ms).toFixed(2)}x`, r.max_loss_diff.toExponential(1)])
    }
    const [oldName, newName] = o.ab === 'native' ? ['WASM matmuls', 'native matmuls'] : ['jax-js 0.1.25 tiles', 'patched']
    console.log(table(['model', `${oldName}: CPU ms/step`, `${newName}: CPU ms/step`, 'old tokens/CPU-s', 'new tokens/CPU-s', 'speedup', 'max |loss diff|'], rows))
    const diffNote = o.ab === 'native'
      ? 'a small |loss diff| is expected (the native sum over k uses FMA and k blocks: float32 rounding)'
      : 'max |loss diff| 0 is expected (the tiles change which outputs are computed together, not the order of the sum over k)'
    console.log(`# one thread, steps alternated old/new in one process, median of ${steps - warmup} steps each after ${warmup} warm-up; ${diffNote}; load average at end: ${machineLine().split('load average ')[1]}`)
    return
  }
  const threads = (o.threads ?? '1,2').split(',').map(Number)
  const steps = Number(o.steps ?? 8)
  const warmup = Number(o.warmup ?? 2)
  if (!(steps > warmup)) throw new Error('--steps must exceed --warmup')
  const models = (o.models ?? 'd128,d256,gpt2s').split(',')
  for (const m of models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(', ')})`)
  const torchThreads = (o['torch-threads'] ?? '1,2').split(',').map(Number)
  const natives = (o.native ?? (loadNative() ? '0,1' : '0')).split(',').map((x) => x === '1')
  if (natives.includes(true) && !loadNative()) throw new Error('--native 1: the native addon is not built (node scripts/build-native.js)')
  const tv = o['no-torch'] ? null : torchVersion()
  console.log(`# bench train: ${new Date().toISOString()}; ${machineLine()}`)
  console.log(`# steps ${steps} (median of the last ${steps - warmup}); random tokens; AdamW + clip 1.0`)
  if (!tv) console.log(o['no-torch'] ? '# PyTorch skipped (--no-torch)' : `# PyTorch not installed (no torch for ${process.env.INSTRUCT3_TORCH_PYTHON ?? '/usr/bin/python3'}): jax-js only`)

  // Settings of one model run one after another; with --repeat N the whole list runs N times, interleaved, and
  // each setting keeps its best run (on a shared machine other work only ever slows a run down).
  const repeat = Number(o.repeat ?? 1)
  const rows: string[][] = []
  for (const key of models) {
    const m = MODELS[key]()
    const c = m.config
    type Setting = { label: string; go: () => Promise<Record<string, unknown>>; torch: boolean }
    const settings: Setting[] = []
    for (const nat of natives)
      for (const t of threads) {
        const env = { INSTRUCT3_NATIVE: nat ? '1' : '0', INSTRUCT3_NATIVE_THREADS: String(t) }
        const tag = nat ? ', native matmul' : ', WASM'
        settings.push({ label: `jax-js trainable, threads=${t}${tag}`, torch: false, go: () => jaxChild('train', { model: key, mode: 'trainable', steps, warmup }, t, undefined, env) })
        if (t > 1) settings.push({ label: `jax-js async-grad (pool used), threads=${t}${tag}`, torch: false, go: () => jaxChild('train', { model: key, mode: 'async-grad', steps, warmup }, t, undefined, env) })
      }
    if (tv)
      for (const tt of torchThreads) {
        const spec = { vocab_size: c.vocabSize, n_ctx: c.nCtx, n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead, batch: m.batch, steps, warmup, threads: tt }
        settings.push({ label: `PyTorch ${tv} + OpenBLAS, torch threads=${tt}`, torch: true, go: () => torchChild('torch_train.py', spec) })
      }
    const best = new Map<string, Record<string, unknown>>()
    const all = new Map<string, number[]>()
    for (let r = 0; r < repeat; r++)
      for (const st of settings) {
        console.error(`... ${key}: ${st.label}${repeat > 1 ? ` (round ${r + 1}/${repeat})` : ''}`)
        const res = await st.go()
        all.set(st.label, [...(all.get(st.label) ?? []), res.tokens_per_s as number])
        const prev = best.get(st.label)
        if (!prev || (res.tokens_per_s as number) > (prev.tokens_per_s as number)) best.set(st.label, res)
      }
    let torchBest = 0
    for (const st of settings) if (st.torch) torchBest = Math.max(torchBest, best.get(st.label)!.tokens_per_s as number)
    for (const st of settings) {
      const r = best.get(st.label)!
      const tps = r.tokens_per_s as number
      rows.push([
        m.name,
        st.label,
        tps.toFixed(0) + (repeat > 1 ? ` (runs: ${all.get(st.label)!.map((x) => x.toFixed(0)).join(', ')})` : ''),
        (r.peak_rss_mb as number).toFixed(0),
        torchBest ? `${(tps / torchBest).toFixed(2)}x` : '-',
      ])
    }
    console.error(`... ${key}: ${(paramCount(c) / 1e6).toFixed(2)}M params`)
  }
  console.log(table(['model', 'engine', 'tokens/s', 'peak RSS MB', 'vs best PyTorch'], rows))
  console.log(`# load average at end: ${machineLine().split('load average ')[1]}`)
}
