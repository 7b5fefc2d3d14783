/** Shared pieces for the model tests: the PyTorch fixture, comparisons, temp dirs, tiny configs. */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { fromHfConfig, makeConfig, type GPTConfig } from '../../src/model/config.ts'
import { initParams, paramShapes, type HostParams } from '../../src/model/gpt.ts'
import { readSafetensors } from '../../src/model/safetensors.ts'
import type { HostBatch } from '../../src/model/trainable.ts'
import { createRng } from '../../src/model/rng.ts'

export const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'model')

export type TorchFixture = {
  config: GPTConfig
  B: number
  T: number
  params: HostParams
  inputs: Int32Array
  targets: Int32Array
  mask: Float32Array
  /** PyTorch results: logits, logprobs, loss, grad.<name>. */
  ref: Record<string, { shape: number[]; data: Float32Array }>
}

export function loadTorchFixture(): TorchFixture {
  const fx = JSON.parse(readFileSync(join(fixtureDir, 'tiny-inputs.json'), 'utf8'))
  const config = fromHfConfig(fx.config)
  const { tensors } = readSafetensors(join(fixtureDir, 'tiny-params.safetensors'))
  const params: HostParams = {}
  for (const [name] of paramShapes(config)) params[name] = tensors[name].data
  const ref = readSafetensors(join(fixtureDir, 'tiny-torch.safetensors')).tensors
  return {
    config,
    B: fx.B,
    T: fx.T,
    params,
    inputs: Int32Array.from(fx.inputs),
    targets: Int32Array.from(fx.targets),
    mask: Float32Array.from(fx.mask),
    ref,
  }
}

export function lmBatch(inputs: Int32Array, targets: Int32Array, mask: Float32Array, B: number, T: number): HostBatch {
  return { inputs: { data: inputs, shape: [B, T] }, targets: { data: targets, shape: [B, T] }, mask: { data: mask, shape: [B, T] } }
}

/** Max over elements of |a - b| / (atol + rtol * |b|); <= 1 means "close". */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { worst: number; at: number; maxAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`)
  let worst = 0
  let at = -1
  let maxAbs = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i])
    if (!(d <= Infinity)) return { worst: Infinity, at: i, maxAbs: NaN }
    maxAbs = Math.max(maxAbs, d)
    const r = d / (atol + rtol * Math.abs(b[i]))
    if (r > worst) {
      worst = r
      at = i
    }
  }
  return { worst, at, maxAbs }
}

export function tempDir(prefix = 'instruct3-model-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A tiny config for training/generation tests. */
export function tinyConfig(partial: Partial<GPTConfig> = {}): GPTConfig {
  return makeConfig({ vocabSize: 64, nCtx: 32, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, ...partial })
}

/** Init with weights scaled up so that the model's outputs depend strongly on its input. */
export function variedParams(c: GPTConfig, seed: number, scale = 8): HostParams {
  const p = initParams(c, seed)
  for (const [name] of paramShapes(c)) if (!name.endsWith('.bias') && !/ln_[12f]\.weight$/.test(name)) p[name] = p[name].map((x) => x * scale)
  return p
}

/** Random next-token batches from a fixed seed (targets are inputs shifted by one). */
export function randomLmBatch(c: GPTConfig, B: number, T: number, seed: number): HostBatch {
  const rng = createRng(seed)
  const seq = Int32Array.from({ length: B * (T + 1) }, () => rng.int(c.vocabSize))
  const inputs = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = seq[b * (T + 1) + t]
      targets[b * T + t] = seq[b * (T + 1) + t + 1]
    }
  return lmBatch(inputs, targets, new Float32Array(B * T).fill(1), B, T)
}
