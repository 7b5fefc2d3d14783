/**
 * `npm run bench -- generate [--threads 1] [--runs 5] [--batch 8,64] [--prompt 16] [--new 64] [--vocab 256] [--temperature 0] [--repeat 1] [--no-torch] [--profile] [--ab] [--prefill]`
 *
 * Generation throughput of the GPT engine's KV-cache decoders (src/model/generate.ts) on a d=256, 4-layer,
 * 4-head, vocab-256 model (nCtx 256, as the pipeline's default model) with random weights, greedy: 16-token
 * prompts, 64 new tokens, at batch 8 and at PPO's rollout batch (64). Each batch runs the native decoder
 * (native/decode.c, when the addon is built) and jax-js (INSTRUCT3_NATIVE=0: fixed-size cache buffers, one
 * jit per shape bucket), against PyTorch's own KV-cache decode loop (bench/torch_generate.py: concatenating
 * cache, torch.no_grad) on the same shapes, in the same run. tokens/s = batch * new tokens / wall time of
 * one generate call (prefill included), median of --runs after one warmup call (which compiles, and copies
 * the weights into the native decoder). --prefill: the native prompt pass, batched vs token by token.
 * --vocab 4096 --temperature 1 --batch 64 --prompt 100 --new 48 is PPO's rollout shape on the pipeline's
 * default policy (PyTorch's loop stays greedy: its row then leaves out sampling).
 */
import { requestedThreads } from '../src/model/jax.ts'
import { profiler } from '@jax-js/jax'
import { makeConfig } from '../src/model/config.ts'
import { initParams, toDevice } from '../src/model/gpt.ts'
import { createGenerator } from '../src/model/generate.ts'
import { createRng } from '../src/model/rng.ts'
import { createNativeDecoder } from '../src/model/native-decode.ts'
import { loadNative, nativeStatus } from '../src/model/native.ts'
import { jaxChild, kernelBreakdown, machineLine, median, parseArgs, peakRssMb, table, torchChild, torchVersion } from './engine-common.ts'

type Spec = { batch: number; prompt: number; new: number; runs: number; vocab: number; temperature: number; profile?: boolean; ab?: boolean; prefill?: boolean }
/** The benchmark model: d256 4L 4H, nCtx 256 (the pipeline's default policy), vocabulary --vocab (256; the pipeline's is 4096). */
const configFor = (spec: Pick<Spec, 'vocab'>) => makeConfig({ vocabSize: spec.vocab, nCtx: 256, nEmbd: 256, nLayer: 4, nHead: 4 })

/**
 * --ab: one process, one thread, two generators on the same weights and prompts, called alternately: one
 * compiled with jax-js 0.1.25's matmul tiles (INSTRUCT3_JAX_GEMM=upstream, read when a kernel compiles and part
 * of the kernel cache key), one with ours; timed by this process's CPU time (not inflated by other processes).
 */
function abChild(spec: Spec): void {
  const config = configFor(spec)
  const params = toDevice(config, initParams(config, 1))
  const rng = createRng(0)
  const prompts = Array.from({ length: spec.batch }, () => Array.from({ length: spec.prompt }, () => rng.int(config.vocabSize)))
  const gens = { old: createGenerator(config, { native: false }), new: createGenerator(config, { native: false }) }
  const cpuMs = (): number => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  const times = { old: [] as number[], new: [] as number[] }
  const tokens = { old: '', new: '' }
  for (let r = 0; r <= spec.runs; r++) {
    for (const side of (r % 2 ? ['new', 'old'] : ['old', 'new']) as ('old' | 'new')[]) {
      process.env.INSTRUCT3_JAX_GEMM = side === 'old' ? 'upstream' : ''
      const t = cpuMs()
      const out = gens[side].generate(params, prompts, { maxNewTokens: spec.new, temperature: 0 })
      if (r > 0) times[side].push(cpuMs() - t) // run 0 compiles
      tokens[side] = JSON.stringify(out.tokens)
    }
  }
  process.stdout.write(JSON.stringify({ old_ms: median(times.old), new_ms: median(times.new), old_runs: times.old, new_runs: times.new, same_tokens: tokens.old === tokens.new }) + '\n')
}

