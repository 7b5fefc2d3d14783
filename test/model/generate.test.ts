/**
 * KV-cache generation against decoding by full forward passes (no cache), on a model whose outputs
 * depend strongly on the input (scaled-up init): per-row prompt lengths, EOS stop, top-k / top-p. Each
 * test runs on the native decoder (when the addon is built) and on jax-js.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { np, jit, type JArray } from '../../src/model/jax.ts'
import { forward, toDevice, type Params } from '../../src/model/gpt.ts'
import { createGenerator, sampleToken, sampleWithLogprob, logSoftmaxAt } from '../../src/model/generate.ts'
import { createRng } from '../../src/model/rng.ts'
import { loadNative } from '../../src/model/native.ts'
import { tinyConfig, variedParams } from './helpers.ts'

const c = tinyConfig({ vocabSize: 64, nCtx: 64 })
const host = variedParams(c, 1, 20)
const params = toDevice(c, host)
// both engines: the native decoder when the addon is built (native/decode.c), and jax-js
const gens = { native: createGenerator(c), jax: createGenerator(c, { native: false }) }
const full = jit((p: Params, x: JArray) => forward(p, x, c))

/** Logits [T, V] at every position of each sequence, by one full forward over [B, nCtx] (right-padded). */
function fullLogits(seqs: number[][]): Float32Array[][] {
  const B = seqs.length
  const idx = new Int32Array(B * c.nCtx)
  seqs.forEach((s, b) => idx.set(s, b * c.nCtx))
  const out = (full(refAll(params), np.array(idx, { dtype: np.int32 }).reshape([B, c.nCtx])) as JArray).dataSync() as Float32Array
  const V = c.vocabSize
  return seqs.map((s, b) => s.map((_, t) => out.slice((b * c.nCtx + t) * V, (b * c.nCtx + t + 1) * V)))
}
function refAll(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref]))
}
const argmax = (row: Float32Array) => row.reduce((best, x, i) => (x > row[best] ? i : best), 0)

/** Greedy decoding with no cache: one full forward per new token. */
function greedyReference(prompts: number[][], n: number): { tokens: number[][]; logprobs: number[][]; margins: number[] } {
  const seqs = prompts.map((p) => p.slice())
  const tokens: number[][] = prompts.map(() => [])
  const logprobs: number[][] = prompts.map(() => [])
  const margins: number[] = []
  for (let step = 0; step < n; step++) {
    const lg = fullLogits(seqs)
    seqs.forEach((s, b) => {
      const row = lg[b][s.length - 1]
      const t = argmax(row)
      const sorted = Array.from(row).sort((x, y) => y - x)
      margins.push(sorted[0] - sorted[1])
      tokens[b].push(t)
      logprobs[b].push(logSoftmaxAt(row, t))
      s.push(t)
    })
  }
  return { tokens, logprobs, margins }
}

const prompts = [[5, 9, 1], [7, 7, 3, 60, 2, 11, 40, 8, 30], Array.from({ length: 17 }, (_, i) => (i * 13 + 4) % 64)]
const N = 20
const ref = greedyReference(prompts, N)

