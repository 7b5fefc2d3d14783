/**
 * Step 1 of the model correctness fixture (step 2 is scripts/torch_reference.py):
 * writes a tiny GPT-2's weights and a fixed token batch to test/fixtures/model/.
 *
 *   node scripts/make-model-fixture.ts && \
 *   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/torch_reference.py
 *
 * The weights start from our GPT-2 init (initParams) and are then perturbed (larger weights, random
 * biases and LayerNorm gains) so that every parameter matters: at plain init biases are 0 and gains 1,
 * and a bug that dropped them would go unnoticed.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeConfig, toHfConfig } from '../src/model/config.ts'
import { initParams, paramShapes } from '../src/model/gpt.ts'
import { createRng } from '../src/model/rng.ts'
import { writeSafetensors, type TensorMap } from '../src/model/safetensors.ts'

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'model')

export const tinyConfig = makeConfig({ vocabSize: 61, nCtx: 16, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0 })
/** Batch shape: fewer positions than the context, so the wpe slice is exercised too. */
export const B = 3
export const T = 12

function main(): void {
  const c = tinyConfig
  const host = initParams(c, 1234)
  const rng = createRng(99)
  for (const [name] of paramShapes(c)) {
    const a = host[name]
    if (/ln_[12f]\.weight$/.test(name)) for (let i = 0; i < a.length; i++) a[i] = 1 + 0.2 * rng.normal()
    else if (name.endsWith('.bias')) for (let i = 0; i < a.length; i++) a[i] = 0.1 * rng.normal()
    else for (let i = 0; i < a.length; i++) a[i] *= 6
  }
  const tensors: TensorMap = {}
  for (const [name, shape] of paramShapes(c)) tensors[name] = { shape, data: host[name] }
  mkdirSync(outDir, { recursive: true })
  writeSafetensors(join(outDir, 'tiny-params.safetensors'), tensors, { format: 'pt' })

  const inputs: number[] = []
  const targets: number[] = []
  const mask: number[] = []
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      inputs.push(rng.int(c.vocabSize))
      targets.push(rng.int(c.vocabSize))
      // row 0 all positions, row 1 the second half (SFT-like), row 2 every third position
      mask.push(b === 0 ? 1 : b === 1 ? (t >= T / 2 ? 1 : 0) : t % 3 === 0 ? 1 : 0)
    }
  const fixture = { config: toHfConfig(c), B, T, inputs, targets, mask }
  writeFileSync(join(outDir, 'tiny-inputs.json'), JSON.stringify(fixture) + '\n')
  console.log(`wrote ${outDir}/tiny-params.safetensors and tiny-inputs.json`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