/**
 * --prefill: the native decoder's prompt pass for batch x prompt tokens, as one batched call (how
 * generate.ts runs it) vs one call per position (all rows at that position), best of --runs.
 */
function prefillChild(spec: Spec): void {
  const config = configFor(spec)
  const dec = createNativeDecoder(config)
  if (!dec) throw new Error(`--prefill needs the native addon: ${nativeStatus()}`)
  dec.load(toDevice(config, initParams(config, 1)))
  const rng = createRng(0)
  const prompts = Array.from({ length: spec.batch }, () => Array.from({ length: spec.prompt }, () => rng.int(config.vocabSize)))
  const logits = new Float32Array(spec.batch * config.vocabSize)
  const rows = Int32Array.from({ length: spec.batch }, (_, b) => b)
  const batched: number[] = []
  const stepwise: number[] = []
  for (let r = 0; r <= spec.runs; r++) {
    dec.reset(spec.batch, spec.prompt + spec.new)
    let t = performance.now()
    dec.prefill(prompts, logits)
    if (r > 0) batched.push(performance.now() - t)
    dec.reset(spec.batch, spec.prompt + spec.new)
    t = performance.now()
    for (let p = 0; p < spec.prompt; p++) dec.step(Int32Array.from(prompts, (row) => row[p]), rows, rows.map(() => p), logits)
    if (r > 0) stepwise.push(performance.now() - t)
  }
  process.stdout.write(JSON.stringify({ batched_ms: Math.min(...batched), stepwise_ms: Math.min(...stepwise) }) + '\n')
  dec.dispose()
}

