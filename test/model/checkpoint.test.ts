/**
 * Checkpoints: HF-name round trip, loading an HF-style GPT-2 directory, and bad input (corrupt or
 * truncated safetensors, wrong shapes) giving an Instruct3Error that names the file and the tensor,
 * with a failed save never replacing a good checkpoint.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, readdirSync, truncateSync, statSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../../src/util/errors.ts'
import { toHfConfig } from '../../src/model/config.ts'
import { initParams, paramShapes, type HostParams } from '../../src/model/gpt.ts'
import { saveCheckpoint, loadCheckpoint } from '../../src/model/checkpoint.ts'
import { readSafetensors, writeSafetensors, type TensorMap } from '../../src/model/safetensors.ts'
import { tempDir, tinyConfig } from './helpers.ts'

const c = tinyConfig({ vocabSize: 50, nCtx: 16 })
const params = initParams(c, 7)

function assertSameParams(a: HostParams, b: HostParams): void {
  for (const [name] of paramShapes(c)) assert.deepEqual(a[name], b[name], name)
}

/** Asserts fn throws an Instruct3Error whose details name `file` (and `field` when given). */
function throwsNaming(fn: () => unknown, file: string, field?: string | RegExp): Instruct3Error {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Instruct3Error, `expected Instruct3Error, got ${String(caught)}`)
  assert.equal(caught.details.file, file)
  assert.ok(caught.message.includes(file), caught.message)
  if (typeof field === 'string') assert.equal(caught.details.field, field, caught.message)
  else if (field) assert.match(String(caught.details.field), field, caught.message)
  return caught
}

test('saveCheckpoint -> loadCheckpoint gives identical tensors, HF names, config, optimizer and trainer state', async () => {
  const { dir, cleanup } = tempDir()
  try {
    const ck = join(dir, 'ck')
    const m = initParams(c, 8)
    const v = initParams(c, 9)
    const score = { shape: [c.nEmbd], data: Float32Array.from({ length: c.nEmbd }, (_, i) => i / 7) }
    await saveCheckpoint(ck, c, params, {
      extraTensors: { 'score.weight': score },
      meta: { kind: 'test' },
      optimizer: { m, v, step: 42 },
      trainerState: { step: 42, rng: [1, 2, 3, 4, 0, 0] },
    })
    const names = Object.keys(readSafetensors(join(ck, 'model.safetensors')).tensors)
    assert.deepEqual(names, [...paramShapes(c).map(([n]) => n), 'score.weight'])
    assert.ok(names.includes('transformer.h.1.attn.c_attn.weight'))
    const hf = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'))
    assert.equal(hf.model_type, 'gpt2')
    assert.equal(hf.n_embd, c.nEmbd)
    // Conv1D [in, out] layout on disk
    assert.deepEqual(readSafetensors(join(ck, 'model.safetensors')).tensors['transformer.h.0.mlp.c_fc.weight'].shape, [c.nEmbd, 4 * c.nEmbd])

    const back = loadCheckpoint(ck, { optimizer: true })
    assert.deepEqual(back.config, c)
    assertSameParams(back.params, params)
    assert.deepEqual(back.extraTensors['score.weight'], score)
    assert.deepEqual(back.meta, { kind: 'test' })
    assert.equal(back.optimizer?.step, 42)
    assertSameParams(back.optimizer!.m, m)
    assertSameParams(back.optimizer!.v, v)
    assert.deepEqual(back.trainerState, { step: 42, rng: [1, 2, 3, 4, 0, 0] })
    // nothing left behind beside the checkpoint
    assert.deepEqual(readdirSync(dir), ['ck'])
  } finally {
    cleanup()
  }
})

