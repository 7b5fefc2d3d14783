/**
 * The PPO stage's glue: held-in prompts (chat template, only those leaving room for a response) and the
 * pretraining token stream (PPO-ptx) for `trainPpo`, from the pipeline's data and pretraining outputs.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PipelineConfig } from './config.ts'
import { loadTokenizer, formatPrompt } from '../tokenizer/index.ts'
import { loadPrompts } from '../data/formats.ts'
import { loadCheckpoint } from '../model/checkpoint.ts'

export type PpoStageInit = {
  cfg: PipelineConfig
  tasksDir: string
  /** The pretraining token stream (int32, the pretrain stage's `tokens` output) for the PPO-ptx mix. */
  ptxTokensFile: string
  sft: string
  reward: string
  outDir: string
  quiet: boolean
}

/**
 * What PPO is rewarded by: the reward model, or with `zeroScore` (the ablation) a score of 0 for every
 * response. The value model starts from the reward model either way, so the ablation differs in the
 * score only.
 */
export function rewardSource(rewardDir: string, zeroScore = false): { reward: { modelDir: string } | { fn: () => number }; valueDir: string } {
  return { reward: zeroScore ? { fn: () => 0 } : { modelDir: rewardDir }, valueDir: rewardDir }
}

export async function runPpoStage(init: PpoStageInit): Promise<{ outputs: Record<string, string>; metrics: Record<string, number> }> {
  const { trainPpo, defaultPpoConfig } = await import('../train/ppo.ts')
  const { maxPrompts, zeroScore, ...settings } = init.cfg.ppo
  const maxNew = settings.maxNewTokens ?? defaultPpoConfig.maxNewTokens
  const tok = loadTokenizer(init.sft)
  const nCtx = loadCheckpoint(init.sft).config.nCtx
  const rows = await loadPrompts(join(init.tasksDir, 'train', 'prompts.jsonl'))
  const prompts = rows
    .map((r) => formatPrompt(tok, r.prompt))
    // + 1: the EOS the reward model scores a cut response with (train/rl/eos.ts)
    .filter((ids) => ids.length + maxNew + 1 <= nCtx)
    .slice(0, maxPrompts)
  const b = readFileSync(init.ptxTokensFile)
  const ptxTokens = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
  const r = await trainPpo({
    ...settings,
    policyDir: init.sft,
    ...rewardSource(init.reward, zeroScore),
    prompts,
    ptxTokens,
    outDir: init.outDir,
    seed: init.cfg.seed,
    quiet: init.quiet,
  })
  const last = r.history[r.history.length - 1] ?? {}
  const first = r.history[0] ?? {}
  const num = (row: Record<string, unknown>, k: string) => (typeof row[k] === 'number' ? (row[k] as number) : NaN)
  return {
    outputs: { model: r.modelDir, value: r.valueDir, metrics: r.metricsFile },
    metrics: {
      first_score: num(first, 'objective/scores'),
      last_score: num(last, 'objective/scores'),
      last_kl: num(last, 'objective/kl'),
      iterations: r.history.length,
      stopped_early: r.stopped ? 1 : 0,
    },
  }
}
