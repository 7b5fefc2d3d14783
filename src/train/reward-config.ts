/**
 * The reward model trainer's config, defaults and validator, apart from the trainer (reward.ts) so a
 * pipeline config can be checked without loading the engine. Every hyperparameter has its default here.
 */
import { checkSettings } from '../util/settings.ts'
import { defaultLoopConfig, splitLoopSettings, type LoopConfig } from './loop-config.ts'
import type { Comparison, Demonstration } from '../data/formats.ts'
import type { Rows } from './rows.ts'

export type RewardConfig = {
  /** Initialise from this model (the SFT model, per InstructGPT). */
  base: string
  train: Rows<Comparison>
  val?: Rows<Comparison>
  /** Demonstrations whose mean score becomes 0 (the bias). */
  demonstrations?: Rows<Demonstration>
  outDir: string
  mode: 'listwise' | 'pairwise'
  /** Comparisons (prompts) per micro-batch in listwise mode; pairs per micro-batch in pairwise mode. */
  batchSize: number
  epochs: number
  loop: Partial<Omit<LoopConfig, 'steps'>>
  quiet?: boolean
}

export const defaultRewardConfig: Omit<RewardConfig, 'base' | 'train' | 'outDir'> = {
  mode: 'listwise',
  batchSize: 4,
  epochs: 2,
  loop: { lr: 3e-4, minLr: 3e-5, warmup: 10, evalEvery: 25, checkpointEvery: 50, weightDecay: 0 },
}

/** The reward trainer's hyperparameters as a config writes them (a pipeline config's `reward`, `hh`): its own and the loop's, flat. */
export type RewardSettings = Pick<RewardConfig, 'mode' | 'batchSize' | 'epochs'> & Omit<LoopConfig, 'steps'>

const { steps: _steps, ...loopDefaults } = defaultLoopConfig
export const defaultRewardSettings: RewardSettings = {
  ...loopDefaults,
  ...defaultRewardConfig.loop,
  mode: defaultRewardConfig.mode,
  batchSize: defaultRewardConfig.batchSize,
  epochs: defaultRewardConfig.epochs,
}

/** Check a config's reward-model settings: unknown keys and wrong types are errors naming the field (`reward.lr`). */
export function checkRewardSettings(patch: unknown, field = 'reward', file?: string): Partial<RewardSettings> {
  return checkSettings(defaultRewardSettings, patch, field, file, { enums: { mode: ['listwise', 'pairwise'] } })
}

/** The trainer's config for (checked) settings: the loop's keys go under `loop`. */
export function rewardConfigFrom(s: Partial<RewardSettings>): Partial<RewardConfig> {
  const { loop, rest } = splitLoopSettings(s)
  return { ...rest, loop }
}
