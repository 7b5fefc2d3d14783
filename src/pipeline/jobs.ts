/**
 * The job executors (`instruct3 pipeline --runner local|bacalhau`): a stage runs as a job whose command is
 * `instruct3 stage <name> --config /inputs/config/pipeline.json --inputs /inputs --out /outputs`, whose
 * inputs are the config, the shared data (data stage) and the earlier stages' folders, all by CID, and
 * whose `/outputs` folder comes back by CID into workDir/<stage>. Everything else (keys, skipping, output
 * CIDs, run manifests) is the driver's in run.ts, so the manifests are those of an in-process run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import { createJobRunner } from '../jobs/runner.ts'
import { checkPipeline } from '../jobs/pipeline.ts'
import { stageJob } from '../jobs/stages.ts'
import type { PipelineInput, PipelineStageDef } from '../jobs/pipeline.ts'
import type { JobRunner, StageInput, StageResources } from '../jobs/types.ts'
import type { ContentStore } from '../store/types.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { PipelineConfig } from './config.ts'
import { keyFor, runStage, type Ctx, type StageDef, type StageRecord } from './stage.ts'
import { STAGES } from './stages.ts'
import { openStore, runPipeline, type PipelineOptions, type PipelineResult, type StageExecutor } from './run.ts'

export type JobExecutorInit = {
  runner: JobRunner
  /** Where job inputs are added and job outputs read from (the Bacalhau nodes must reach it). */
  store: ContentStore
  quiet?: boolean
}

/** Run one stage inside a job (`instruct3 stage`): earlier stages' folders are under `inputsRoot/<stage>`. */
export async function runStageJob(name: string, cfg: PipelineConfig, inputsRoot: string, outDir: string, quiet = false): Promise<StageRecord> {
  const def = STAGES.find((s) => s.name === name)
  if (!def) throw new Instruct3Error(`unknown stage "${name}" (${STAGES.map((s) => s.name).join(', ')})`, { code: 'ECONFIG', details: { field: 'stage' } })
  const shared = join(inputsRoot, 'shared-data')
  if (existsSync(shared)) cfg = { ...cfg, dataDir: shared }
  const records = new Map<string, StageRecord>()
  const dirs = new Map<string, string>()
  for (const n of def.inputs) {
    const f = join(inputsRoot, n, 'stage.json')
    if (existsSync(f)) {
      records.set(n, JSON.parse(readFileSync(f, 'utf8')) as StageRecord)
      dirs.set(n, join(inputsRoot, n))
    }
  }
  // external inputs are mounted under their names
  const external = new Map(Object.keys(def.external?.(cfg) ?? {}).map((n) => [n, join(inputsRoot, n)]))
  return runStage(def, { cfg, records, dirs, external, log: (m) => !quiet && process.stderr.write(`stage: ${m}\n`), quiet }, outDir)
}

/** The job spec of one stage: its definition's resources and timeouts, the config's `jobs` overrides. */
function stageSpec(stage: StageDef, cfg: PipelineConfig, runId: string, inputs: PipelineInput[], quiet: boolean): PipelineStageDef {
  const over: StageResources = cfg.jobs.resources[stage.name] ?? {}
  return stageJob({
    stage: stage.name,
    runId,
    image: cfg.jobs.image,
    args: ['stage', stage.name, '--config', '/inputs/config/pipeline.json', '--inputs', '/inputs', '--out', '/outputs', ...(quiet ? ['--quiet'] : [])],
    inputs,
    resources: { ...stage.resources, ...over },
    timeouts: stage.timeouts,
  })
}

/** What a job mounts besides the earlier stages' folders: the config it runs with, and the stage's external inputs. */
const externalInputs = (stage: StageDef, cfg: PipelineConfig): string[] => ['config', ...Object.keys(stage.external?.(cfg) ?? {})]

