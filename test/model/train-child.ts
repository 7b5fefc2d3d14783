/**
 * Child process for the worker-pool test: trains a small GPT a few steps and prints one JSON line
 * {threads, mode, workers, kernelMessages, nativeCalls, losses}. INSTRUCT3_THREADS (read when src/model/jax.ts is
 * first imported) picks single-threaded WASM or the worker pool.
 *   node test/model/train-child.ts <steps> trainable   createTrainable (sync reads: loss.item())
 *   node test/model/train-child.ts <steps> trainable-async   createTrainable's accumulateAsync / updateAsync (the loop's path)
 *   node test/model/train-child.ts <steps> async       jit(valueAndGrad) + SGD, read with `await data()`
 *   node test/model/train-child.ts 1 matmul            one jitted [256, 256] @ [256, 512] matmul, read with `await data()`
 *                                                      (losses: its output's sum and the float64 reference sum)
 * jax-js 0.1.25 hands kernels to its pool only when results are read asynchronously (data(),
 * blockUntilReady()); dataSync()/item() run every pending kernel on the calling thread.
 */
import { np, jit, valueAndGrad, tree, requestedThreads, type JArray } from '../../src/model/jax.ts'
import { createTrainable, toBatch } from '../../src/model/trainable.ts'
import { lmObjective } from '../../src/model/objectives.ts'
import { initParams, lmLoss, toDevice, type Params } from '../../src/model/gpt.ts'
import { randomLmBatch, tinyConfig } from './helpers.ts'
import { nativeGemmInfo } from '../../src/model/native-gemm.ts'

// Count the pool's workers and the kernels sent to them: jax-js creates its workers lazily, through the
// global Worker that src/model/threads.ts installed, so wrapping it here (after import, before the first
// kernel) sees them all.
let workers = 0
let kernelMessages = 0
const G = globalThis as { Worker?: new (...a: unknown[]) => { postMessage(d: unknown): void } }
if (G.Worker) {
  const Base = G.Worker
  G.Worker = class extends Base {
    constructor(...a: unknown[]) {
      super(...a)
      workers++
    }
    override postMessage(d: unknown): void {
      if ((d as { type?: string }).type === 'kernel') kernelMessages++
      super.postMessage(d)
    }
  }
}

const steps = Number(process.argv[2] ?? 4)
const mode = process.argv[3] ?? 'trainable'
const c = tinyConfig({ vocabSize: 64, nCtx: 32, nEmbd: 64, nLayer: 2, nHead: 2 })
const losses: number[] = []
if (mode === 'trainable') {
  const tr = createTrainable({ config: c, params: initParams(c, 21), objective: lmObjective })
  for (let s = 0; s < steps; s++) {
    losses.push(tr.accumulate(randomLmBatch(c, 8, 32, 100 + s)).loss)
    tr.update(3e-3)
  }
  tr.dispose()
} else if (mode === 'trainable-async') {
  // what the training loop uses: async reads, so the kernels can run on the pool
  const tr = createTrainable({ config: c, params: initParams(c, 21), objective: lmObjective })
  for (let s = 0; s < steps; s++) {
    losses.push((await tr.accumulateAsync(randomLmBatch(c, 8, 32, 100 + s))).loss)
    await tr.updateAsync(3e-3)
  }
  tr.dispose()
} else if (mode === 'matmul') {
  // one large kernel: the pool splits its output rows across the workers (one message per worker)
  const [M, K, N] = [256, 256, 512]
  const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 13) / 13 - 0.5)
  const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 11) / 11 - 0.5)
  const mm = jit((x: JArray, y: JArray) => np.matmul(x, y))
  const out = (await mm(np.array(a).reshape([M, K]), np.array(b).reshape([K, N])).data()) as Float32Array
  let ref = 0
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) ref += a[i * K + k] * b[k * N + j]
  losses.push(out.reduce((s, x) => s + x, 0), ref)
} else {
  const lg = jit(valueAndGrad((p: Params, x: JArray, y: JArray, m: JArray) => lmLoss(p, x, y, m, c)))
  const sgd = jit((p: Params, g: Params) => {
    const o: Params = {}
    for (const k of Object.keys(p)) o[k] = p[k].sub(g[k].mul(0.5))
    return o
  })
  let p = toDevice(c, initParams(c, 21))
  for (let s = 0; s < steps; s++) {
    const b = toBatch(randomLmBatch(c, 8, 32, 100 + s))
    const [loss, g] = lg(tree.ref(p), b.inputs, b.targets, b.mask) as unknown as [JArray, Params]
    p = sgd(p, g) as Params
    losses.push(((await loss.data()) as Float32Array)[0])
  }
  tree.dispose(p)
}
const nativeCalls = nativeGemmInfo()?.calls ?? 0
process.stdout.write(JSON.stringify({ threads: requestedThreads, mode, workers, kernelMessages, nativeCalls, losses }) + '\n')
