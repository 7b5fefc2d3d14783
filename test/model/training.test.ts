/**
 * Training-engine properties: memory stays flat over 1,000 steps, a seed fixes the losses, and the
 * worker-pool switch (INSTRUCT3_THREADS, a per-process setting) does not change the numbers.
 */
import './wasm-memory.ts' // first: records jax-js's WASM memory when @jax-js/jax is imported
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTrainable } from '../../src/model/trainable.ts'
import { lmObjective } from '../../src/model/objectives.ts'
import { initParams } from '../../src/model/gpt.ts'
import { createGenerator } from '../../src/model/generate.ts'
import { randomLmBatch, tinyConfig } from './helpers.ts'
import { wasmMemoryBytes, wasmMemoryCount } from './wasm-memory.ts'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))

// RSS is not a leak detector: between two samples it moves by tens of MB with the timing of V8's garbage
// collections (measured: heapTotal swings 100-190 MB in this loop while the live heap after a full GC stays
// at ~19 MB), which made an RSS bound flaky. So the test measures the two heaps apart, each deterministically:
// - jax-js's WASM heap (all tensors) must not grow at all from step 400 to 1000: the loop repeats with period
//   200 steps, so after warm-up every allocation reuses a freed buffer of its size class;
// - the V8 heap plus external memory, read after a forced full GC, may grow < 2 MB: measured +0.37 MB, which a
//   heap-snapshot diff attributes to optimised code (V8 tiering up), not to data.
// A leaked 64 KB tensor per step grows the WASM heap by 38 MB; a leaked 4 KB host array per step grows the
// second figure by 2.4 MB: both fail.
test('memory is flat over 1,000 training steps (WASM heap: no growth; V8 heap after GC: < 2 MB, steps 400-1000)', () => {
  const gc = fullGc()
  const c = tinyConfig({ vocabSize: 64, nCtx: 16, nEmbd: 32, nLayer: 2, nHead: 2 })
  const tr = createTrainable({ config: c, params: initParams(c, 1), objective: lmObjective })
  const batches = Array.from({ length: 8 }, (_, i) => randomLmBatch(c, 4, 16, i))
  const gen = createGenerator(c)
  // live bytes after full GCs; called every 100 steps, because V8 frees old bytecode only after it has aged
  // through several full GCs (with GCs only at the two samples, the first one still counted ~4 MB of it)
  const live = (): number => {
    gc()
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  let at400 = { wasm: 0, live: 0, rss: 0 }
  const losses: number[] = []
  for (let s = 1; s <= 1000; s++) {
    losses.push(tr.accumulate(batches[s % 8]).loss)
    if (s % 10 === 0) tr.accumulate(batches[(s + 3) % 8]) // gradient accumulation path too
    tr.update(1e-3)
    // generation and evaluation share the process in real runs: exercise their buffers as well
    if (s % 100 === 0) {
      tr.evaluate(batches[0])
      gen.generate(tr.deviceParams(), [[1, 2, 3], [4]], { maxNewTokens: 8, temperature: 1, seed: s })
    }
    // the first few hundred steps warm up (jit caches, V8 code, WASM memory reaching its working size)
    if (s % 100 === 0) {
      const l = live()
      if (s === 400) at400 = { wasm: wasmMemoryBytes(), live: l, rss: process.memoryUsage.rss() }
    }
  }
  const at1000 = { wasm: wasmMemoryBytes(), live: live(), rss: process.memoryUsage.rss() } // live() at s=1000 ran just before
  gen.dispose()
  tr.dispose()
  assert.ok(losses.every(Number.isFinite))
  // it trained (the batches repeat, so the loss must fall well below log V)
  assert.ok(losses.at(-1)! < Math.log(c.vocabSize) - 0.5, `loss ${losses.at(-1)}`)
  assert.ok(wasmMemoryCount() >= 1 && at400.wasm > 0, 'jax-js WASM memory was not recorded (import order)')
  const MB = (x: number): string => (x / 2 ** 20).toFixed(2)
  console.log(`# WASM heap ${MB(at400.wasm)} -> ${MB(at1000.wasm)} MB; V8 heap + external after GC ${MB(at400.live)} -> ${MB(at1000.live)} MB; RSS ${MB(at400.rss)} -> ${MB(at1000.rss)} MB (not asserted)`)
  assert.equal(at1000.wasm - at400.wasm, 0, `WASM heap grew ${MB(at1000.wasm - at400.wasm)} MB between step 400 and 1000`)
  assert.ok(at1000.live - at400.live < 2 * 2 ** 20, `V8 heap after GC grew ${MB(at1000.live - at400.live)} MB between step 400 and 1000`)
})

/** A full, synchronous garbage collection (V8's gc(), exposed at run time so the test needs no node flag). */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

test('determinism: the same seed and data give the same losses; dropout follows its seed', () => {
  const c = tinyConfig({ dropout: 0.1 })
  const losses = (dropoutSeed: (s: number) => number) => {
    const tr = createTrainable({ config: c, params: initParams(c, 5), objective: lmObjective })
    const out: number[] = []
    for (let s = 0; s < 5; s++) {
      out.push(tr.accumulate(randomLmBatch(c, 4, 32, s), dropoutSeed(s)).loss)
      tr.update(1e-3)
    }
    tr.dispose()
    return out
  }
  const a = losses((s) => s)
  assert.deepEqual(losses((s) => s), a)
  assert.notDeepEqual(losses((s) => s + 100), a)
})

type ChildResult = { threads: number; workers: number; kernelMessages: number; nativeCalls: number; losses: number[] }

async function child(threads: number, mode: string, extraEnv: Record<string, string> = {}): Promise<ChildResult> {
  const env = { ...process.env, INSTRUCT3_THREADS: String(threads), ...extraEnv }
  const { stdout } = await run(process.execPath, [join(here, 'train-child.ts'), mode === 'matmul' ? '1' : '4', mode], { env, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!)
}

let twoTrainable: Awaited<ReturnType<typeof child>> | undefined

test('worker pool (INSTRUCT3_THREADS=2, child process) gives the same losses as one thread', async () => {
  const [one, two, oneAsync, twoAsync] = [await child(1, 'trainable'), await child(2, 'trainable'), await child(1, 'async'), await child(2, 'async')]
  twoTrainable = two
  assert.equal(one.threads, 1)
  assert.equal(two.threads, 2)
  assert.equal(one.workers, 0)
  assert.deepEqual(two.losses, one.losses)
  // with asynchronous reads the kernels really run in the pool's 2 workers, and the numbers do not change
  assert.equal(twoAsync.workers, 2)
  assert.ok(twoAsync.kernelMessages > 100, `only ${twoAsync.kernelMessages} kernels went to the pool`)
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(twoAsync.losses[i] - oneAsync.losses[i]) < 1e-6, `step ${i}`)
})

test('createTrainable runs its kernels on the worker pool through accumulateAsync/updateAsync, with the same losses', async () => {
  const sync = twoTrainable ?? (await child(2, 'trainable'))
  const two = await child(2, 'trainable-async')
  const one = await child(1, 'trainable-async')
  // synchronous reads keep every kernel on the calling thread (jax-js 0.1.25: dispatch(sync) skips the pool)
  assert.equal(sync.kernelMessages, 0)
  assert.equal(two.workers, 2)
  assert.ok(two.kernelMessages > 100, `only ${two.kernelMessages} kernels went to the pool`)
  assert.equal(one.workers, 0)
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(two.losses[i] - one.losses[i]) < 1e-6, `step ${i}: ${two.losses[i]} vs ${one.losses[i]}`)
    assert.ok(Math.abs(two.losses[i] - sync.losses[i]) < 1e-6, `step ${i}: async ${two.losses[i]} vs sync ${sync.losses[i]}`)
  }
})

