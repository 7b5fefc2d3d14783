/**
 * DPO's config, defaults and validator, apart from the trainer (dpo.ts) so a pipeline config can be
 * checked without loading the engine. Every hyperparameter has its default here.
 */
import { checkSettings } from '../util/settings.ts'
import { defaultLoopConfig, splitLoopSettings, type LoopConfig } from './loop-config.ts'
import type { Comparison } from '../data/formats.ts'
import type { Rows } from './rows.ts'

export type DpoConfig = {
  /** Initial policy: the SFT model directory (with its tokenizer). */
  policyDir: string
  /** Frozen reference (default: policyDir, as in the DPO paper). */
  refDir?: string
  /** Comparisons (InstructGPT form, or {prompt, chosen, rejected} as the loader reads it), and their file. */
  comparisons: Rows<Comparison>
  /** Held-out comparisons for `eval/rewards/*`. */
  evalComparisons?: Rows<Comparison>
  outDir: string
  /** DPO temperature (TRL's default 0.1). */
  beta: number
  /** Pairs per micro-batch (each pair is two sequences). */
  batchPairs: number
  loop: Partial<LoopConfig>
  quiet?: boolean
}

export const defaultDpoConfig: Omit<DpoConfig, 'policyDir' | 'comparisons' | 'outDir'> = {
  beta: 0.1,
  batchPairs: 8,
  // weight decay off: it would pull the policy towards zero, not towards the reference
  loop: { steps: 200, lr: 1e-4, minLr: 1e-5, warmup: 10, weightDecay: 0, evalEvery: 50, checkpointEvery: 50 },
}

/** What callers pass: the required fields, anything else falls back to `defaultDpoConfig`. */
export type DpoInput = Partial<DpoConfig> & Pick<DpoConfig, 'policyDir' | 'comparisons' | 'outDir'>

/** DPO's hyperparameters as a config writes them (a pipeline config's `dpo`): its own and the loop's, flat. */
export type DpoSettings = Pick<DpoConfig, 'beta' | 'batchPairs'> & LoopConfig

export const defaultDpoSettings: DpoSettings = { ...defaultLoopConfig, ...defaultDpoConfig.loop, beta: defaultDpoConfig.beta, batchPairs: defaultDpoConfig.batchPairs }

/** Check a config's DPO settings: unknown keys and wrong types are errors naming the field (`dpo.lr`). */
export function checkDpoSettings(patch: unknown, field = 'dpo', file?: string): Partial<DpoSettings> {
  return checkSettings(defaultDpoSettings, patch, field, file)
}

/** The trainer's config for (checked) settings: the loop's keys go under `loop`. */
export function dpoConfigFrom(s: Partial<DpoSettings>): Partial<DpoConfig> {
  const { loop, rest } = splitLoopSettings(s)
  return { ...rest, loop }
}
