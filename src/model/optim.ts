/**
 * AdamW with decoupled weight decay on 2-D tensors only (weights and embeddings, as GPT-2/nanoGPT;
 * never biases or LayerNorm gains), and
 * global-norm gradient clipping, as one jit-compiled update over the whole parameter record.
 * `@jax-js/optax` is not on the npm registry, so this is ours (same math as optax.adamw).
 */
import { np, jit, type JArray } from './jax.ts'
import type { Params } from './gpt.ts'

export type AdamWConfig = {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** Clip the global gradient norm to this value (0 = off). */
  gradClip: number
}

export const defaultAdamW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1.0 }

export type AdamState = { m: Params; v: Params; step: number }


/** Whether a parameter gets weight decay: every tensor of rank >= 2 (weights and embeddings). */
export function decays(shape: number[]): boolean {
  return shape.length >= 2
}

type UpdateOut = { params: Params; m: Params; v: Params; gradNorm: JArray }

/**
 * Build the jitted update. `hyper` = [lr, 1 - beta1^t, 1 - beta2^t, gradScale] as a float32 [4] array,
 * so changing the learning rate or step never recompiles. `gradScale` divides accumulated gradients.
 */
export function createAdamW(cfg: AdamWConfig) {
  const update = jit((params: Params, grads: Params, m: Params, v: Params, hyper: JArray): UpdateOut => {
    const lr = hyper.ref.slice(0)
    const bc1 = hyper.ref.slice(1)
    const bc2 = hyper.ref.slice(2)
    const gscale = hyper.slice(3)
    const names = Object.keys(params)
    // scaled grads and their global norm
    const g: Params = {}
    let sq: JArray | null = null
    for (const k of names) {
      g[k] = grads[k].mul(gscale.ref)
      const s = np.square(g[k].ref).sum()
      sq = sq === null ? s : sq.add(s)
    }
    gscale.dispose()
    const gradNorm = np.sqrt(sq!)
    const clip = cfg.gradClip > 0 ? np.minimum(np.reciprocal(gradNorm.ref.add(1e-6)).mul(cfg.gradClip), 1) : null
    const outP: Params = {}
    const outM: Params = {}
    const outV: Params = {}
    for (const k of names) {
      const gk = clip ? g[k].mul(clip.ref) : g[k]
      const mk = m[k].mul(cfg.beta1).add(gk.ref.mul(1 - cfg.beta1))
      const vk = v[k].mul(cfg.beta2).add(np.square(gk).mul(1 - cfg.beta2))
      const mhat = mk.ref.div(bc1.ref)
      const vhat = vk.ref.div(bc2.ref)
      let upd = mhat.div(np.sqrt(vhat).add(cfg.eps))
      const pk = params[k]
      if (cfg.weightDecay > 0 && decays(pk.shape)) upd = upd.add(pk.ref.mul(cfg.weightDecay))
      outP[k] = pk.sub(upd.mul(lr.ref))
      outM[k] = mk
      outV[k] = vk
    }
    clip?.dispose()
    lr.dispose()
    bc1.dispose()
    bc2.dispose()
    return { params: outP, m: outM, v: outV, gradNorm }
  })

  /** Dispatch one update (consumes params, grads and state); the caller reads the grad norm. */
  function dispatch(params: Params, grads: Params, state: AdamState, lr: number, gradScale: number) {
    const t = state.step + 1
    const hyper = np.array(new Float32Array([lr, 1 - Math.pow(cfg.beta1, t), 1 - Math.pow(cfg.beta2, t), gradScale]))
    const out = update(params, grads, state.m, state.v, hyper)
    return { params: out.params, state: { m: out.m, v: out.v, step: t }, norm: out.gradNorm }
  }

  /** Apply one update; consumes params, grads and state; returns new params/state and the grad norm. */
  function step(params: Params, grads: Params, state: AdamState, lr: number, gradScale = 1): { params: Params; state: AdamState; gradNorm: number } {
    const { norm, ...next } = dispatch(params, grads, state, lr, gradScale)
    return { ...next, gradNorm: norm.item() }
  }
  /**
   * Same update, read asynchronously. jax-js 0.1.25 runs kernels on its WASM worker pool only when
   * pending work is flushed by an async read (`dataSync`/`item` run them on the calling thread).
   */
  async function stepAsync(params: Params, grads: Params, state: AdamState, lr: number, gradScale = 1): Promise<{ params: Params; state: AdamState; gradNorm: number }> {
    const { norm, ...next } = dispatch(params, grads, state, lr, gradScale)
    return { ...next, gradNorm: (await norm.data())[0] as number }
  }
  return { step, stepAsync, dispose: () => update.dispose() }
}
