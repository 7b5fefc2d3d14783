/**
 * Model checkpoints as Hugging Face GPT-2 directories: `config.json` + `model.safetensors` with HF names
 * (`transformer.wte.weight`, `transformer.h.{i}.attn.c_attn.weight` in Conv1D [in, out] layout, ...),
 * so `GPT2LMHeadModel.from_pretrained(dir)` reads ours and we read theirs. Training adds
 * `optimizer.safetensors` (AdamW moments) and `trainer_state.json` (step, RNG, data cursor) for exact resume.
 * A checkpoint directory is written under a temp name and renamed into place: a crash never leaves a
 * half-written checkpoint where a good one was.
 */
import { existsSync, readFileSync, writeFileSync, cpSync } from 'node:fs'
import { join } from 'node:path'
import { writeDirAtomic } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'
import { fromHfConfig, toHfConfig, type GPTConfig } from './config.ts'
import { paramShapes, type HostParams } from './gpt.ts'
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type TensorMap } from './safetensors.ts'

export type SaveOptions = {
  /** Extra tensors saved beside the model's (e.g. `score.weight` for a reward/value head). */
  extraTensors?: TensorMap
  /** Extra fields merged into config.json (under "instruct3"). */
  meta?: Record<string, unknown>
  /** Optimizer moments by parameter name, saved to optimizer.safetensors. */
  optimizer?: { m: HostParams; v: HostParams; step: number }
  /** Anything needed to resume exactly (step, RNG state, data cursor...). */
  trainerState?: Record<string, unknown>
  /** A directory whose files (tokenizer) are copied into the checkpoint. */
  copyFrom?: string
  /** Called with the temp directory to write more files before the atomic rename. */
  writeExtra?: (dir: string) => void | Promise<void>
}

export async function saveCheckpoint(dir: string, config: GPTConfig, params: HostParams, opts: SaveOptions = {}): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    if (opts.copyFrom) cpSync(opts.copyFrom, tmp, { recursive: true, filter: (src) => !/\.(safetensors)$|trainer_state\.json$|config\.json$/.test(src) })
    const hf = toHfConfig(config, opts.meta ? { instruct3: opts.meta } : {})
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(hf, null, 2) + '\n')
    const tensors: TensorMap = {}
    for (const [name, shape] of paramShapes(config)) tensors[name] = { shape, data: params[name] }
    Object.assign(tensors, opts.extraTensors ?? {})
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' })
    if (opts.optimizer) {
      const o: TensorMap = {}
      for (const [name, shape] of paramShapes(config)) {
        o[`m.${name}`] = { shape, data: opts.optimizer.m[name] }
        o[`v.${name}`] = { shape, data: opts.optimizer.v[name] }
      }
      for (const [name, t] of Object.entries(opts.optimizer.m)) if (!(`m.${name}` in o)) o[`m.${name}`] = { shape: [t.length], data: t }
      for (const [name, t] of Object.entries(opts.optimizer.v)) if (!(`v.${name}` in o)) o[`v.${name}`] = { shape: [t.length], data: t }
      writeSafetensors(join(tmp, 'optimizer.safetensors'), o, { step: String(opts.optimizer.step) })
    }
    if (opts.trainerState) writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(opts.trainerState, null, 2) + '\n')
    await opts.writeExtra?.(tmp)
  })
}

export type LoadedCheckpoint = {
  dir: string
  config: GPTConfig
  params: HostParams
  /** The "instruct3" section of config.json, if any. */
  meta: Record<string, unknown>
  /** Tensors in model.safetensors that are not GPT-2 trunk parameters (e.g. score.weight). */
  extraTensors: TensorMap
  optimizer?: { m: HostParams; v: HostParams; step: number }
  trainerState?: Record<string, unknown>
}

/** HF buffers that are not parameters (causal mask caches in older saves). */
const IGNORED = /(^|\.)attn\.(bias|masked_bias)$/

