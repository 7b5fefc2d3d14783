import type { PipelineInput, PipelineStageDef } from './pipeline.ts'
import type { StageJobSpec, StageResources, StageTimeouts } from './types.ts'
import { KNOWN_STAGES } from './types.ts'

/** The trainer image built from the repo's Dockerfile (push it wherever your Bacalhau nodes pull from). */
export const DEFAULT_IMAGE = 'ghcr.io/instruct3/trainer:0.1.0'

type KnownStage = (typeof KNOWN_STAGES)[number]

/**
 * Starting points per stage, sized for the small models instruct3 trains (CPU first; a GPU where it pays off).
 * Execution timeouts are generous upper bounds so a stuck job is eventually killed rather than billed forever.
 * The total timeout is always set (execution + an hour in the queue): an orchestrator fills a missing one from its
 * JobDefaults, and Job.Validate then rejects the job if that default is shorter than our execution timeout.
 */
export const STAGE_DEFAULTS: Record<KnownStage, { resources: StageResources; timeouts: StageTimeouts }> = {
  corpus: { resources: { cpu: '1', memory: '2gb', disk: '4gb' }, timeouts: { executionSeconds: 1800, totalSeconds: 1800 + 3600 } },
  pretrain: { resources: { cpu: '4', memory: '8gb', disk: '4gb', gpu: '1' }, timeouts: { executionSeconds: 6 * 3600, totalSeconds: 6 * 3600 + 3600 } },
  sft: { resources: { cpu: '4', memory: '8gb', disk: '4gb', gpu: '1' }, timeouts: { executionSeconds: 3 * 3600, totalSeconds: 3 * 3600 + 3600 } },
  rm: { resources: { cpu: '4', memory: '8gb', disk: '4gb', gpu: '1' }, timeouts: { executionSeconds: 3 * 3600, totalSeconds: 3 * 3600 + 3600 } },
  ppo: { resources: { cpu: '4', memory: '12gb', disk: '4gb', gpu: '1' }, timeouts: { executionSeconds: 6 * 3600, totalSeconds: 6 * 3600 + 3600 } },
  dpo: { resources: { cpu: '4', memory: '8gb', disk: '4gb', gpu: '1' }, timeouts: { executionSeconds: 3 * 3600, totalSeconds: 3 * 3600 + 3600 } },
  eval: { resources: { cpu: '2', memory: '4gb', disk: '2gb' }, timeouts: { executionSeconds: 3600, totalSeconds: 3600 + 3600 } },
}

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

/** A pipeline stage definition with the image and per-stage defaults filled in. */
export function stageJob(init: StageJobInit): PipelineStageDef {
  const d = (STAGE_DEFAULTS as Record<string, (typeof STAGE_DEFAULTS)[KnownStage] | undefined>)[init.stage]
  const def: Omit<StageJobSpec, 'inputs'> & { inputs: PipelineInput[] } = {
    name: `instruct3-${init.runId}-${init.stage}`,
    stage: init.stage,
    image: init.image ?? DEFAULT_IMAGE,
    args: init.args,
    inputs: init.inputs,
    resources: { ...(d?.resources ?? {}), ...(init.resources ?? {}) },
    timeouts: mergeTimeouts(d?.timeouts ?? {}, init.timeouts ?? {}),
    meta: { 'instruct3/run': init.runId },
  }
  if (init.env) def.env = init.env
  return def
}

/** Overrides win; a total that was not given is recomputed so it still covers execution + queue (+ an hour). */
function mergeTimeouts(base: StageTimeouts, over: StageTimeouts): StageTimeouts {
  const t = { ...base, ...over }
  if (over.totalSeconds === undefined && (over.executionSeconds !== undefined || over.queueSeconds !== undefined)) {
    t.totalSeconds = (t.executionSeconds ?? 0) + (t.queueSeconds ?? 0) + 3600
  }
  return t
}