test('one large matmul is split across both workers of the pool (by output rows), with the numbers of one thread', async () => {
  // jax-js 0.1.25's pool dispatches a kernel as min(workers, size / minWorkPerWorker) chunks of output rows
  // (a WASM property: native matmuls are switched off here)
  const wasm = { INSTRUCT3_NATIVE_GEMM: '0' }
  const [one, two] = [await child(1, 'matmul', wasm), await child(2, 'matmul', wasm)]
  assert.equal(one.nativeCalls + two.nativeCalls, 0)
  assert.equal(two.workers, 2)
  assert.equal(two.kernelMessages, 2, `the matmul went to the pool as ${two.kernelMessages} message(s)`)
  assert.equal(one.kernelMessages, 0)
  assert.deepEqual(two.losses, one.losses)
  const [sum, ref] = two.losses
  assert.ok(Math.abs(sum - ref) < 1e-5 * Math.abs(ref), `sum ${sum} vs float64 ${ref}`)
})

test('with the native addon, a matmul in a pooled process runs natively (queued behind the pool), with the same sum', async (t) => {
  const wasmOne = await child(1, 'matmul', { INSTRUCT3_NATIVE_GEMM: '0' })
  const two = await child(2, 'matmul')
  if (two.nativeCalls === 0) return t.skip('native addon not built (or INSTRUCT3_NATIVE=0)')
  assert.equal(two.nativeCalls, 1)
  assert.equal(two.kernelMessages, 0, 'the matmul went to the WASM pool instead')
  const [sum, ref] = two.losses
  assert.ok(Math.abs(sum - ref) < 1e-5 * Math.abs(ref), `sum ${sum} vs float64 ${ref}`)
  assert.ok(Math.abs(sum - wasmOne.losses[0]!) < 1e-5 * Math.abs(ref), `native ${sum} vs WASM ${wasmOne.losses[0]}`)
})

test('native matmuls interleaved with WASM kernels on the pool (training, async reads) give the WASM losses', async (t) => {
  const mixed = await child(2, 'trainable-async')
  if (mixed.nativeCalls === 0) return t.skip('native addon not built (or INSTRUCT3_NATIVE=0)')
  const wasm = await child(2, 'trainable-async', { INSTRUCT3_NATIVE_GEMM: '0' })
  assert.ok(mixed.kernelMessages > 0, 'no WASM kernel went to the pool')
  assert.equal(wasm.nativeCalls, 0)
  // the native sum over k is ordered differently (FMA, k blocks): float32 rounding, not a different result
  for (let i = 0; i < wasm.losses.length; i++)
    assert.ok(Math.abs(mixed.losses[i]! - wasm.losses[i]!) < 1e-4, `step ${i}: native ${mixed.losses[i]} vs WASM ${wasm.losses[i]}`)
})
