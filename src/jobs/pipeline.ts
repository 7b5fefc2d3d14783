import { Instruct3Error } from '../util/errors.ts'
import { checkStageSpec, toBacalhauJob } from './spec.ts'
import type { JobLogLine, JobResult, JobRunner, StageInput, StageJobSpec } from './types.ts'
import { validateBacalhauJob } from './validate.ts'

/** An input that is an earlier stage's `/outputs` directory, named by that stage. */
export type FromStageInput = { name: string; from: string }
export type PipelineInput = StageInput | FromStageInput
/** A stage spec whose inputs may refer to earlier stages' outputs. */
export type PipelineStageDef = Omit<StageJobSpec, 'inputs'> & { inputs: PipelineInput[] }

export type StageOutcome = JobResult
export type PipelineRunResult = {
  ok: boolean
  /** Every stage that ran, in order (finished ones keep their output CIDs even when a later stage failed). */
  stages: StageOutcome[]
  /** The stage that stopped the pipeline. */
  failed?: StageOutcome
  /** Stages not run because an earlier one failed. */
  skipped: string[]
}

export type PipelineOptions = {
  onLog?: (stage: string, line: JobLogLine) => void
  /** Called when a stage starts (`state` absent) and when it ends. */
  onStage?: (stage: string, result?: StageOutcome) => void
  signal?: AbortSignal
}

// Stand-in CID used to validate a stage before the stage it reads from has run.
const PLACEHOLDER_CID = 'bafkqaaa' // identity CID of the empty block

/**
 * Run pipeline stages in order on a runner (local or Bacalhau), each stage's `{from: "<stage>"}` inputs bound to
 * that stage's output CID. Every stage is validated (its own rules and Bacalhau's) before the first one runs, so a
 * bad spec late in the list costs nothing. The first failed stage stops the pipeline; its logs are in `failed`.
 */
export async function runPipelineJobs(stages: PipelineStageDef[], runner: JobRunner, opts: PipelineOptions = {}): Promise<PipelineRunResult> {
  checkPipeline(stages)
  const outputs = new Map<string, string>()
  const done: StageOutcome[] = []
  for (let i = 0; i < stages.length; i++) {
    const def = stages[i]
    const spec: StageJobSpec = {
      ...def,
      inputs: def.inputs.map((inp) => ('from' in inp ? { name: inp.name, cid: outputs.get(inp.from)! } : inp)),
    }
    opts.onStage?.(def.stage)
    let r: StageOutcome
    try {
      r = await runner.run(spec, { signal: opts.signal, onLog: opts.onLog ? (l) => opts.onLog!(def.stage, l) : undefined })
    } catch (e) {
      // the runner could not run the stage at all (orchestrator gone, store closed...): a failure of this stage
      const msg = e instanceof Error ? e.message : String(e)
      r = { jobId: '', stage: def.stage, state: 'Failed', logTail: [], message: msg }
    }
    done.push(r)
    opts.onStage?.(def.stage, r)
    if (r.state !== 'Completed' || !r.outputs) {
      return { ok: false, stages: done, failed: r, skipped: stages.slice(i + 1).map((s) => s.stage) }
    }
    outputs.set(def.stage, r.outputs)
  }
  return { ok: true, stages: done, skipped: [] }
}

/** Validate every stage up front: stage names unique, `from` names an earlier stage, each spec valid for Bacalhau. */
export function checkPipeline(stages: PipelineStageDef[]): void {
  if (!Array.isArray(stages) || stages.length === 0) throw new Instruct3Error('a pipeline needs at least one stage', { code: 'EJOBSPEC', details: { field: 'stages' } })
  const seen = new Set<string>()
  stages.forEach((def, i) => {
    const at = `stages[${i}]`
    if (!def || !Array.isArray(def.inputs)) {
      throw new Instruct3Error('stage must have an inputs array', { code: 'EJOBSPEC', details: { field: `${at}.inputs` } })
    }
    def.inputs.forEach((inp, k) => {
      if (inp && 'from' in inp && !seen.has(inp.from)) {
        throw new Instruct3Error(`input "${inp.name}" reads from stage "${inp.from}", which does not run before stage "${def.stage}"`, {
          code: 'EJOBSPEC',
          details: { field: `${at}.inputs[${k}].from` },
        })
      }
    })
    const spec = { ...def, inputs: def.inputs.map((inp) => (inp && 'from' in inp ? { name: inp.name, cid: PLACEHOLDER_CID } : inp)) }
    const issues = checkStageSpec(spec)
    if (issues.length > 0) {
      throw new Instruct3Error(`invalid job spec for stage "${def.stage ?? i}": ${issues[0].message}`, {
        code: 'EJOBSPEC',
        details: { field: `${at}.${issues[0].field}`, errors: issues },
      })
    }
    const report = validateBacalhauJob(toBacalhauJob(spec))
    if (!report.ok) {
      throw new Instruct3Error(`invalid Bacalhau job for stage "${def.stage}": ${report.errors[0].message}`, {
        code: 'EJOBSPEC',
        details: { field: `${at}: ${report.errors[0].field}`, errors: report.errors },
      })
    }
    if (seen.has(def.stage)) throw new Instruct3Error(`stage "${def.stage}" appears twice`, { code: 'EJOBSPEC', details: { field: `${at}.stage` } })
    seen.add(def.stage)
  })
}

/** The error to show when a pipeline stopped: the failed stage, why, its last log lines, and what was kept. */
export function pipelineFailure(result: PipelineRunResult): Instruct3Error | null {
  if (result.ok || !result.failed) return null
  const f = result.failed
  const kept = result.stages.filter((s) => s.state === 'Completed').map((s) => `${s.stage}=${s.outputs}`)
  const lines = [
    `stage "${f.stage}" ${f.state.toLowerCase()}${f.jobId ? ` (job ${f.jobId})` : ''}: ${f.message ?? 'no reason given'}`,
    ...(f.logTail.length > 0 ? ['last log lines:', ...f.logTail.map((l) => `  | ${l}`)] : []),
    kept.length > 0 ? `finished stages kept: ${kept.join(', ')}` : 'no stage finished',
    ...(result.skipped.length > 0 ? [`not run: ${result.skipped.join(', ')}`] : []),
  ]
  return new Instruct3Error(lines.join('\n'), {
    code: 'EJOBFAILED',
    details: { stage: f.stage, jobId: f.jobId, logFile: f.logFile },
  })
}
