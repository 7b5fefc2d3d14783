/**
 * SFT's config, defaults and validator, apart from the trainer (sft.ts) so a pipeline config can be
 * checked without loading the engine. Every hyperparameter has its default here.
 */
import { checkSettings } from '../util/settings.ts'
import { defaultLoopConfig, splitLoopSettings, type LoopConfig } from './loop-config.ts'
import type { Demonstration } from '../data/formats.ts'
import type { Rows } from './rows.ts'

export type SftConfig = {
  /** The pretrained model directory (with its tokenizer). */
  base: string
  train: Rows<Demonstration>
  val?: Rows<Demonstration>
  outDir: string
  epochs: number
  batchSize: number
  /** Pack examples into full rows (no padding); otherwise one example per row, padded. */
  packing: boolean
  loop: Partial<Omit<LoopConfig, 'steps'>>
  /** Pick the final checkpoint by this reward model's mean score on validation prompts. */
  rewardModel?: string
  /** Validation prompts generated per selection evaluation. */
  selectPrompts: number
  maxNewTokens: number
  /** Subtracted from the selection reward of responses without EOS (as PPO's missingEosPenalty). */
  missingEosPenalty?: number
  quiet?: boolean
}

export const defaultSftConfig: Omit<SftConfig, 'base' | 'train' | 'outDir'> = {
  epochs: 2,
  batchSize: 16,
  packing: true,
  loop: { lr: 5e-4, minLr: 5e-5, warmup: 10, evalEvery: 20, checkpointEvery: 50, weightDecay: 0 },
  selectPrompts: 16,
  maxNewTokens: 48,
}

/** SFT's hyperparameters as a config writes them (a pipeline config's `sft`): its own and the loop's, flat (epochs, not steps). */
export type SftSettings = Pick<SftConfig, 'epochs' | 'batchSize' | 'packing' | 'selectPrompts' | 'maxNewTokens' | 'missingEosPenalty'> & Omit<LoopConfig, 'steps'>

const { steps: _steps, ...loopDefaults } = defaultLoopConfig
export const defaultSftSettings: SftSettings = {
  ...loopDefaults,
  ...defaultSftConfig.loop,
  epochs: defaultSftConfig.epochs,
  batchSize: defaultSftConfig.batchSize,
  packing: defaultSftConfig.packing,
  selectPrompts: defaultSftConfig.selectPrompts,
  maxNewTokens: defaultSftConfig.maxNewTokens,
}

/** Check a config's SFT settings: unknown keys and wrong types are errors naming the field (`sft.lr`). */
export function checkSftSettings(patch: unknown, field = 'sft', file?: string): Partial<SftSettings> {
  return checkSettings(defaultSftSettings, patch, field, file, { optional: { missingEosPenalty: 'number' } })
}

/** The trainer's config for (checked) settings: the loop's keys go under `loop`. */
export function sftConfigFrom(s: Partial<SftSettings>): Partial<SftConfig> {
  const { loop, rest } = splitLoopSettings(s)
  return { ...rest, loop }
}
