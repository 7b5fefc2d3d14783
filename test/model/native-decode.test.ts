/**
 * The native decoder (native/decode.c) against the jax-js path, on models with odd sizes (nEmbd not a
 * multiple of 16, head sizes 12 and 20, odd vocabularies): the same greedy tokens and log-probs within
 * 1e-4, per-row prompt lengths, EOS stopping some rows, seeded sampling, weights that change between
 * calls, batches past one 8-row block and prompt passes past one 128-token chunk. Skipped when the addon
 * is not built (jax-js is then the only path; generate.test.ts covers it).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toDevice, type Params } from '../../src/model/gpt.ts'
import { createGenerator, type GenerationResult } from '../../src/model/generate.ts'
import { loadNative, nativeStatus } from '../../src/model/native.ts'
import { createRng } from '../../src/model/rng.ts'
import { tree } from '../../src/model/jax.ts'
import { tinyConfig, variedParams } from './helpers.ts'
import { execFileSync } from 'node:child_process'

const skip = loadNative() ? false : `native addon not available: ${nativeStatus()}`

/** Same tokens and finished flags, log-probs within 1e-4. */
function assertSame(a: GenerationResult, b: GenerationResult, what: string): void {
  assert.deepEqual(a.tokens, b.tokens, `${what}: tokens`)
  assert.deepEqual(a.finished, b.finished, `${what}: finished`)
  for (let r = 0; r < a.tokens.length; r++)
    for (let t = 0; t < a.tokens[r].length; t++)
      assert.ok(Math.abs(a.logprobs[r][t] - b.logprobs[r][t]) < 1e-4, `${what}: logprob row ${r} step ${t}: ${a.logprobs[r][t]} vs ${b.logprobs[r][t]}`)
}

/** B prompts of lengths 1..maxLen (varied per row) from a seed. */
function makePrompts(B: number, maxLen: number, vocab: number, seed: number): number[][] {
  const rng = createRng(seed)
  return Array.from({ length: B }, (_, b) => Array.from({ length: 1 + ((b * 7 + 3) % maxLen) }, () => rng.int(vocab)))
}

const configs = [
  { name: 'C=36, 3 heads of 12, V=67', c: tinyConfig({ vocabSize: 67, nCtx: 64, nEmbd: 36, nHead: 3, nLayer: 2 }) },
  { name: 'C=80, 4 heads of 20, V=97, 3 layers', c: tinyConfig({ vocabSize: 97, nCtx: 96, nEmbd: 80, nHead: 4, nLayer: 3 }) },
]

for (const { name, c } of configs) {
  describe(`native decode vs jax-js: ${name}`, { skip }, () => {
    const params = toDevice(c, variedParams(c, 1, 20))
    const native = createGenerator(c)
    const jax = createGenerator(c, { native: false })
    // 13 rows: one 8-row block and a 5-row tail; prompts of 2..23 tokens (> 128 prompt tokens in all)
    const prompts = makePrompts(13, 23, c.vocabSize, 2)
    const N = 24
    after(() => {
      native.dispose()
      jax.dispose()
      tree.dispose(params)
    })

    test('greedy: same tokens, log-probs within 1e-4, and the native path ran', () => {
      const before = native.nativeStats?.forwards ?? 0
      const a = native.generate(params, prompts, { maxNewTokens: N, temperature: 0 })
      assert.equal(native.backend, 'native')
      assert.equal(native.nativeStats!.forwards - before, N) // one prompt pass + N - 1 steps
      const b = jax.generate(params, prompts, { maxNewTokens: N, temperature: 0 })
      assert.equal(jax.backend, 'jax')
      assert.ok(prompts.reduce((s, p) => s + p.length, 0) > 128)
      for (const row of a.tokens) assert.ok(new Set(row).size >= 4, `too repetitive to tell cache bugs apart: ${row}`)
      assertSame(a, b, 'greedy')
    })

    test('EOS stops some rows; the others go on the same on both paths', () => {
      const ref = jax.generate(params, prompts, { maxNewTokens: N, temperature: 0 })
      // EOS = a token row 0 emits at step >= 2 that some row never emits: some rows stop, some run to the end
      const eos = ref.tokens[0].find((t, i) => i >= 2 && ref.tokens.some((row) => !row.includes(t)))
      assert.ok(eos !== undefined)
      const a = native.generate(params, prompts, { maxNewTokens: N, temperature: 0, eosId: eos })
      const b = jax.generate(params, prompts, { maxNewTokens: N, temperature: 0, eosId: eos })
      assert.ok(b.finished.some(Boolean) && !b.finished.every(Boolean), `want some rows finished: ${b.finished}`)
      assertSame(a, b, 'eos')
    })

    test('seeded sampling (temperature, top-k, top-p) draws the same tokens', () => {
      for (const opts of [{ temperature: 1, seed: 3 }, { temperature: 0.8, topK: 5, seed: 4 }, { temperature: 1.2, topP: 0.9, seed: 5 }]) {
        const a = native.generate(params, prompts, { maxNewTokens: N, ...opts })
        const b = jax.generate(params, prompts, { maxNewTokens: N, ...opts })
        assertSame(a, b, JSON.stringify(opts))
      }
    })

    test('new weights are copied in before use; the same weights are not copied again', () => {
      const other = toDevice(c, variedParams(c, 7, 20))
      try {
        native.generate(params, prompts, { maxNewTokens: 4, temperature: 0 })
        const copies = native.nativeStats!.copies
        native.generate(params, prompts, { maxNewTokens: 4, temperature: 0 })
        assert.equal(native.nativeStats!.copies, copies)
        const a = native.generate(other, prompts, { maxNewTokens: N, temperature: 0 })
        assert.equal(native.nativeStats!.copies, copies + 1)
        assertSame(a, jax.generate(other, prompts, { maxNewTokens: N, temperature: 0 }), 'new weights')
        // back to the first weights, then a record that differs from them in one array: new weights too
        native.generate(params, prompts, { maxNewTokens: 4, temperature: 0 })
        assert.equal(native.nativeStats!.copies, copies + 2)
        const mixed: Params = { ...params, 'transformer.h.0.mlp.c_fc.weight': other['transformer.h.0.mlp.c_fc.weight'] }
        const m = native.generate(mixed, prompts, { maxNewTokens: N, temperature: 0 })
        assert.equal(native.nativeStats!.copies, copies + 3)
        const mj = jax.generate(mixed, prompts, { maxNewTokens: N, temperature: 0 })
        assert.notDeepEqual(mj.tokens, jax.generate(params, prompts, { maxNewTokens: N, temperature: 0 }).tokens)
        assertSame(m, mj, 'one new array')
        assertSame(native.generate(params, prompts, { maxNewTokens: N, temperature: 0 }), jax.generate(params, prompts, { maxNewTokens: N, temperature: 0 }), 'back')
      } finally {
        tree.dispose(other)
      }
    })
  })
}