/**
 * Load a checkpoint directory: ours, or a Hugging Face GPT-2 directory (config.json + model.safetensors;
 * names with or without the `transformer.` prefix; a tied `lm_head.weight` is accepted and checked).
 */
export function loadCheckpoint(dir: string, opts: { optimizer?: boolean } = {}): LoadedCheckpoint {
  const cfgFile = join(dir, 'config.json')
  const modelFile = join(dir, 'model.safetensors')
  if (!existsSync(cfgFile)) throw new Instruct3Error('no config.json: not a model directory', { code: 'ENOENT', details: { file: cfgFile } })
  if (!existsSync(modelFile)) throw new Instruct3Error('no model.safetensors in the model directory', { code: 'ENOENT', details: { file: modelFile } })
  let hf: Record<string, unknown>
  try {
    hf = JSON.parse(readFileSync(cfgFile, 'utf8'))
  } catch (cause) {
    throw new Instruct3Error(`invalid JSON (${(cause as Error).message})`, { code: 'ECONFIG', details: { file: cfgFile }, cause })
  }
  const config = fromHfConfig(hf, cfgFile)
  const header = readSafetensorsHeader(modelFile)
  // map file names -> our (HF LM) names
  const fileNameFor = new Map<string, string>()
  for (const name of Object.keys(header.tensors)) {
    if (IGNORED.test(name)) continue
    const ours = name.startsWith('transformer.') || name.startsWith('lm_head.') || name.startsWith('score.') ? name : `transformer.${name}`
    fileNameFor.set(ours, name)
  }
  const expected = paramShapes(config)
  for (const [name, shape] of expected) {
    const f = fileNameFor.get(name)
    if (!f) throw new Instruct3Error('tensor missing', { code: 'ESAFETENSORS', details: { file: modelFile, field: name } })
    const got = header.tensors[f].shape
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
      throw new Instruct3Error(`shape [${got}] does not match config (expected [${shape}])`, { code: 'ESAFETENSORS', details: { file: modelFile, field: f } })
  }
  const { tensors } = readSafetensors(modelFile, [...fileNameFor.values()])
  const params: HostParams = {}
  for (const [name] of expected) params[name] = tensors[fileNameFor.get(name)!].data
  const extraTensors: TensorMap = {}
  const known = new Set(expected.map(([n]) => n))
  for (const [ours, f] of fileNameFor) {
    if (known.has(ours)) continue
    if (ours === 'lm_head.weight') {
      const lm = tensors[f].data
      const wte = params['transformer.wte.weight']
      let maxDiff = 0
      for (let i = 0; i < lm.length; i += 97) maxDiff = Math.max(maxDiff, Math.abs(lm[i] - wte[i]))
      if (lm.length !== wte.length || maxDiff > 1e-6)
        throw new Instruct3Error('lm_head.weight differs from transformer.wte.weight: untied heads are not supported', {
          code: 'ESAFETENSORS',
          details: { file: modelFile, field: f },
        })
      continue
    }
    extraTensors[ours] = tensors[f]
  }
  const out: LoadedCheckpoint = { dir, config, params, meta: (hf.instruct3 as Record<string, unknown>) ?? {}, extraTensors }
  const stateFile = join(dir, 'trainer_state.json')
  if (existsSync(stateFile)) out.trainerState = JSON.parse(readFileSync(stateFile, 'utf8'))
  const optFile = join(dir, 'optimizer.safetensors')
  if (opts.optimizer && existsSync(optFile)) {
    const o = readSafetensors(optFile)
    const m: HostParams = {}
    const v: HostParams = {}
    for (const [k, t] of Object.entries(o.tensors)) {
      if (k.startsWith('m.')) m[k.slice(2)] = t.data
      else if (k.startsWith('v.')) v[k.slice(2)] = t.data
    }
    out.optimizer = { m, v, step: Number(o.metadata.step ?? 0) }
  }
  return out
}


