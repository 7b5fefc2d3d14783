/**
 * Pretraining's config, defaults and validator, apart from the trainer (pretrain.ts) so a pipeline
 * config can be checked without loading the engine. Every hyperparameter has its default here.
 */
import { checkSettings } from '../util/settings.ts'
import { defaultLoopConfig, splitLoopSettings, type LoopConfig } from './loop-config.ts'
import type { GPTConfig } from '../model/config.ts'

export type PretrainConfig = {
  corpusDir: string
  outDir: string
  /** Load a tokenizer from `dir`, or train one of `vocabSize` on (at most `trainBytes` of) the corpus. */
  tokenizer: { dir?: string; vocabSize: number; trainBytes?: number }
  model: Partial<Omit<GPTConfig, 'vocabSize'>>
  batchSize: number
  loop: Partial<LoopConfig>
  /** Validation batches per evaluation. */
  evalBatches: number
  /** Use only the first N training documents (0 = all): for quick runs and tests. */
  maxDocs?: number
  quiet?: boolean
}

export const defaultPretrainConfig: Omit<PretrainConfig, 'corpusDir' | 'outDir'> = {
  tokenizer: { vocabSize: 4096, trainBytes: 8_000_000 },
  model: { nCtx: 128, nEmbd: 128, nLayer: 4, nHead: 4, dropout: 0 },
  batchSize: 16,
  loop: { steps: 500, lr: 2e-3, minLr: 2e-4, warmup: 50, evalEvery: 100, checkpointEvery: 100 },
  evalBatches: 8,
  maxDocs: 0,
}

/**
 * Pretraining's hyperparameters as a config writes them (a pipeline config's `pretrain`): its own and the
 * loop's, flat. The tokenizer and the model's shape are the pipeline's `tokenizer` and `model`.
 */
export type PretrainSettings = Required<Pick<PretrainConfig, 'batchSize' | 'evalBatches' | 'maxDocs'>> & LoopConfig

export const defaultPretrainSettings: PretrainSettings = {
  ...defaultLoopConfig,
  ...defaultPretrainConfig.loop,
  batchSize: defaultPretrainConfig.batchSize,
  evalBatches: defaultPretrainConfig.evalBatches,
  maxDocs: defaultPretrainConfig.maxDocs ?? 0,
}

/** Check a config's pretraining settings: unknown keys and wrong types are errors naming the field (`pretrain.lr`). */
export function checkPretrainSettings(patch: unknown, field = 'pretrain', file?: string): Partial<PretrainSettings> {
  return checkSettings(defaultPretrainSettings, patch, field, file)
}

/** The trainer's config for (checked) settings: the loop's keys go under `loop`. */
export function pretrainConfigFrom(s: Partial<PretrainSettings>): Partial<PretrainConfig> {
  const { loop, rest } = splitLoopSettings(s)
  return { ...rest, loop }
}