test('native decoder: bad inputs are refused with a message naming what is wrong', { skip }, () => {
  const addon = loadNative() as unknown as Record<string, (...a: unknown[]) => unknown>
  const dec = addon.decodeCreate([10, 8, 4, 1, 2], 1e-5)
  const i32 = (...x: number[]) => Int32Array.from(x)
  assert.throws(() => addon.decodeForward(dec, i32(1), i32(0), i32(0), i32(0), new Float32Array(10)), /no weights/)
  assert.throws(() => addon.decodeSetWeights(dec, [new Float32Array(40)]), /paramShapes order/)
  const shapes = [40, 32, 4, 4, 48, 12, 16, 4, 4, 4, 64, 16, 64, 4, 4, 4]
  const bad = shapes.map((n) => new Float32Array(n))
  bad[2] = new Float32Array(5)
  assert.throws(() => addon.decodeSetWeights(dec, bad), /weight 2 has 5 elements, want 4/)
  addon.decodeSetWeights(dec, shapes.map((n) => new Float32Array(n)))
  addon.decodeReset(dec, 2, 8)
  assert.throws(() => addon.decodeForward(dec, i32(10), i32(0), i32(0), i32(0), new Float32Array(10)), /token 0: token out of the vocabulary/)
  assert.throws(() => addon.decodeForward(dec, i32(1), i32(2), i32(0), i32(0), new Float32Array(10)), /row out of the cache/)
  assert.throws(() => addon.decodeForward(dec, i32(1), i32(0), i32(8), i32(0), new Float32Array(10)), /position out of the cache/)
  assert.throws(() => addon.decodeForward(dec, i32(1), i32(0), i32(0), i32(1), new Float32Array(10)), /emit slot past the end/)
  assert.throws(() => addon.decodeForward(dec, i32(1, 2), i32(0), i32(0), i32(0), new Float32Array(10)), /row has 1 entries, tok has 2/)
  addon.decodeForward(dec, i32(1), i32(0), i32(0), i32(0), new Float32Array(10))
  addon.decodeFree(dec)
  assert.throws(() => addon.decodeReset(dec, 1, 1), /decoder was freed/)
})

test('INSTRUCT3_NATIVE=0 makes the default generator use jax-js', () => {
  const script = `
    import { createGenerator } from './src/model/generate.ts'
    import { toDevice } from './src/model/gpt.ts'
    import { tinyConfig, variedParams } from './test/model/helpers.ts'
    const c = tinyConfig()
    const gen = createGenerator(c)
    gen.generate(toDevice(c, variedParams(c, 1)), [[1, 2, 3]], { maxNewTokens: 2, temperature: 0 })
    console.log(gen.backend)`
  const run = (env: Record<string, string>) =>
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), env: { ...process.env, ...env }, encoding: 'utf8' }).trim()
  assert.equal(run({ INSTRUCT3_NATIVE: '0' }), 'jax')
  if (!skip) assert.equal(run({ INSTRUCT3_NATIVE: '1' }), 'native')
})
