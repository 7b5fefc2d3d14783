/**
 * The engine-facing half of training: a parameter record on the device, an objective compiled with
 * `jit(valueAndGrad(...))`, gradient accumulation and the AdamW update. Training loops (src/train) talk
 * to it with host typed arrays and numbers only.
 */
import { np, jit, valueAndGrad, tree, random, blockUntilReady, type JArray } from './jax.ts'
import type { GPTConfig } from './config.ts'
import { paramShapes, type HostParams, type Params } from './gpt.ts'
import { createAdamW, defaultAdamW, type AdamState, type AdamWConfig } from './optim.ts'
import type { Batch, Objective, ScoreFn } from './objectives.ts'

/** A batch on the host: name -> typed array + shape. Int32Array becomes int32, Float32Array float32. */
export type HostBatch = Record<string, { data: Int32Array | Float32Array; shape: number[] }>
export type StepResult = { loss: number; metrics: Record<string, number> }

export function toBatch(hb: HostBatch): Batch {
  const out: Batch = {}
  for (const [k, { data, shape }] of Object.entries(hb))
    out[k] = data instanceof Int32Array ? np.array(data, { dtype: np.int32 }).reshape(shape) : np.array(data).reshape(shape)
  return out
}

function shapeOf(config: GPTConfig, name: string, host: HostParams): number[] {
  const known = paramShapes(config).find(([n]) => n === name)
  return known ? known[1] : [host[name].length]
}

export function uploadParams(config: GPTConfig, host: HostParams): Params {
  const p: Params = {}
  for (const name of Object.keys(host)) p[name] = np.array(host[name]).reshape(shapeOf(config, name, host))
  return p
}

/** Free the device buffers of parameters uploaded with `uploadParams` (frozen references, reward models). */
export function disposeParams(p: Params): void {
  tree.dispose(p)
}

export function downloadParams(p: Params): HostParams {
  const out: HostParams = {}
  for (const [k, v] of Object.entries(p)) out[k] = new Float32Array(v.ref.dataSync() as Float32Array)
  return out
}

export type TrainableInit = {
  config: GPTConfig
  params: HostParams
  objective: Objective
  adamw?: Partial<AdamWConfig>
  optimizer?: { m: HostParams; v: HostParams; step: number }
}

export type Trainable = {
  readonly config: GPTConfig
  /** Forward + backward on one micro-batch; gradients are accumulated until `update`. */
  accumulate(batch: HostBatch, dropoutSeed?: number): StepResult
  /** Apply AdamW to the accumulated gradients (averaged over `micro` micro-batches); returns the grad norm. */
  update(lr: number): number
  /**
   * `accumulate` / `update` with asynchronous reads: the only way jax-js 0.1.25 uses its WASM worker pool
   * (INSTRUCT3_THREADS > 1). Same kernels, same results as the synchronous versions.
   */
  accumulateAsync(batch: HostBatch, dropoutSeed?: number): Promise<StepResult>
  updateAsync(lr: number): Promise<number>
  /** Objective without gradients. */
  evaluate(batch: HostBatch): StepResult
  hostParams(): HostParams
  optimizerState(): { m: HostParams; v: HostParams; step: number }
  /** Device parameters for scoring/generation (not consumed; do not dispose). */
  deviceParams(): Params
  dispose(): void
}

