/**
 * `npm run bench -- generate [--threads 1] [--runs 5] [--batch 8] [--prompt 16] [--new 64] [--repeat 1] [--no-torch] [--profile] [--ab]`
 *
 * Generation throughput of the GPT engine's KV-cache decoder (src/model/generate.ts: fixed-size cache
 * buffers, one jit per shape bucket, decode loop in JS) on a d=256, 4-layer, 4-head, vocab-256 model with
 * random weights, greedy: batch 8, 16-token prompts, 64 new tokens. Against PyTorch's own KV-cache decode
 * loop (bench/torch_generate.py: concatenating cache, torch.no_grad) on the same shapes, in the same run.
 * tokens/s = batch * new tokens / wall time of one generate call (prefill included), median of --runs
 * after one warmup call (which compiles).
 */
import { requestedThreads } from '../src/model/jax.ts'
import { profiler } from '@jax-js/jax'
import { makeConfig } from '../src/model/config.ts'
import { initParams, toDevice } from '../src/model/gpt.ts'
import { createGenerator } from '../src/model/generate.ts'
import { createRng } from '../src/model/rng.ts'
import { jaxChild, kernelBreakdown, machineLine, median, parseArgs, peakRssMb, table, torchChild, torchVersion } from './engine-common.ts'

type Spec = { batch: number; prompt: number; new: number; runs: number; profile?: boolean; ab?: boolean }
const config = makeConfig({ vocabSize: 256, nCtx: 128, nEmbd: 256, nLayer: 4, nHead: 4 })

/**
 * --ab: one process, one thread, two generators on the same weights and prompts, called alternately: one
 * compiled with jax-js 0.1.25's matmul tiles (INSTRUCT3_JAX_GEMM=upstream, read when a kernel compiles and part
 * of the kernel cache key), one with ours; timed by this process's CPU time (not inflated by other processes).
 */
function abChild(spec: Spec): void {
  const params = toDevice(config, initParams(config, 1))
  const rng = createRng(0)
  const prompts = Array.from({ length: spec.batch }, () => Array.from({ length: spec.prompt }, () => rng.int(config.vocabSize)))
  const gens = { old: createGenerator(config), new: createGenerator(config) }
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

async function child(spec: Spec): Promise<void> {
  if (spec.ab) return abChild(spec)
  const gen = createGenerator(config)
  const params = toDevice(config, initParams(config, 1))
  const rng = createRng(0)
  const prompts = Array.from({ length: spec.batch }, () => Array.from({ length: spec.prompt }, () => rng.int(config.vocabSize)))
  const t0 = performance.now()
  gen.generate(params, prompts, { maxNewTokens: spec.new, temperature: 0 })
  const firstS = (performance.now() - t0) / 1000
  if (spec.profile) {
    performance.clearMeasures()
    profiler.startTrace()
    const t = performance.now()
    gen.generate(params, prompts, { maxNewTokens: spec.new, temperature: 0 })
    const wall = performance.now() - t
    profiler.stopTrace()
    // one "step" = one generated token for the whole batch (1 prefill + new-1 decode calls)
    process.stdout.write(`one generate call: ${wall.toFixed(0)} ms, ${(wall / spec.new).toFixed(2)} ms per generated position (batch ${spec.batch})\n`)
    process.stdout.write(kernelBreakdown(performance.getEntriesByType('measure'), wall, spec.new) + '\n')
    process.stdout.write(JSON.stringify({ ok: true }) + '\n')
    return
  }
  const times: number[] = []
  for (let r = 0; r < spec.runs; r++) {
    const t = performance.now()
    const out = gen.generate(params, prompts, { maxNewTokens: spec.new, temperature: 0 })
    times.push((performance.now() - t) / 1000)
    if (out.tokens.some((row) => row.length !== spec.new)) throw new Error('a row stopped early')
  }
  const s = median(times)
  process.stdout.write(JSON.stringify({ threads: requestedThreads, run_s: s, first_run_s: firstS, tokens_per_s: (spec.batch * spec.new) / s, peak_rss_mb: peakRssMb() }) + '\n')
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(JSON.parse(args[1]) as Spec)
  const o = parseArgs(args)
  if (o.help) {
    console.log('usage: npm run bench -- generate [--threads 1] [--runs 5] [--batch 8] [--prompt 16] [--new 64] [--repeat 1] [--no-torch] [--profile]')
    return
  }
  const spec: Spec = { batch: Number(o.batch ?? 8), prompt: Number(o.prompt ?? 16), new: Number(o.new ?? 64), runs: Number(o.runs ?? 5) }
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
      env: { ...process.env, INSTRUCT3_THREADS: '1' },
      maxBuffer: 16 << 20,
    })
    console.log(out.replace(/\{"ok":true\}\n?$/, ''))
    return
  }
  const threads = (o.threads ?? '1').split(',').map(Number)
  const tv = o['no-torch'] ? null : torchVersion()
  console.log(`# bench generate: ${new Date().toISOString()}; ${machineLine()}`)
  console.log(`# d256 4L 4H V256, batch ${spec.batch}, prompt ${spec.prompt}, ${spec.new} new tokens, greedy; median of ${spec.runs} runs after a warmup run`)
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
  let torchLabel = ''
  for (let round = 0; round < repeat; round++) {
    for (const t of threads) {
      console.error(`... jax-js KV cache, INSTRUCT3_THREADS=${t}`)
      keep(`jax-js KV cache (fixed buffers), threads=${t}`, await jaxChild('generate', spec, t))
    }
    if (tv) {
      console.error(`... PyTorch ${tv}`)
      const r = await torchChild('torch_generate.py', { vocab_size: config.vocabSize, n_ctx: config.nCtx, n_embd: config.nEmbd, n_layer: config.nLayer, n_head: config.nHead, ...spec })
      torchLabel = `PyTorch ${tv} KV cache (concat, no_grad), torch threads=${r.threads}`
      keep(torchLabel, r)
    }
  }
  const torchTps = torchLabel ? (best.get(torchLabel)!.tokens_per_s as number) : 0
  const results = [...best.entries()].map(([label, r]) => ({ label, r }))
  const rows = results.map(({ label, r }) => [
    label,
    (r.tokens_per_s as number).toFixed(0) + (repeat > 1 ? ` (runs: ${all.get(label)!.map((x) => x.toFixed(0)).join(', ')})` : ''),
    (r.run_s as number).toFixed(3),
    r.first_run_s === undefined ? '-' : (r.first_run_s as number).toFixed(2),
    (r.peak_rss_mb as number).toFixed(0),
    torchTps ? `${((r.tokens_per_s as number) / torchTps).toFixed(2)}x` : '-',
  ])
  console.log(table(['engine', 'tokens/s', 's per call', 'first call s', 'peak RSS MB', 'vs PyTorch'], rows))
}
