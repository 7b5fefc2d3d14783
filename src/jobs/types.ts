/**
 * Types for instruct3 jobs: one pipeline stage = one job, whose inputs and outputs are CIDs.
 *
 * A `StageJobSpec` is what the pipeline writes. It is turned into a Bacalhau job (see spec.ts)
 * or run in a child process by the local runner (local.ts); both read the same spec, so a stage
 * behaves the same way on a laptop and on a Bacalhau network.
 */

/** An input of a stage: a UnixFS file or directory, by CID, mounted read-only at `/inputs/<name>`. */
export type StageInput = { name: string; cid: string }

/** Resources as Bacalhau writes them: CPU in cores or millicores ("2", "500m"), memory/disk in bytes ("4gb", "512mib"), GPU a count. */
export type StageResources = { cpu?: string; memory?: string; disk?: string; gpu?: string | number }

/** Timeouts in seconds (0 or absent: the orchestrator's default). */
export type StageTimeouts = { executionSeconds?: number; queueSeconds?: number; totalSeconds?: number }

export type StageJobSpec = {
  /** Job name. Bacalhau treats a second submission under the same name as an update of that job, so make it unique per run. */
  name: string
  /** Pipeline stage (the pipeline's names are in src/pipeline/stages.ts; any name for custom stages). */
  stage: string
  /** Container image, e.g. "ghcr.io/instruct3/trainer:0.1.0". */
  image: string
  /** Overrides the image entrypoint. Absent: the image's own (`instruct3`). */
  entrypoint?: string[]
  /** Arguments given to the entrypoint. `/inputs/<name>` and `/outputs` refer to the mounts. */
  args: string[]
  inputs: StageInput[]
  resources?: StageResources
  timeouts?: StageTimeouts
  /** Environment variables (uppercase names; Bacalhau reserves the BACALHAU_ prefix). */
  env?: Record<string, string>
  /** Absolute working directory inside the container. */
  workingDir?: string
  /** Free metadata copied to the Bacalhau job's Meta. */
  meta?: Record<string, string>
}

/** Where inputs are mounted and where the job writes its outputs, inside the container. */
export const INPUTS_ROOT = '/inputs'
export const OUTPUTS_PATH = '/outputs'
/** The ResultPath name under which `/outputs` is published. */
export const OUTPUTS_NAME = 'outputs'

/** Bacalhau's job states (they arrive as strings in the API). */
export type JobState = 'Undefined' | 'Pending' | 'Queued' | 'Running' | 'Completed' | 'Failed' | 'Stopped'
export const TERMINAL_JOB_STATES: readonly JobState[] = ['Completed', 'Failed', 'Stopped']

export type JobLogLine = { stream: 'stdout' | 'stderr'; line: string }

/** What any runner returns for one stage. */
export type JobResult = {
  /** Runner-specific id: a Bacalhau job ID, or `local-<stage>-<random>` for the local runner. */
  jobId: string
  stage: string
  state: JobState
  /** CID of the `/outputs` directory (present when the job completed). */
  outputs?: string
  exitCode?: number
  /** Last lines of the job's output (for error reports). */
  logTail: string[]
  /** Human explanation when the job did not complete. */
  message?: string
  /** Full log on disk (local runner). */
  logFile?: string
}

export type RunOptions = {
  /** Called for every log line as it arrives. */
  onLog?: (line: JobLogLine) => void
  signal?: AbortSignal
}

/** A way to run stage jobs: locally in a child process, or on a Bacalhau network. */
export interface JobRunner {
  readonly kind: 'local' | 'bacalhau'
  run(spec: StageJobSpec, opts?: RunOptions): Promise<JobResult>
}
