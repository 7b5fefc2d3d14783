import type { PipelineInput, PipelineStageDef } from './pipeline.ts'
import type { StageJobSpec, StageResources, StageTimeouts } from './types.ts'

/** The trainer image built from the repo's Dockerfile (push it wherever your Bacalhau nodes pull from). */
export const DEFAULT_IMAGE = 'ghcr.io/instruct3/trainer:0.1.0'

export type StageJobInit = {
  stage: string
  /** Makes the job name unique: Bacalhau treats a resubmitted name as an update of the old job. */
  runId: string
  /** Arguments to `instruct3` inside the container; use /inputs/<name> and /outputs. */
  args: string[]
  inputs: PipelineInput[]
  image?: string
  resources?: StageResources
  timeouts?: StageTimeouts
  env?: Record<string, string>
}

/**
 * A stage's job spec with the image and a run-unique name filled in. Resources and timeouts come from
 * the caller: the pipeline's stage definitions (src/pipeline/stages.ts) are the only place they are set.
 */
export function stageJob(init: StageJobInit): PipelineStageDef {
  const def: Omit<StageJobSpec, 'inputs'> & { inputs: PipelineInput[] } = {
    name: `instruct3-${init.runId}-${init.stage}`,
    stage: init.stage,
    image: init.image ?? DEFAULT_IMAGE,
    args: init.args,
    inputs: init.inputs,
    resources: { ...(init.resources ?? {}) },
    timeouts: withTotal(init.timeouts ?? {}),
    meta: { 'instruct3/run': init.runId },
  }
  if (init.env) def.env = init.env
  return def
}

/**
 * A total timeout that was not given covers execution + queue + an hour: an orchestrator fills a missing one
 * from its JobDefaults, and rejects the job if that default is shorter than the execution timeout.
 */
function withTotal(t: StageTimeouts): StageTimeouts {
  if (t.totalSeconds !== undefined || (t.executionSeconds === undefined && t.queueSeconds === undefined)) return { ...t }
  return { ...t, totalSeconds: (t.executionSeconds ?? 0) + (t.queueSeconds ?? 0) + 3600 }
}
