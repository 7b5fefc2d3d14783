/**
 * Finite-difference check of jax-js autodiff through the whole GPT-2 loss, independent of PyTorch.
 * float32 loss: central differences along a unit direction with eps 1e-2 (rounding noise ~1e-5,
 * truncation ~1e-5 here), compared to <grad, u> with a tolerance far below the derivatives checked.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { np, jit, valueAndGrad, type JArray } from '../../src/model/jax.ts'
import { lmLoss, toDevice, type HostParams, type Params } from '../../src/model/gpt.ts'
import { createRng } from '../../src/model/rng.ts'
import { loadTorchFixture } from './helpers.ts'

const fx = loadTorchFixture()
const { config: c, B, T } = fx

test('finite differences match the analytic gradient (directional and single-element)', () => {
  const batch = () =>
    [np.array(fx.inputs, { dtype: np.int32 }).reshape([B, T]), np.array(fx.targets, { dtype: np.int32 }).reshape([B, T]), np.array(fx.mask).reshape([B, T])] as const
  const lossFn = jit((p: Params, x: JArray, y: JArray, m: JArray) => lmLoss(p, x, y, m, c))
  const lg = jit(valueAndGrad((p: Params, x: JArray, y: JArray, m: JArray) => lmLoss(p, x, y, m, c)))
  const loss = (host: HostParams) => (lossFn(toDevice(c, host), ...batch()) as JArray).item()
  const [, gradsDev] = lg(toDevice(c, fx.params), ...batch()) as unknown as [JArray, Params]

  const rng = createRng(5)
  const eps = 1e-2
  const names = [
    'transformer.wte.weight',
    'transformer.wpe.weight',
    'transformer.h.0.attn.c_attn.weight',
    'transformer.h.0.ln_1.weight',
    'transformer.h.1.attn.c_proj.bias',
    'transformer.h.1.mlp.c_fc.weight',
    'transformer.h.1.mlp.c_proj.weight',
    'transformer.ln_f.bias',
  ]
  const report: string[] = []
  for (const name of names) {
    const g = gradsDev[name].ref.dataSync() as Float32Array
    const n = g.length
    // direction: the gradient plus an equal-norm random part, normalised (so <g,u> is large but not |g|)
    let gn = 0
    for (const x of g) gn += x * x
    gn = Math.sqrt(gn)
    const u = new Float64Array(n)
    let rn = 0
    const r = Array.from({ length: n }, () => rng.normal())
    for (const x of r) rn += x * x
    rn = Math.sqrt(rn)
    let un = 0
    for (let i = 0; i < n; i++) un += (u[i] = g[i] / gn + r[i] / rn) ** 2
    un = Math.sqrt(un)
    for (let i = 0; i < n; i++) u[i] /= un
    let analytic = 0
    for (let i = 0; i < n; i++) analytic += g[i] * u[i]
    const plus = { ...fx.params, [name]: fx.params[name].map((x, i) => x + eps * u[i]) }
    const minus = { ...fx.params, [name]: fx.params[name].map((x, i) => x - eps * u[i]) }
    const fd = (loss(plus) - loss(minus)) / (2 * eps)
    const ok = Math.abs(fd - analytic) <= 2e-3 + 2e-2 * Math.abs(analytic)
    if (!ok || Math.abs(analytic) < 1e-2) report.push(`${name} (direction): fd ${fd} vs analytic ${analytic}`)

    // the single element with the largest gradient
    let j = 0
    for (let i = 1; i < n; i++) if (Math.abs(g[i]) > Math.abs(g[j])) j = i
    const p1 = fx.params[name].slice()
    const m1 = fx.params[name].slice()
    p1[j] += eps
    m1[j] -= eps
    const fd1 = (loss({ ...fx.params, [name]: p1 }) - loss({ ...fx.params, [name]: m1 })) / (2 * eps)
    if (Math.abs(fd1 - g[j]) > 2e-3 + 2e-2 * Math.abs(g[j])) report.push(`${name}[${j}]: fd ${fd1} vs analytic ${g[j]}`)
  }
  for (const v of Object.values(gradsDev)) v.dispose()
  lossFn.dispose()
  lg.dispose?.()
  assert.deepEqual(report, [])
})
