/**
 * PPO's config, defaults and validator, apart from the trainer (ppo.ts) so a pipeline config can be
 * checked without loading the engine. As in TRL's PPOConfig: every hyperparameter has its default here.
 */
import { checkSettings } from '../util/settings.ts'
import type { MetricsRow } from './metrics.ts'
import type { Rows } from './rows.ts'
import type { PromptRecord } from '../data/formats.ts'
import type { KlEstimator } from './rl/kl.ts'
import { defaultGuardConfig, type GuardConfig } from './rl/guards.ts'

export type RewardSource = { modelDir: string } | { fn: (promptIds: number[], responseIds: number[]) => number }

export type PpoConfig = {
  /** Initial policy: the SFT model directory. */
  policyDir: string
  /** Frozen reference for the KL penalty (default: policyDir). */
  refDir?: string
  reward: RewardSource
  /** Value model init (default: the reward model's directory; with a scripted reward, the policy plus a zero head). */
  valueDir?: string
  /** Prompts as token ids (already in the chat template), or prompt rows (and their file) to wrap in it. */
  prompts: number[][] | Rows<PromptRecord>
  /** Pretraining token stream for the ptx loss (none: plain PPO). */
  ptxTokens?: Int32Array
  outDir: string
  /** PPO iterations (rollout + optimisation rounds). */
  iterations: number
  /** Prompts (= sampled responses) per iteration. */
  rolloutBatch: number
  /** Sequences per PPO minibatch (rolloutBatch must be a multiple). */
  miniBatch: number
  ppoEpochs: number
  maxNewTokens: number
  temperature: number
  topK?: number
  topP?: number
  gamma: number
  lambda: number
  clipRange: number
  clipRangeValue: number
  kl: {
    /** Initial (or fixed) KL coefficient beta. */
    coef: number
    /** The estimator that enters the reward (both are logged). */
    estimator: KlEstimator
    /** Ziegler et al.'s adaptive controller: target KL (nats per sequence) and horizon (sequences). */
    adaptive?: { target: number; horizon: number }
  }
  /** Subtracted from the score of rows that did not end with EOS (TRL's missing_eos_penalty). */
  missingEosPenalty?: number
  /** gamma_ptx: weight of the pretraining LM loss in the policy loss (ignored without ptxTokens). */
  ptxCoef: number
  /** Pretraining windows per minibatch, and their length (default: the rollout length T). */
  ptxBatch: number
  ptxLength?: number
  /** Whiten the per-token rewards before GAE (TRL's whiten_rewards, off by default). */
  whitenRewards: boolean
  /**
   * Normalise the reward model's scores before training (rl/score-norm.ts): sample this many responses
   * from the initial policy, and set the scores' mean to 0 and standard deviation to 1 on them; a value
   * model initialised from the reward model gets the same gain and bias. 0 = raw scores (TRL).
   * lm-human-preferences uses 256. Applied before the missing-EOS penalty.
   */
  scoreNormSamples: number
  /** With scoreNormSamples: also remove the reward model's linear trend in response length on those samples. */
  scoreNormLength: boolean
  /**
   * Iterations at the start in which only the value model learns (the policy is not updated, so those
   * rollouts come from the initial policy). The value model starts from the reward model, whose head
   * was trained on the score at EOS only: at other positions its values are not returns, and the GAE
   * advantages built on them push the policy (e.g. toward not stopping) until the critic has caught up.
   */
  valueWarmup: number
  policyLr: number
  valueLr: number
  gradClip: number
  guards: GuardConfig
  /** Write a resumable checkpoint every N iterations (0 = never, only the final outputs). */
  checkpointEvery: number
  seed: number
  /** Token ids when the policy directory carries no tokenizer (prompts given as ids). */
  tokens?: { eosId: number; padId: number }
  quiet?: boolean
  /** Called with each iteration's metrics row. */
  onIteration?(row: MetricsRow): void
}

export const defaultPpoConfig: Omit<PpoConfig, 'policyDir' | 'reward' | 'prompts' | 'outDir'> = {
  iterations: 20,
  // InstructGPT's ratios scaled to our batch: 512 episodes in minibatches of 64 with one PPO epoch is 8
  // updates per rollout batch; here 64 episodes in minibatches of 8, one epoch (TRL's default is 4 epochs)
  rolloutBatch: 64,
  miniBatch: 8,
  ppoEpochs: 1,
  maxNewTokens: 48,
  temperature: 1,
  gamma: 1,
  lambda: 0.95,
  clipRange: 0.2,
  clipRangeValue: 0.2,
  kl: { coef: 0.05, estimator: 'k1' },
  ptxCoef: 1,
  ptxBatch: 4,
  whitenRewards: false,
  scoreNormSamples: 0,
  scoreNormLength: false,
  valueWarmup: 0,
  // about a fifth to a tenth of the SFT learning rates our small models use (TRL's ratio is similar)
  policyLr: 1e-4,
  valueLr: 3e-4,
  gradClip: 1,
  guards: defaultGuardConfig,
  checkpointEvery: 5,
  seed: 1,
}

/** PPO's hyperparameters: the config without its inputs, outputs and callbacks (a pipeline config's `ppo`). */
export type PpoSettings = Omit<PpoConfig, 'policyDir' | 'refDir' | 'reward' | 'valueDir' | 'prompts' | 'ptxTokens' | 'outDir' | 'tokens' | 'quiet' | 'onIteration'>
/** What a config may set: any of the settings, `kl` and `guards` key by key. */
export type PpoSettingsPatch = Partial<Omit<PpoSettings, 'kl' | 'guards'>> & { kl?: Partial<PpoSettings['kl']>; guards?: Partial<GuardConfig> }

/** Check a config's PPO settings: unknown keys and wrong types are errors naming the field (`ppo.kl.coef`). */
export function checkPpoSettings(patch: unknown, field = 'ppo', file?: string): PpoSettingsPatch {
  return checkSettings(defaultPpoConfig, patch, field, file, {
    optional: { topK: 'number', topP: 'number', missingEosPenalty: 'number', ptxLength: 'number', 'kl.adaptive': 'object' },
    enums: { 'kl.estimator': ['k1', 'k3'] },
  }) as PpoSettingsPatch
}

