/** The PPO stage's glue: prompts and the pretraining mix for `trainPpo` from the pipeline's data. */
import { join } from 'node:path'
import type { PipelineConfig } from './config.ts'

export type PpoStageInit = {
  cfg: PipelineConfig
  tasksDir: string
  pretrainDir: Record<string, string>
  sft: string
  reward: string
  outDir: string
  quiet: boolean
}

export async function runPpoStage(init: PpoStageInit): Promise<{ outputs: Record<string, string>; metrics: Record<string, number> }> {
  void init
  void join
  throw new Error('PPO stage: not wired yet')
}
