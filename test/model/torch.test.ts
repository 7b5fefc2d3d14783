/**
 * The GPT-2 forward and backward against PyTorch: scripts/torch_reference.py computed logits, the masked
 * LM loss and every parameter's gradient (float64) from the same weights; the fixture is committed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { np, jit, valueAndGrad, tree, type JArray } from '../../src/model/jax.ts'
import { forward, lmLoss, paramShapes, toDevice, type Params } from '../../src/model/gpt.ts'
import { createTrainable, createScorer } from '../../src/model/trainable.ts'
import { lmObjective, tokenScore } from '../../src/model/objectives.ts'
import { closeness, lmBatch, loadTorchFixture } from './helpers.ts'

const fx = loadTorchFixture()
const { config: c, B, T } = fx
const idx = () => np.array(fx.inputs, { dtype: np.int32 }).reshape([B, T])
const tgt = () => np.array(fx.targets, { dtype: np.int32 }).reshape([B, T])
const msk = () => np.array(fx.mask).reshape([B, T])

test('logits equal PyTorch (tiny config, max error <= 1e-4 abs + 1e-4 rel)', () => {
  const f = jit((p: Params, x: JArray) => forward(p, x, c))
  const logits = f(toDevice(c, fx.params), idx()) as JArray
  assert.deepEqual(logits.shape, [B, T, c.vocabSize])
  const ours = logits.dataSync() as Float32Array
  const ref = fx.ref.logits.data
  // the fixture must be discriminating: logits spread well beyond the tolerance
  let spread = 0
  for (const x of ref) spread = Math.max(spread, Math.abs(x))
  assert.ok(spread > 1, `reference logits too flat (max |logit| ${spread})`)
  const r = closeness(ours, ref, 1e-4, 1e-4)
  assert.ok(r.worst <= 1, `logits differ: max abs ${r.maxAbs} at ${r.at} (ours ${ours[r.at]}, torch ${ref[r.at]})`)
  f.dispose()
})

test('masked LM loss and every gradient equal PyTorch', () => {
  const lg = jit(valueAndGrad((p: Params, x: JArray, y: JArray, m: JArray) => lmLoss(p, x, y, m, c)))
  const [loss, grads] = lg(toDevice(c, fx.params), idx(), tgt(), msk()) as unknown as [JArray, Params]
  const l = loss.item()
  assert.ok(Math.abs(l - fx.ref.loss.data[0]) < 1e-5, `loss ${l} vs torch ${fx.ref.loss.data[0]}`)
  const bad: string[] = []
  for (const [name, shape] of paramShapes(c)) {
    const g = grads[name]
    assert.deepEqual(g.shape, shape, name)
    const ours = g.dataSync() as Float32Array
    const ref = fx.ref[`grad.${name}`].data
    // scale-aware: atol relative to the tensor's largest gradient, so tiny entries are not held to 1e-4 rel
    let gmax = 0
    for (const x of ref) gmax = Math.max(gmax, Math.abs(x))
    const r = closeness(ours, ref, 1e-4 * Math.max(gmax, 1e-3), 1e-4)
    if (r.worst > 1) bad.push(`${name}: max abs ${r.maxAbs.toExponential(2)} (max |g| ${gmax.toExponential(2)}) at ${r.at}: ${ours[r.at]} vs ${ref[r.at]}`)
  }
  assert.deepEqual(bad, [])
  lg.dispose?.()
})

test('createTrainable(lmObjective) loss and createScorer(tokenScore) logprobs equal PyTorch', () => {
  const tr = createTrainable({ config: c, params: fx.params, objective: lmObjective })
  const batch = lmBatch(fx.inputs, fx.targets, fx.mask, B, T)
  const ev = tr.evaluate(batch)
  assert.ok(Math.abs(ev.loss - fx.ref.loss.data[0]) < 1e-5, `evaluate ${ev.loss}`)
  const st = tr.accumulate(batch)
  assert.ok(Math.abs(st.loss - fx.ref.loss.data[0]) < 1e-5, `accumulate ${st.loss}`)
  const scorer = createScorer(c, tokenScore)
  const out = scorer.score(tr.deviceParams(), { inputs: batch.inputs, targets: batch.targets })
  const r = closeness(out.logprobs, fx.ref.logprobs.data, 1e-4, 1e-4)
  assert.ok(r.worst <= 1, `logprobs max abs ${r.maxAbs}`)
  // entropy is finite and below log V
  for (const e of out.entropy) assert.ok(e > 0 && e < Math.log(c.vocabSize) + 1e-4)
  scorer.dispose()
  tr.dispose()
})

test('tree helpers leave nothing behind: fixture params round-trip through the device unchanged', () => {
  const p = toDevice(c, fx.params)
  for (const [name] of paramShapes(c)) assert.deepEqual(p[name].ref.dataSync(), fx.params[name], name)
  tree.dispose(p)
})
