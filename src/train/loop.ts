/**
 * The training loop shared by pretraining, SFT, reward modelling and DPO: warmup + cosine schedule,
 * gradient accumulation, periodic evaluation, metrics JSONL, a progress bar (loss, tokens/s, ETA),
 * checkpoints for exact resume after a kill (parameters, AdamW moments, step and RNG state), and a
 * final model directory. Engine work happens behind `Trainable` (src/model).
 */
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { saveCheckpoint, loadCheckpoint } from '../model/checkpoint.ts'
import { createTrainable, type HostBatch, type Trainable } from '../model/trainable.ts'
import type { Objective } from '../model/objectives.ts'
import type { GPTConfig } from '../model/config.ts'
import type { HostParams } from '../model/gpt.ts'
import type { TensorMap } from '../model/safetensors.ts'
import type { AdamWConfig } from '../model/optim.ts'
import { createRng, type Rng } from '../model/rng.ts'
import { createProgress } from '../util/progress.ts'
import type { LoopConfig } from './loop-config.ts'
import { createMetricsLog, type MetricsRow } from './metrics.ts'
import { lrAt } from './schedule.ts'

export { defaultLoopConfig, type LoopConfig } from './loop-config.ts'

export type LoopData = {
  /** The micro-batch for (step, micro); draw randomness only from `rng` so resume is exact. */
  nextBatch(rng: Rng, step: number, micro: number): HostBatch
  /** Tokens in a micro-batch that count for throughput. */
  tokensPerBatch: number
  /** Evaluation metrics with the current parameters (keys like `eval/loss`). */
  evaluate?(t: Trainable): Record<string, number>
}

export type LoopInit = {
  /** Progress label, e.g. "pretrain". */
  name: string
  outDir: string
  config: GPTConfig
  /** Initial parameters (ignored when resuming from outDir/checkpoint). */
  params: HostParams
  objective: Objective
  loop: LoopConfig
  data: LoopData
  /** Saved with every checkpoint and the final model (config.json "instruct3" section). */
  meta?: Record<string, unknown>
  /** Copied into checkpoints and the final model (the tokenizer directory). */
  copyFrom?: string
  quiet?: boolean
  /** Called after each optimizer step with the logged row (for PPO-style callers and tests). */
  onStep?(row: MetricsRow): void
  /**
   * Keep the parameters with the best value of an evaluation metric and save those as the final model
   * (InstructGPT picked its SFT checkpoint by reward-model score on validation prompts).
   */
  select?: { metric: string; mode: 'max' | 'min' }
}

export type LoopResult = {
  modelDir: string
  metricsFile: string
  finalEval: Record<string, number>
  resumedFrom: number | null
  history: MetricsRow[]
  /** With `select`: the step whose parameters were kept, and its metric value. */
  selected?: { step: number; value: number }
}

/** Paths inside a run directory. */
/**
 * A training run's files, for every trainer (the loop's and PPO's): the resumable checkpoint, the final
 * model, the metrics log (an output: bitwise the same when re-run) and wall-clock times (not an output).
 */
export function runPaths(outDir: string) {
  return { checkpoint: join(outDir, 'checkpoint'), model: join(outDir, 'model'), metrics: join(outDir, 'metrics.jsonl'), timing: join(outDir, 'timing.jsonl') }
}

/** Host parameters split for saving: the GPT-2 trunk, and the extra heads (score.weight, score.bias) as tensors. */
export function headTensors(config: GPTConfig, host: HostParams): { base: HostParams; extraTensors: TensorMap } {
  const { base, extra } = splitExtra(config, host)
  return { base, extraTensors: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { shape: [v.length], data: v }])) }
}

