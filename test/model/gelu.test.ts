/**
 * geluTanh (src/model/gpt.ts: GPT-2's tanh GELU written as x * sigmoid(2u)) against the float64 tanh formula,
 * values and gradients, over the range training sees and at extremes where a naive exp overflows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { np, jit, grad, type JArray } from '../../src/model/jax.ts'
import { geluTanh } from '../../src/model/gpt.ts'

const C = Math.sqrt(2 / Math.PI)

function reference(x: number): { y: number; dy: number } {
  const t = Math.tanh(C * (x + 0.044715 * x ** 3))
  return { y: 0.5 * x * (1 + t), dy: 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x) }
}

test('geluTanh equals the tanh GELU in value and gradient, finite at extremes', () => {
  const xs: number[] = [-1e4, -100, -30, -12, -10.5]
  for (let x = -8; x <= 8; x += 1 / 64) xs.push(x)
  xs.push(10.5, 30, 100, 1e4)
  const x = Float32Array.from(xs)
  const y = geluTanh(np.array(x)).dataSync() as Float32Array
  const dy = jit(grad((v: JArray) => geluTanh(v).sum()))(np.array(x)).dataSync() as Float32Array
  for (let i = 0; i < x.length; i++) {
    const r = reference(x[i])
    assert.ok(Number.isFinite(y[i]) && Number.isFinite(dy[i]), `x=${x[i]}: y=${y[i]}, dy=${dy[i]}`)
    // float32: a few ulps of |y| (|y| up to 1e4 here), and absolute 2e-7 near 0
    assert.ok(Math.abs(y[i] - r.y) <= 2e-7 + 3e-7 * Math.abs(r.y), `x=${x[i]}: ${y[i]} vs ${r.y}`)
    assert.ok(Math.abs(dy[i] - r.dy) <= 2e-7 + 3e-7 * Math.abs(r.dy), `x=${x[i]}: grad ${dy[i]} vs ${r.dy}`)
  }
})