async function child(spec: Spec): Promise<void> {
  if (spec.ab) return abChild(spec)
  if (spec.prefill) return prefillChild(spec)
  const config = configFor(spec)
  const sampling = { maxNewTokens: spec.new, temperature: spec.temperature, seed: 1 }
  const gen = createGenerator(config)
  const params = toDevice(config, initParams(config, 1))
  const rng = createRng(0)
  const prompts = Array.from({ length: spec.batch }, () => Array.from({ length: spec.prompt }, () => rng.int(config.vocabSize)))
  const t0 = performance.now()
  gen.generate(params, prompts, sampling)
  const firstS = (performance.now() - t0) / 1000
  if (spec.profile) {
    performance.clearMeasures()
    profiler.startTrace()
    const t = performance.now()
    gen.generate(params, prompts, sampling)
    const wall = performance.now() - t
    profiler.stopTrace()
    // one "step" = one generated token for the whole batch (1 prefill + new-1 decode calls)
    process.stdout.write(`one generate call: ${wall.toFixed(0)} ms, ${(wall / spec.new).toFixed(2)} ms per generated position (batch ${spec.batch})\n`)
    process.stdout.write(kernelBreakdown(performance.getEntriesByType('measure'), wall, spec.new) + '\n')
    process.stdout.write(JSON.stringify({ ok: true }) + '\n')
    return
  }
  const times: number[] = []
  const cpuTimes: number[] = []
  const cpuS = (): number => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  for (let r = 0; r < spec.runs; r++) {
    const t = performance.now()
    const c = cpuS()
    const out = gen.generate(params, prompts, sampling)
    times.push((performance.now() - t) / 1000)
    cpuTimes.push(cpuS() - c)
    if (out.tokens.some((row) => row.length !== spec.new)) throw new Error('a row stopped early')
  }
  const s = median(times)
  const copy = gen.nativeStats ? { weight_copies: gen.nativeStats.copies, weight_copy_ms: gen.nativeStats.copyMs } : {}
  process.stdout.write(JSON.stringify({ backend: gen.backend, threads: requestedThreads, run_s: s, first_run_s: firstS, tokens_per_s: (spec.batch * spec.new) / s, cpu_tokens_per_s: (spec.batch * spec.new) / median(cpuTimes), peak_rss_mb: peakRssMb(), ...copy }) + '\n')
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(JSON.parse(args[1]) as Spec)
  const o = parseArgs(args)
  if (o.help) {
    console.log('usage: npm run bench -- generate [--threads 1] [--runs 5] [--batch 8,64] [--prompt 16] [--new 64] [--vocab 256] [--temperature 0] [--repeat 1] [--no-torch] [--profile] [--ab] [--prefill]')
    return
  }
  const spec: Spec = {
    batch: Number((o.batch ?? '8').split(',')[0]),
    prompt: Number(o.prompt ?? 16),
    new: Number(o.new ?? 64),
    runs: Number(o.runs ?? 5),
    vocab: Number(o.vocab ?? 256),
    temperature: Number(o.temperature ?? 0),
  }
  const config = configFor(spec)
  if (spec.prompt + spec.new > config.nCtx) throw new Error(`--prompt + --new must be <= ${config.nCtx}`)
  if (o.ab) {
    console.log(`# bench generate --ab: ${new Date().toISOString()}; ${machineLine()}`)
    const r = (await jaxChild('generate', { ...spec, ab: true }, 1)) as { old_ms: number; new_ms: number; old_runs: number[]; new_runs: number[]; same_tokens: boolean }
    const tps = (ms: number) => ((spec.batch * spec.new) / (ms / 1000)).toFixed(0)
    console.log(table(['batch', 'jax-js 0.1.25 tiles: CPU ms/call', 'patched: CPU ms/call', 'old tokens/CPU-s', 'new tokens/CPU-s', 'speedup', 'same tokens'], [
      [String(spec.batch), r.old_ms.toFixed(0), r.new_ms.toFixed(0), tps(r.old_ms), tps(r.new_ms), `${(r.old_ms / r.new_ms).toFixed(2)}x`, String(r.same_tokens)],
    ]))
    console.log(`# one thread, calls alternated old/new in one process, median of ${spec.runs} after a compiling call; runs old ${r.old_runs.map((x) => x.toFixed(0)).join(' ')}, new ${r.new_runs.map((x) => x.toFixed(0)).join(' ')}; load average at end: ${machineLine().split('load average ')[1]}`)
    return
  }
  if (o.profile) {
    console.log(`# bench generate --profile: ${new Date().toISOString()}; ${machineLine()}`)
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync(process.execPath, [new URL('./main.ts', import.meta.url).pathname, 'generate', '--child', JSON.stringify({ ...spec, profile: true })], {
      encoding: 'utf8',
      env: { ...process.env, INSTRUCT3_THREADS: '1', INSTRUCT3_NATIVE: '0' },
      maxBuffer: 16 << 20,
    })
    console.log(out.replace(/\{"ok":true\}\n?$/, ''))
    return
  }
  if (o.prefill) {
    console.log(`# bench generate --prefill: ${new Date().toISOString()}; ${machineLine()}`)
    const rows: string[][] = []
    for (const batch of (o.batch ?? '8,64').split(',').map(Number)) {
      const r = (await jaxChild('generate', { ...spec, batch, prefill: true }, 1)) as { batched_ms: number; stepwise_ms: number }
      rows.push([String(batch), String(spec.prompt), r.batched_ms.toFixed(1), r.stepwise_ms.toFixed(1), `${(r.stepwise_ms / r.batched_ms).toFixed(2)}x`])
    }
    console.log(table(['batch', 'prompt tokens', 'batched prompt pass ms', 'token-by-token ms', 'batched speedup'], rows))
    console.log(`# native decoder only, best of ${spec.runs}; load average at end: ${loadNow()}`)
    return
  }
  const threads = (o.threads ?? '1').split(',').map(Number)
  const batches = (o.batch ?? '8,64').split(',').map(Number)
  const tv = o['no-torch'] ? null : torchVersion()
  const nativeOk = loadNative() !== null
  console.log(`# bench generate: ${new Date().toISOString()}; ${machineLine()}`)
  console.log(`# d256 4L 4H V${spec.vocab} nCtx 256, batch ${batches.join(' and ')}, prompt ${spec.prompt}, ${spec.new} new tokens, ${spec.temperature > 0 ? `temperature ${spec.temperature} (PyTorch: greedy)` : 'greedy'}; median of ${spec.runs} runs after a warmup run`)
  console.log(`# ${nativeStatus()}`)
  if (!tv) console.log(o['no-torch'] ? '# PyTorch skipped (--no-torch)' : '# PyTorch not installed: jax-js only')
  // with --repeat N the settings run N times, interleaved, and each keeps its best (other work only slows a run)
  const repeat = Number(o.repeat ?? 1)
  const best = new Map<string, Record<string, unknown>>()
  const all = new Map<string, number[]>()
  const keep = (label: string, r: Record<string, unknown>) => {
    all.set(label, [...(all.get(label) ?? []), r.tokens_per_s as number])
    const prev = best.get(label)
    if (!prev || (r.tokens_per_s as number) > (prev.tokens_per_s as number)) best.set(label, r)
  }
  /** A child with INSTRUCT3_NATIVE set for it only (the child environment is copied when it starts). */
  const engineChild = (s: Spec, t: number, native: boolean) => {
    const saved = process.env.INSTRUCT3_NATIVE
    if (native) delete process.env.INSTRUCT3_NATIVE
    else process.env.INSTRUCT3_NATIVE = '0'
    try {
      return jaxChild('generate', s, t)
    } finally {
      if (saved === undefined) delete process.env.INSTRUCT3_NATIVE
      else process.env.INSTRUCT3_NATIVE = saved
    }
  }
  const torchLabels = new Map<number, string>()
  for (let round = 0; round < repeat; round++) {
    for (const batch of batches) {
      const s: Spec = { ...spec, batch }
      if (nativeOk) {
        console.error(`... batch ${batch}: native decoder`)
        const r = await engineChild(s, 1, true)
        if (r.backend !== 'native') throw new Error(`the native run used ${String(r.backend)}`)
        keep(`${batch}|native decoder (native/decode.c, 1 thread)`, r)
      }
      for (const t of threads) {
        console.error(`... batch ${batch}: jax-js KV cache, INSTRUCT3_NATIVE=0 INSTRUCT3_THREADS=${t}`)
        keep(`${batch}|jax-js KV cache (fixed buffers, INSTRUCT3_NATIVE=0), threads=${t}`, await engineChild(s, t, false))
      }
      if (tv) {
        console.error(`... batch ${batch}: PyTorch ${tv}`)
        const r = await torchChild('torch_generate.py', { vocab_size: config.vocabSize, n_ctx: config.nCtx, n_embd: config.nEmbd, n_layer: config.nLayer, n_head: config.nHead, ...s })
        const label = `${batch}|PyTorch ${tv} KV cache (concat, no_grad), torch threads=${r.threads}`
        torchLabels.set(batch, label)
        keep(label, r)
      }
    }
  }
  const rows = [...best.entries()].map(([key, r]) => {
    const [batch, label] = key.split('|')
    const torchLabel = torchLabels.get(Number(batch))
    const torchTps = torchLabel ? (best.get(torchLabel)!.tokens_per_s as number) : 0
    return [
      batch,
      label,
      (r.tokens_per_s as number).toFixed(0) + (repeat > 1 ? ` (runs: ${all.get(key)!.map((x) => x.toFixed(0)).join(', ')})` : ''),
      r.cpu_tokens_per_s === undefined ? '-' : (r.cpu_tokens_per_s as number).toFixed(0),
      (r.run_s as number).toFixed(3),
      r.first_run_s === undefined ? '-' : (r.first_run_s as number).toFixed(2),
      (r.peak_rss_mb as number).toFixed(0),
      torchTps ? `${((r.tokens_per_s as number) / torchTps).toFixed(2)}x` : '-',
    ]
  })
  console.log(table(['batch', 'engine', 'tokens/s', 'tokens/CPU-s', 's per call', 'first call s', 'peak RSS MB', 'vs PyTorch'], rows))
  console.log('# tokens/CPU-s: batch * new tokens / the process CPU time of a call (the same run as tokens/s); under load it moves less than wall time')
  const copies = [...best.entries()].filter(([k]) => k.includes('native')).map(([k, r]) => `batch ${k.split('|')[0]}: ${(r.weight_copy_ms as number).toFixed(1)} ms`)
  if (copies.length) console.log(`# native weight copy (once per new parameter record, in the first call): ${copies.join(', ')}`)
  console.log(`# load average at end: ${loadNow()}${repeat > 1 ? `; best of ${repeat} interleaved rounds` : ''}`)
}

/** /proc/loadavg's first three fields. */
function loadNow(): string {
  return machineLine().split('load average ')[1]
}