export async function runTrainingLoop(init: LoopInit): Promise<LoopResult> {
  const { loop, data } = init
  const paths = runPaths(init.outDir)
  const rng = createRng(loop.seed)
  let start = 0
  let params = init.params
  let optimizer: { m: HostParams; v: HostParams; step: number } | undefined
  let resumedFrom: number | null = null
  if (existsSync(paths.checkpoint)) {
    const ck = loadCheckpoint(paths.checkpoint, { optimizer: true })
    const st = ck.trainerState as { step: number; rng: number[]; steps: number } | undefined
    if (st && st.steps === loop.steps) {
      params = { ...ck.params }
      for (const [k, t] of Object.entries(ck.extraTensors)) params[k] = t.data
      optimizer = ck.optimizer
      start = st.step
      rng.setState(st.rng)
      resumedFrom = start
    }
  }
  const trainable = createTrainable({
    config: init.config,
    params,
    objective: init.objective,
    optimizer,
    adamw: { weightDecay: loop.weightDecay, gradClip: loop.gradClip, beta2: loop.beta2 } satisfies Partial<AdamWConfig>,
  })
  const metrics = createMetricsLog(paths.metrics, resumedFrom ?? undefined)
  mkdirSync(init.outDir, { recursive: true })
  const history: MetricsRow[] = []
  const progress = createProgress({ label: init.name, total: loop.steps, unit: 'step', quiet: init.quiet })
  progress.set(start)
  const schedule = { lr: loop.lr, minLr: loop.minLr, warmup: loop.warmup, steps: loop.steps }

  let best: { step: number; value: number; params: HostParams } | undefined
  const save = async (step: number, dir: string, withState: boolean, hostOverride?: HostParams) => {
    const host = hostOverride ?? trainable.hostParams()
    const { base, extraTensors } = headTensors(init.config, host)
    await saveCheckpoint(dir, init.config, base, {
      extraTensors,
      meta: { ...init.meta, step },
      optimizer: withState ? trainable.optimizerState() : undefined,
      trainerState: withState ? { step, rng: rng.state(), steps: loop.steps, seed: loop.seed } : undefined,
      copyFrom: init.copyFrom,
    })
  }

  let finalEval: Record<string, number> = {}
  let tokens = 0
  const t0 = performance.now()
  try {
    for (let step = start; step < loop.steps; step++) {
      const lr = lrAt(schedule, step)
      let loss = 0
      const sums: Record<string, number> = {}
      for (let micro = 0; micro < loop.gradAccum; micro++) {
        const batch = data.nextBatch(rng, step, micro)
        const r = await trainable.accumulateAsync(batch, loop.seed * 1_000_003 + step * 131 + micro)
        loss += r.loss / loop.gradAccum
        for (const [k, v] of Object.entries(r.metrics)) sums[k] = (sums[k] ?? 0) + v / loop.gradAccum
        tokens += data.tokensPerBatch
      }
      const gradNorm = await trainable.updateAsync(lr)
      const row: MetricsRow = { step: step + 1, loss, lr, grad_norm: gradNorm }
      for (const [k, v] of Object.entries(sums)) row[`train/${k}`] = v
      const last = step + 1 === loop.steps
      if (data.evaluate && ((loop.evalEvery > 0 && (step + 1) % loop.evalEvery === 0) || last)) {
        const ev = data.evaluate(trainable)
        Object.assign(row, ev)
        if (last) finalEval = ev
        const sel = init.select
        if (sel && typeof ev[sel.metric] === 'number') {
          const v = ev[sel.metric]
          if (!best || (sel.mode === 'max' ? v > best.value : v < best.value)) best = { step: step + 1, value: v, params: trainable.hostParams() }
        }
      }
      // Throughput goes to the progress bar and timing.jsonl, not metrics.jsonl: the metrics log is an
      // output of the stage and must come out bitwise identical when the stage is re-run.
      const elapsed = (performance.now() - t0) / 1000
      const tokensPerS = tokens / Math.max(elapsed, 1e-9)
      metrics.log(row)
      appendFileSync(paths.timing, JSON.stringify({ step: row.step, tokens_per_s: tokensPerS, elapsed_s: elapsed }) + '\n')
      history.push({ ...row, tokens_per_s: tokensPerS })
      init.onStep?.(row)
      progress.tick(1, { loss, 'tok/s': tokensPerS, ...(row['eval/loss'] !== undefined ? { eval: row['eval/loss'] as number } : {}) })
      if (!last && loop.checkpointEvery > 0 && (step + 1) % loop.checkpointEvery === 0) await save(step + 1, paths.checkpoint, true)
    }
    progress.done()
    await save(best?.step ?? loop.steps, paths.model, false, best?.params)
    // The final model supersedes the resumable checkpoint.
    rmSync(paths.checkpoint, { recursive: true, force: true })
  } finally {
    trainable.dispose()
  }
  return {
    modelDir: paths.model,
    metricsFile: paths.metrics,
    finalEval,
    resumedFrom,
    history,
    selected: best ? { step: best.step, value: best.value } : undefined,
  }
}

/** Separate GPT-2 trunk parameters from extra heads (score.weight, score.bias). */
export function splitExtra(config: GPTConfig, host: HostParams): { base: HostParams; extra: HostParams } {
  const base: HostParams = {}
  const extra: HostParams = {}
  const names = new Set<string>()
  // trunk names are exactly those with the transformer. prefix
  for (const [k, v] of Object.entries(host)) {
    if (k.startsWith('transformer.')) base[k] = v
    else extra[k] = v
    names.add(k)
  }
  void config
  return { base, extra }
}