export function createTrainable(init: TrainableInit): Trainable {
  const { config, objective } = init
  let params = uploadParams(config, init.params)
  const adam = createAdamW({ ...defaultAdamW, ...init.adamw })
  let state: AdamState = init.optimizer
    ? { m: uploadParams(config, init.optimizer.m), v: uploadParams(config, init.optimizer.v), step: init.optimizer.step }
    : { m: zerosLike(params), v: zerosLike(params), step: 0 }
  let acc: Params | null = null
  let micro = 0

  const usesDropout = config.dropout > 0
  const lossGrad = jit(
    valueAndGrad((p: Params, b: Batch, key: JArray) => {
      // The key is always passed (one compiled signature); without dropout it is unused.
      if (!usesDropout) key.dispose()
      const [loss, metrics] = objective(p, b, config, usesDropout ? key : undefined)
      return [loss, metrics] as [JArray, Record<string, JArray>]
    }, { hasAux: true }),
  )
  const evalFn = jit((p: Params, b: Batch) => {
    const [loss, metrics] = objective(p, b, config)
    return [loss, metrics] as [JArray, Record<string, JArray>]
  })
  const addTrees = jit((a: Params, b: Params) => {
    const o: Params = {}
    for (const k of Object.keys(a)) o[k] = a[k].add(b[k])
    return o
  })

  const readMetrics = (m: Record<string, JArray>) => {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(m)) out[k] = v.item()
    return out
  }
  const readMetricsAsync = async (m: Record<string, JArray>) => {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(m)) out[k] = (await v.data())[0] as number
    return out
  }
  /** The accumulated gradients, handed to the optimizer (which consumes them). */
  const takeGrads = (): Params => {
    if (acc === null) throw new Error('update() before accumulate()')
    return acc
  }
  /** Install the optimizer's results; the update's averaging count resets. */
  const commit = (out: { params: Params; state: AdamState; gradNorm: number }): number => {
    params = out.params
    state = out.state
    acc = null
    micro = 0
    return out.gradNorm
  }
  const forwardBackward = (batch: HostBatch, dropoutSeed: number) => {
    const key = random.key(dropoutSeed)
    const [[loss, metrics], grads] = lossGrad(tree.ref(params), toBatch(batch), key) as unknown as [[JArray, Record<string, JArray>], Params]
    acc = acc === null ? grads : (addTrees(acc, grads) as Params)
    micro++
    return { loss, metrics }
  }

  return {
    config,
    accumulate(batch, dropoutSeed = 0) {
      const { loss, metrics } = forwardBackward(batch, dropoutSeed)
      return { loss: loss.item(), metrics: readMetrics(metrics) }
    },
    async accumulateAsync(batch, dropoutSeed = 0) {
      const { loss, metrics } = forwardBackward(batch, dropoutSeed)
      const out = { loss: (await loss.data())[0] as number, metrics: await readMetricsAsync(metrics) }
      // jax-js refuses a synchronous read while async work is pending: settle everything we hold
      await blockUntilReady(acc)
      return out
    },
    async updateAsync(lr) {
      const gradNorm = commit(await adam.stepAsync(params, takeGrads(), state, lr, 1 / micro))
      await blockUntilReady([params, state.m, state.v])
      return gradNorm
    },
    update(lr) {
      return commit(adam.step(params, takeGrads(), state, lr, 1 / micro))
    },
    evaluate(batch) {
      const [loss, metrics] = evalFn(tree.ref(params), toBatch(batch)) as unknown as [JArray, Record<string, JArray>]
      return { loss: loss.item(), metrics: readMetrics(metrics) }
    },
    hostParams: () => downloadParams(params),
    optimizerState: () => ({ m: downloadParams(state.m), v: downloadParams(state.v), step: state.step }),
    deviceParams: () => params,
    dispose() {
      tree.dispose(params)
      tree.dispose(state.m)
      tree.dispose(state.v)
      if (acc) tree.dispose(acc)
      lossGrad.dispose?.()
      evalFn.dispose()
      addTrees.dispose()
      adam.dispose()
    },
  }
}

function zerosLike(p: Params): Params {
  const o: Params = {}
  for (const [k, v] of Object.entries(p)) o[k] = np.zeros(v.shape)
  return o
}

/** A compiled, gradient-free scoring function over host batches, returning host arrays. */
export function createScorer(config: GPTConfig, fn: ScoreFn) {
  const f = jit((p: Params, b: Batch) => fn(p, b, config))
  return {
    /** `params` is not consumed. */
    score(params: Params, batch: HostBatch): Record<string, Float32Array> {
      const out = f(tree.ref(params), toBatch(batch)) as unknown as Record<string, JArray>
      const host: Record<string, Float32Array> = {}
      for (const [k, v] of Object.entries(out)) host[k] = new Float32Array(v.dataSync() as Float32Array)
      return host
    },
    dispose: () => f.dispose(),
  }
}