test('loads an HF-style directory: no `transformer.` prefix, attn.bias / masked_bias buffers, tied lm_head.weight', async () => {
  const { dir, cleanup } = tempDir()
  try {
    const hfDir = join(dir, 'gpt2-like')
    mkdirSync(hfDir)
    const hfCfg = { ...toHfConfig(c), activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'] }
    delete (hfCfg as Record<string, unknown>).instruct3
    writeFileSync(join(hfDir, 'config.json'), JSON.stringify(hfCfg))
    const tensors: TensorMap = {}
    // a different order than ours, as in HF files (alphabetical)
    const entries = paramShapes(c).slice().reverse()
    for (const [name, shape] of entries) {
      const bare = name.replace(/^transformer\./, '')
      tensors[bare] = { shape, data: params[name] }
      const m = /^h\.(\d+)\.ln_1\.weight$/.exec(bare)
      if (m) {
        const mask = new Float32Array(c.nCtx * c.nCtx)
        for (let i = 0; i < c.nCtx; i++) for (let j = 0; j <= i; j++) mask[i * c.nCtx + j] = 1
        tensors[`h.${m[1]}.attn.bias`] = { shape: [1, 1, c.nCtx, c.nCtx], data: mask }
        tensors[`h.${m[1]}.attn.masked_bias`] = { shape: [], data: new Float32Array([-1e4]) }
      }
    }
    tensors['lm_head.weight'] = { shape: [c.vocabSize, c.nEmbd], data: params['transformer.wte.weight'] }
    writeSafetensors(join(hfDir, 'model.safetensors'), tensors)
    const back = loadCheckpoint(hfDir)
    assert.deepEqual(back.config, c)
    assertSameParams(back.params, params)
    assert.deepEqual(Object.keys(back.extraTensors), [])

    // an untied head is refused, naming the tensor
    tensors['lm_head.weight'] = { shape: [c.vocabSize, c.nEmbd], data: params['transformer.wte.weight'].map((x) => x + 0.5) }
    writeSafetensors(join(hfDir, 'model.safetensors'), tensors)
    throwsNaming(() => loadCheckpoint(hfDir), join(hfDir, 'model.safetensors'), 'lm_head.weight')
  } finally {
    cleanup()
  }
})

test('corrupt, truncated and wrongly shaped safetensors: Instruct3Error naming file and tensor', async () => {
  const { dir, cleanup } = tempDir()
  try {
    const ck = join(dir, 'ck')
    await saveCheckpoint(ck, c, params)
    const file = join(ck, 'model.safetensors')
    const good = readFileSync(file)

    // truncated in the data: the first tensor whose data runs past the end is named
    truncateSync(file, statSync(file).size - 100)
    const e1 = throwsNaming(() => loadCheckpoint(ck), file, 'transformer.ln_f.bias')
    assert.match(e1.message, /truncated/)
    // truncated inside the header
    writeFileSync(file, good.subarray(0, 40))
    assert.match(throwsNaming(() => loadCheckpoint(ck), file).message, /truncated|header/)
    // too short for the length prefix
    writeFileSync(file, good.subarray(0, 5))
    throwsNaming(() => loadCheckpoint(ck), file)
    // garbage header JSON
    const bad = Buffer.from(good)
    bad.write('#', 8) // the header's opening brace
    writeFileSync(file, bad)
    assert.match(throwsNaming(() => loadCheckpoint(ck), file).message, /JSON/)
    // header offsets inconsistent with the shape
    const hlen = Number(good.readBigUInt64LE(0))
    const header = JSON.parse(good.subarray(8, 8 + hlen).toString())
    header['transformer.h.0.attn.c_proj.weight'].shape = [c.nEmbd, c.nEmbd + 1]
    const rewrite = (h: unknown) => {
      const hb = Buffer.from(JSON.stringify(h))
      const len = Buffer.alloc(8)
      len.writeBigUInt64LE(BigInt(hb.length))
      writeFileSync(file, Buffer.concat([len, hb, good.subarray(8 + hlen)]))
    }
    rewrite(header)
    throwsNaming(() => loadCheckpoint(ck), file, 'transformer.h.0.attn.c_proj.weight')

    // a well-formed file whose tensor shape disagrees with config.json
    const wrong: TensorMap = {}
    for (const [name, shape] of paramShapes(c)) wrong[name] = { shape, data: params[name] }
    wrong['transformer.h.1.mlp.c_fc.weight'] = { shape: [4 * c.nEmbd, c.nEmbd], data: params['transformer.h.1.mlp.c_fc.weight'] }
    writeSafetensors(file, wrong)
    assert.match(throwsNaming(() => loadCheckpoint(ck), file, 'transformer.h.1.mlp.c_fc.weight').message, /shape/)
    // a missing tensor
    delete wrong['transformer.h.1.mlp.c_fc.weight']
    writeSafetensors(file, wrong)
    assert.match(throwsNaming(() => loadCheckpoint(ck), file, 'transformer.h.1.mlp.c_fc.weight').message, /missing/)
  } finally {
    cleanup()
  }
})

test('a failed save never overwrites a good checkpoint and leaves no temp files', async () => {
  const { dir, cleanup } = tempDir()
  try {
    const ck = join(dir, 'ck')
    await saveCheckpoint(ck, c, params, { trainerState: { step: 1 } })
    const before = readFileSync(join(ck, 'model.safetensors'))
    // wrong data length for one tensor: the writer refuses, naming the tensor
    const broken = { ...params, 'transformer.h.0.mlp.c_proj.weight': new Float32Array(3) }
    await assert.rejects(saveCheckpoint(ck, c, broken, { trainerState: { step: 2 } }), (e: unknown) => {
      assert.ok(e instanceof Instruct3Error)
      assert.equal(e.details.field, 'transformer.h.0.mlp.c_proj.weight')
      assert.match(String(e.details.file), /model\.safetensors$/)
      return true
    })
    // a crash while writing extra files (after the weights were written to the temp dir)
    await assert.rejects(
      saveCheckpoint(ck, c, initParams(c, 99), {
        writeExtra: () => {
          throw new Error('disk full')
        },
      }),
      /disk full/,
    )
    assert.deepEqual(readFileSync(join(ck, 'model.safetensors')), before)
    assert.deepEqual(loadCheckpoint(ck).trainerState, { step: 1 })
    assertSameParams(loadCheckpoint(ck).params, params)
    assert.deepEqual(readdirSync(dir), ['ck'])
    // a failed single-file write leaves the old file
    const f = join(dir, 'x.safetensors')
    writeSafetensors(f, { a: { shape: [2], data: new Float32Array([1, 2]) } })
    assert.throws(() => writeSafetensors(f, { a: { shape: [3], data: new Float32Array([1, 2]) } }), Instruct3Error)
    assert.deepEqual(readSafetensors(f).tensors.a.data, new Float32Array([1, 2]))
    assert.deepEqual(readdirSync(dir).sort(), ['ck', 'x.safetensors'])
  } finally {
    cleanup()
  }
})