for (const [name, gen] of Object.entries(gens)) {
  test(`${name}: KV-cache greedy decoding equals full-forward greedy decoding (per-row prompt lengths)`, () => {
    // the model must not be degenerate: rows produce several distinct tokens, decisions are not near-ties
    for (const row of ref.tokens) assert.ok(new Set(row).size >= 4, `too repetitive: ${row}`)
    assert.notDeepEqual(ref.tokens[0], ref.tokens[1])
    assert.ok(Math.min(...ref.margins) > 1e-3, `near-tie in reference: ${Math.min(...ref.margins)}`)
    const out = gen.generate(params, prompts, { maxNewTokens: N, temperature: 0 })
    assert.equal(gen.backend, name === 'native' && loadNative() ? 'native' : 'jax')
    assert.deepEqual(out.tokens, ref.tokens)
    assert.deepEqual(out.finished, [false, false, false])
    for (let b = 0; b < prompts.length; b++)
      for (let t = 0; t < N; t++) assert.ok(Math.abs(out.logprobs[b][t] - ref.logprobs[b][t]) < 1e-3, `logprob ${b},${t}`)
    // a row decoded alone gives the same tokens as in the batch
    assert.deepEqual(gen.generate(params, [prompts[1]], { maxNewTokens: N, temperature: 0 }).tokens[0], ref.tokens[1])
  })

  test(`${name}: EOS stops its row (EOS kept, finished), other rows continue unchanged`, () => {
    // pick as EOS a token that row 1 first emits at step >= 3
    const row = ref.tokens[1]
    const k = row.findIndex((t, i) => i >= 3 && row.indexOf(t) === i)
    assert.ok(k >= 3)
    const eos = row[k]
    const out = gen.generate(params, prompts, { maxNewTokens: N, temperature: 0, eosId: eos })
    for (let b = 0; b < prompts.length; b++) {
      const stop = ref.tokens[b].indexOf(eos)
      const expected = stop >= 0 ? ref.tokens[b].slice(0, stop + 1) : ref.tokens[b]
      assert.deepEqual(out.tokens[b], expected, `row ${b}`)
      assert.equal(out.finished[b], stop >= 0)
      assert.equal(out.logprobs[b].length, expected.length)
    }
    assert.equal(out.tokens[1].length, k + 1)
    assert.equal(out.tokens[1].at(-1), eos)
  })

  test(`${name}: top-k = 1 and a tiny top-p equal greedy; sampling is seeded; top-p samples stay in the nucleus`, () => {
    assert.deepEqual(gen.generate(params, prompts, { maxNewTokens: N, temperature: 1, topK: 1, seed: 1 }).tokens, ref.tokens)
    assert.deepEqual(gen.generate(params, prompts, { maxNewTokens: N, temperature: 0.7, topP: 1e-6, seed: 2 }).tokens, ref.tokens)
    const a = gen.generate(params, prompts, { maxNewTokens: N, temperature: 1, topP: 0.8, seed: 3 })
    const b = gen.generate(params, prompts, { maxNewTokens: N, temperature: 1, topP: 0.8, seed: 3 })
    const d = gen.generate(params, prompts, { maxNewTokens: N, temperature: 1, topP: 0.8, seed: 4 })
    assert.deepEqual(a.tokens, b.tokens)
    assert.notDeepEqual(a.tokens, d.tokens)
    assert.notDeepEqual(a.tokens, ref.tokens)
    // every sampled token lies in the top-p nucleus of the full-forward distribution at its position
    const lg = fullLogits(prompts.map((p, i) => [...p, ...a.tokens[i]]))
    for (let r = 0; r < prompts.length; r++)
      a.tokens[r].forEach((tok, t) => {
        const row = lg[r][prompts[r].length - 1 + t]
        const lp = Array.from(row, (_, i) => logSoftmaxAt(row, i))
        const order = lp.map((_, i) => i).sort((x, y) => lp[y] - lp[x])
        let cum = 0
        const nucleus = new Set<number>()
        for (const i of order) {
          nucleus.add(i)
          cum += Math.exp(lp[i])
          if (cum >= 0.8 - 1e-4) break
        }
        assert.ok(nucleus.has(tok), `row ${r} step ${t}: token ${tok} outside the nucleus`)
        assert.ok(Math.abs(a.logprobs[r][t] - lp[tok]) < 1e-3)
      })
  })
}

test('sampleToken: top-k and top-p keep the right tokens with the right frequencies', () => {
  const probs = [0.5, 0.3, 0.15, 0.05]
  const row = Float32Array.from(probs, Math.log)
  const rng = createRng(11)
  const count = (opts: Parameters<typeof sampleToken>[1], n = 4000) => {
    const h = [0, 0, 0, 0]
    for (let i = 0; i < n; i++) h[sampleToken(row, opts, rng)]++
    return h.map((x) => x / n)
  }
  const p1 = count({ temperature: 1, topP: 0.75 }) // nucleus {0, 1}: 0.625 / 0.375
  assert.equal(p1[2] + p1[3], 0)
  assert.ok(Math.abs(p1[0] - 0.625) < 0.03, String(p1))
  const k2 = count({ temperature: 1, topK: 2 })
  assert.equal(k2[2] + k2[3], 0)
  const all = count({ temperature: 1 })
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(all[i] - probs[i]) < 0.03, String(all))
  assert.deepEqual(count({ temperature: 0 }, 10), [1, 0, 0, 0])
})

test('sampleWithLogprob draws what sampleToken draws and returns logSoftmaxAt, to the bit', () => {
  for (const opts of [{ temperature: 1 }, { temperature: 0.7 }, { temperature: 0 }, { temperature: 1, topK: 3 }, { temperature: 1, topK: 500 }, { temperature: 1, topP: 0.9 }]) {
    const r1 = createRng(9)
    const r2 = createRng(9)
    for (let i = 0; i < 300; i++) {
      const row = Float32Array.from({ length: 500 }, (_, j) => Math.sin(i * 7 + j * 13) * 5)
      const t = sampleToken(row, opts, r1)
      assert.deepEqual(sampleWithLogprob(row, opts, r2), [t, logSoftmaxAt(row, t)], `${JSON.stringify(opts)} draw ${i}`)
    }
  }
})

// the device buffers the tests share are freed once, after the last test (also when one fails)
after(() => {
  gens.native.dispose()
  gens.jax.dispose()
  full.dispose()
  for (const v of Object.values(params)) v.dispose()
})
