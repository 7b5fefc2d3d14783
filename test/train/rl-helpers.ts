/** Shared pieces for the PPO/DPO tests: a tiny tokenizer, tiny model directories, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { makeConfig, type GPTConfig } from '../../src/model/config.ts'
import { initParams, type HostParams } from '../../src/model/gpt.ts'
import { saveCheckpoint } from '../../src/model/checkpoint.ts'
import { trainBpe, saveTokenizer, type Tokenizer } from '../../src/tokenizer/index.ts'

export function tempDir(t: { after(fn: () => void): void }, prefix = 'instruct3-rl-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** A byte-level BPE tokenizer with the chat specials (ids 256..260) and a few merges, saved to `dir`. */
export async function tinyTokenizer(dir: string): Promise<Tokenizer> {
  const text = ['good answer', 'bad reply', 'question number', 'the answer is good', 'a bad reply here']
  const tok = await trainBpe(text, { vocabSize: 288 })
  await saveTokenizer(dir, tok)
  return tok
}

export function tinyConfig(vocabSize: number, partial: Partial<GPTConfig> = {}): GPTConfig {
  return makeConfig({ vocabSize, nCtx: 64, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, ...partial })
}

/** Write a model directory (HF layout) with an optional scalar head and the tokenizer copied from `tokDir`. */
export async function writeModel(dir: string, c: GPTConfig, seed: number, opts: { tokDir?: string; tok?: Tokenizer; head?: boolean; params?: HostParams } = {}): Promise<HostParams> {
  const params = opts.params ?? initParams(c, seed)
  const extra = opts.head
    ? { 'score.weight': { shape: [c.nEmbd], data: Float32Array.from({ length: c.nEmbd }, (_, i) => Math.sin(i + seed) * 0.1) }, 'score.bias': { shape: [1], data: new Float32Array(1) } }
    : undefined
  await saveCheckpoint(dir, c, params, { copyFrom: opts.tokDir, extraTensors: extra, meta: opts.tok ? { tokenizer_fingerprint: opts.tok.fingerprint } : {} })
  return params
}

/** A temp folder with a tiny tokenizer (`tok/`) and a tiny random policy (`sft/`, seed 3) that uses it. */
export async function tinyPolicy(t: { after(fn: () => void): void }, partial: Partial<GPTConfig> = {}): Promise<{ dir: string; tokDir: string; tok: Tokenizer; c: GPTConfig; model: string }> {
  const dir = tempDir(t)
  const tokDir = join(dir, 'tok')
  const tok = await tinyTokenizer(tokDir)
  const c = tinyConfig(tok.vocabSize, partial)
  const model = join(dir, 'sft')
  await writeModel(model, c, 3, { tokDir, tok })
  return { dir, tokDir, tok, c, model }
}
