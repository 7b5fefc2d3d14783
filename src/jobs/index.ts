// instruct3 jobs: each pipeline stage as a job spec, run locally (default) or on Bacalhau. See docs/jobs.md.
export type * from './types.ts'
export { INPUTS_ROOT, OUTPUTS_PATH, OUTPUTS_NAME, TERMINAL_JOB_STATES } from './types.ts'
export type { BacalhauJob } from './bacalhau-model.ts'
export { toBacalhauJob, checkStageSpec, assertStageSpec, readJobFile, inputTarget } from './spec.ts'
export { validateBacalhauJob, assertValidBacalhauJob, type ValidationReport, type ValidationIssue } from './validate.ts'
export { createLocalRunner, type LocalRunnerInit } from './local.ts'
export { createBacalhauClient, type BacalhauClient, type BacalhauClientInit } from './bacalhau.ts'
export { createBacalhauRunner, type BacalhauRunnerInit } from './bacalhau-runner.ts'
export { createJobRunner, defaultBacalhauApi, type RunnerChoice } from './runner.ts'
export {
  runPipelineJobs,
  checkPipeline,
  pipelineFailure,
  type PipelineStageDef,
  type PipelineInput,
  type FromStageInput,
  type PipelineRunResult,
  type StageOutcome,
} from './pipeline.ts'
export { stageJob, DEFAULT_IMAGE, type StageJobInit } from './stages.ts'
