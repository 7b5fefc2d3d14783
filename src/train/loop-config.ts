/**
 * The training loop's settings and defaults (shared by pretraining, SFT, reward modelling and DPO),
 * apart from loop.ts so a trainer's config file, and a pipeline config, can be checked without the engine.
 */
export type LoopConfig = {
  /** Optimizer steps. */
  steps: number
  /** Micro-batches per optimizer step. */
  gradAccum: number
  lr: number
  minLr: number
  warmup: number
  weightDecay: number
  gradClip: number
  beta2: number
  /** Evaluate every N steps (0 = only at the end). */
  evalEvery: number
  /** Write a resumable checkpoint every N steps (0 = only at the end). */
  checkpointEvery: number
  seed: number
}

export const defaultLoopConfig: LoopConfig = {
  steps: 100,
  gradAccum: 1,
  lr: 1e-3,
  minLr: 1e-4,
  warmup: 10,
  weightDecay: 0.1,
  gradClip: 1.0,
  beta2: 0.95,
  evalEvery: 0,
  checkpointEvery: 50,
  seed: 1,
}

/**
 * A trainer's settings as a config writes them: flat, TRL-style (`lr`, not `loop.lr`). This splits them
 * into the loop's and the trainer's own.
 */
export function splitLoopSettings<T extends object>(s: T): { loop: Partial<LoopConfig>; rest: Omit<T, keyof LoopConfig> } {
  const loop: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s)) if (v !== undefined) (k in defaultLoopConfig ? loop : rest)[k] = v
  return { loop: loop as Partial<LoopConfig>, rest: rest as Omit<T, keyof LoopConfig> }
}
