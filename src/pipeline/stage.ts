/**
 * The stage model: what one pipeline stage is, how its key is computed, how it runs into a folder, and
 * the run manifest it gets. Every executor (in-process, local job, Bacalhau job) uses these and only
 * these, so a stage's name, inputs, outputs, resources and manifest are written in one place
 * (`stages.ts` lists the stages; `run.ts` drives them; `jobs.ts` runs one as a job).
 */
import { mkdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import type { StageResources, StageTimeouts } from '../jobs/types.ts'
import type { RunManifestInit } from '../store/manifest.ts'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { PipelineConfig } from './config.ts'

/** What a finished stage left in its folder's `stage.json`. */
export type StageRecord = {
  stage: string
  key: string
  /** Output paths relative to the stage's directory (so a stage's folder can move: job inputs, CIDs). */
  outputs: Record<string, string>
  metrics: Record<string, number>
  startedAt: string
  finishedAt: string
  seconds: number
  manifest?: string
  outputCids?: Record<string, string>
}

/** What a stage's code sees: the config, the earlier stages' records and where their folders are. */
export type Ctx = {
  cfg: PipelineConfig
  records: Map<string, StageRecord>
  /** Where each finished stage's folder is (workDir/<stage>, or /inputs/<stage> in a job). */
  dirs: Map<string, string>
  /** The stage's external inputs (see `StageDef.external`) as local paths, by name. */
  external: Map<string, string>
  log: (msg: string) => void
  quiet: boolean
}

/** A stage's result as its code returns it: absolute output paths by name, and scalar metrics. */
export type StageResult = { outputs: Record<string, string>; metrics: Record<string, number> }

export type StageDef = {
  name: string
  /**
   * Bumped when a stage's outputs change shape or the code that makes them changes what they hold, so
   * records of an older version are not reused. (reward, judge, reward-hh: 2 = shared-prefix batches.)
   */
  version?: number
  /** Earlier stages whose outputs this stage reads (those that ran; optional stages may be off). */
  inputs: string[]
  /** The outputs it always produces, by name: each becomes `from:<stage>/<name>` for later stages. */
  outputs: string[]
  /**
   * Artifacts from outside the pipeline that it reads, by name: a local path or a CID (`shared-data`,
   * `base-model`). Every executor hands them to the stage code as local paths (`ctx.external`): the
   * in-process driver fetches a CID from the store, a job gets each mounted at /inputs/<name>. The
   * run manifest records each by CID under its name, so `reproduce` can fetch it again.
   */
  external?: (cfg: PipelineConfig) => Record<string, string>
  /** What it asks of a job's machine (a GPU: `gpu: 1`); `jobs.resources` in the config overrides it. */
  resources: StageResources
  timeouts: StageTimeouts
  /** The part of the pipeline config that changes its outputs (hashed into its key). */
  config: (cfg: PipelineConfig) => unknown
  run: (ctx: Ctx, dir: string) => Promise<StageResult>
}

export const sha = (x: unknown): string => createHash('sha256').update(typeof x === 'string' ? x : JSON.stringify(x)).digest('hex')

/** The absolute path of output `name` of the earlier stage `stage`. */
export function out(ctx: Ctx, stage: string, name: string): string {
  const r = ctx.records.get(stage)
  if (!r) throw new Error(`internal: stage ${stage} has not run`)
  if (r.outputs[name] === undefined)
    throw new Instruct3Error(`stage ${stage} has no output "${name}" (it was recorded by an older version): re-run it with --force ${stage}`, {
      code: 'ESTAGE',
      details: { file: join(ctx.dirs.get(stage)!, 'stage.json') },
    })
  return resolve(ctx.dirs.get(stage)!, r.outputs[name])
}

/** A stage's key: the hash of its config, its version and its inputs' keys. */
export function stageKey(stage: StageDef, cfg: PipelineConfig, inputKeys: string[]): string {
  return sha({ stage: stage.name, config: stage.config(cfg), inputs: inputKeys, ...(stage.version ? { version: stage.version } : {}) })
}

/** The key of `stage` given the records of the earlier stages that ran. */
export function keyFor(stage: StageDef, cfg: PipelineConfig, records: Map<string, StageRecord>): string {
  return stageKey(stage, cfg, stage.inputs.filter((n) => records.has(n)).map((n) => records.get(n)!.key))
}

/**
 * Run one stage's code into `dir` and write its stage.json: the one way a stage runs, whether this
 * process is the pipeline (in-process), a child process (local job) or a container (Bacalhau job).
 */
export async function runStage(stage: StageDef, ctx: Ctx, dir: string): Promise<StageRecord> {
  const key = keyFor(stage, ctx.cfg, ctx.records)
  const s0 = performance.now()
  const startedAt = new Date().toISOString()
  const r = await stage.run(ctx, dir)
  const names = Object.keys(r.outputs).sort()
  if (names.join() !== [...stage.outputs].sort().join())
    throw new Instruct3Error(`stage ${stage.name} produced outputs [${names.join(', ')}], its definition declares [${stage.outputs.join(', ')}]`, {
      code: 'ESTAGE',
      details: { field: `${stage.name}.outputs` },
    })
  const rec: StageRecord = {
    stage: stage.name,
    key,
    outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, p]) => [k, relative(dir, p)])),
    metrics: r.metrics,
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - s0) / 1000,
  }
  writeRecord(dir, rec)
  return rec
}

export function writeRecord(dir: string, rec: StageRecord): void {
  mkdirSync(dir, { recursive: true })
  writeFileAtomicSync(join(dir, 'stage.json'), JSON.stringify(rec, null, 2) + '\n')
}

/**
 * The pipeline config as a manifest records it: everything that decides what the stages compute.
 * `workDir` and `store` say where a run lives, not what it computes, so they are left out: the same
 * config run in another folder or by another executor gets the same manifests.
 */
export function recordedConfig(cfg: PipelineConfig): Omit<PipelineConfig, 'workDir' | 'store'> {
  const { workDir: _w, store: _s, ...rest } = cfg
  return JSON.parse(JSON.stringify(rest))
}

/**
 * A stage's run manifest: its settings and the whole recorded pipeline config (so `instruct3 reproduce`
 * can re-run it), its external inputs by name and its inputs from earlier stages as `from:<stage>/<output>`, its own
 * output CIDs and its finite metrics. Every executor writes exactly this.
 */
export function stageManifest(
  stage: StageDef,
  cfg: PipelineConfig,
  rec: StageRecord,
  records: Map<string, StageRecord>,
  cids: { outputs: Record<string, CID>; external: Record<string, CID> },
  toCid: (s: string) => CID,
): RunManifestInit {
  const inputs: Record<string, CID> = { ...cids.external }
  for (const n of stage.inputs) {
    const prev = records.get(n)
    if (!prev) continue
    for (const [o, c] of Object.entries(prev.outputCids ?? {})) inputs[`from:${n}/${o}`] = toCid(c)
  }
  return {
    stage: stage.name,
    config: JSON.parse(JSON.stringify({ stage: stage.config(cfg) ?? null, pipeline: recordedConfig(cfg) })),
    inputs,
    outputs: cids.outputs,
    metrics: Object.fromEntries(Object.entries(rec.metrics).filter(([, v]) => Number.isFinite(v))),
    startedAt: rec.startedAt,
    finishedAt: rec.finishedAt,
  }
}