/** An executor that runs each stage as a job on `runner` (a local child process or a Bacalhau network). */
export function jobExecutor(init: JobExecutorInit): StageExecutor {
  const runId = Date.now().toString(36)
  const quiet = Boolean(init.quiet)
  const cids = new Map<string, string>()
  /** The config a job reads (paths inside the job; no store), added once by CID like every other input. */
  const configCid = async (cfg: PipelineConfig): Promise<string> => {
    if (!cids.has('config')) {
      const tmp = mkdtempSync(join(tmpdir(), 'instruct3-cfg-'))
      try {
        writeFileSync(join(tmp, 'pipeline.json'), JSON.stringify({ ...cfg, workDir: '/outputs', dataDir: '/inputs/shared-data', store: { kind: 'none' } }, null, 2))
        cids.set('config', (await init.store.addDirectory(tmp, { pin: true })).toString())
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    }
    return cids.get('config')!
  }
  /** A local file or folder added to the store once per run. */
  const pathCid = async (path: string): Promise<string> => {
    if (!cids.has(path)) cids.set(path, (statSync(path).isDirectory() ? await init.store.addDirectory(path, { pin: true }) : await init.store.addFile(path, { pin: true })).toString())
    return cids.get(path)!
  }
  return {
    kind: init.runner.kind,
    async prepare(stages, cfg) {
      for (const name of Object.keys(cfg.jobs.resources))
        if (!STAGES.some((s) => s.name === name))
          throw new Instruct3Error(`no stage "${name}" (${STAGES.map((s) => s.name).join(', ')})`, { code: 'ECONFIG', details: { field: `jobs.resources.${name}` } })
      // every spec is checked (ours and Bacalhau's rules) before the first job starts
      const specs = stages.map((s) =>
        stageSpec(s, cfg, runId, [...externalInputs(s, cfg).map((n) => ({ name: n, cid: 'bafkqaaa' })), ...s.inputs.filter((n) => stages.some((x) => x.name === n)).map((n) => ({ name: n, from: n }))], quiet),
      )
      checkPipeline(specs)
    },
    async run(stage: StageDef, ctx: Ctx, dir: string): Promise<StageRecord> {
      const inputs: StageInput[] = [{ name: 'config', cid: await configCid(ctx.cfg) }]
      for (const [n, path] of ctx.external) inputs.push({ name: n, cid: await pathCid(path) })
      for (const n of stage.inputs) if (ctx.dirs.has(n)) inputs.push({ name: n, cid: await pathCid(ctx.dirs.get(n)!) })
      const spec = stageSpec(stage, ctx.cfg, runId, inputs, quiet)
      const r = await init.runner.run(
        { ...spec, inputs },
        { onLog: quiet ? undefined : (l) => process.stderr.write(`[${stage.name}] ${l.line}\n`) },
      )
      if (r.state !== 'Completed' || !r.outputs)
        throw new Instruct3Error(`stage "${stage.name}" ${r.state.toLowerCase()}${r.jobId ? ` (job ${r.jobId})` : ''}: ${r.message ?? ''}\n${r.logTail.slice(-15).join('\n')}`, {
          code: 'EJOB',
          details: { field: stage.name, jobId: r.jobId, logFile: r.logFile },
        })
      rmSync(dir, { recursive: true, force: true })
      await init.store.get(r.outputs, dir)
      const recFile = join(dir, 'stage.json')
      if (!existsSync(recFile)) throw new Instruct3Error(`job for stage "${stage.name}" wrote no stage.json`, { code: 'EJOB', details: { field: stage.name, jobId: r.jobId, file: recFile } })
      const rec = JSON.parse(readFileSync(recFile, 'utf8')) as StageRecord
      const key = keyFor(stage, ctx.cfg, ctx.records)
      if (rec.key !== key)
        throw new Instruct3Error(`job for stage "${stage.name}" computed key ${rec.key.slice(0, 12)}, this pipeline ${key.slice(0, 12)}: the job runs other code or another config (image ${spec.image})`, {
          code: 'EJOB',
          details: { field: stage.name, jobId: r.jobId },
        })
      return rec
    },
  }
}

export type JobPipelineOptions = Omit<PipelineOptions, 'executor' | 'store'> & {
  runner: 'local' | 'bacalhau'
  bacalhauApi?: string
  /** A store the caller opened and closes (default: the one `cfg.store` names). */
  store?: ContentStore
}

/** `--runner local|bacalhau`: the pipeline with every stage run as a job; same records and manifests as in-process. */
export async function runPipelineAsJobs(cfg: PipelineConfig, opts: JobPipelineOptions): Promise<PipelineResult> {
  if (!opts.store && cfg.store.kind === 'none')
    throw new Instruct3Error('jobs read their inputs from a store and publish to it: set store.kind to "helia" or "kubo"', { code: 'ECONFIG', details: { field: 'store.kind' } })
  const store = opts.store ?? (await openStore(cfg))
  try {
    const runner =
      opts.runner === 'bacalhau'
        ? createJobRunner({ runner: 'bacalhau', bacalhauApi: opts.bacalhauApi })
        : createJobRunner({ runner: 'local', store, workRoot: join(cfg.workDir, 'jobs'), logDir: join(cfg.workDir, 'jobs', 'logs') })
    return await runPipeline(cfg, { ...opts, store, executor: jobExecutor({ runner, store, quiet: opts.quiet }) })
  } finally {
    if (!opts.store) await store.close()
  }
}
