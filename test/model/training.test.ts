/**
 * Training-engine properties: memory stays flat over 1,000 steps, a seed fixes the losses, and the
 * worker-pool switch (INSTRUCT3_THREADS, a per-process setting) does not change the numbers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTrainable } from '../../src/model/trainable.ts'
import { lmObjective } from '../../src/model/objectives.ts'
import { initParams } from '../../src/model/gpt.ts'
import { createGenerator } from '../../src/model/generate.ts'
import { randomLmBatch, tinyConfig } from './helpers.ts'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))

test('memory is flat over 1,000 training steps (RSS growth from step 400 to 1000 < 20 MB)', () => {
  const c = tinyConfig({ vocabSize: 64, nCtx: 16, nEmbd: 32, nLayer: 2, nHead: 2 })
  const tr = createTrainable({ config: c, params: initParams(c, 1), objective: lmObjective })
  const batches = Array.from({ length: 8 }, (_, i) => randomLmBatch(c, 4, 16, i))
  const gen = createGenerator(c)
  let rss400 = 0
  let peak = 0
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
    // the first few hundred steps warm up (V8 heap and code, WASM memory reaching its working size)
    if (s >= 400) peak = Math.max(peak, process.memoryUsage.rss())
    if (s === 400) rss400 = process.memoryUsage.rss()
  }
  const growth = (peak - rss400) / 2 ** 20
  gen.dispose()
  tr.dispose()
  assert.ok(losses.every(Number.isFinite))
  // it trained (the batches repeat, so the loss must fall well below log V)
  assert.ok(losses.at(-1)! < Math.log(c.vocabSize) - 0.5, `loss ${losses.at(-1)}`)
  console.log(`# RSS ${(rss400 / 2 ** 20).toFixed(0)} MB at step 400, peak ${(peak / 2 ** 20).toFixed(0)} MB to step 1000`)
  assert.ok(growth < 20, `RSS grew ${growth.toFixed(1)} MB between step 400 and 1000`)
})

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

async function child(threads: number, mode: string): Promise<{ threads: number; workers: number; kernelMessages: number; losses: number[] }> {
  const env = { ...process.env, INSTRUCT3_THREADS: String(threads) }
  const { stdout } = await run(process.execPath, [join(here, 'train-child.ts'), '4', mode], { env, timeout: 60_000 })
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
