/**
 * `instruct3 pipeline`: data -> pretrain -> SFT -> reward models -> PPO and/or DPO -> evaluation -> report.
 *
 * The driver: for each active stage (stages.ts) it computes the stage's key (stage.ts), skips the stage
 * when workDir/<stage>/stage.json carries the same key, else has the executor run it into that folder.
 * The executor is the only thing that differs between `--runner inprocess|local|bacalhau`: in this
 * process, or as a job whose /outputs come back by CID into the same folder. With a store, the driver
 * then adds each output (UnixFS), writes the stage's run manifest (stage.ts `stageManifest`) and, at the
 * end, a pipeline manifest linking them all, so `instruct3 verify <cid>` can re-check the whole run and
 * `instruct3 reproduce` can re-run any stage of it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { ContentStore } from '../store/types.ts'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { formatDuration } from '../util/progress.ts'
import { dataDir } from '../util/paths.ts'
import type { PipelineConfig } from './config.ts'
import { Instruct3Error } from '../util/errors.ts'
import { parseCid } from './cid.ts'
import { keyFor, runStage, stageManifest, writeRecord, type Ctx, type StageDef, type StageRecord } from './stage.ts'
import { activeStages } from './stages.ts'

export type { StageRecord } from './stage.ts'
export { STAGES, activeStages } from './stages.ts'

export type PipelineResult = { stages: StageRecord[]; manifest?: string; reportFile: string; seconds: number }

/** Where a stage runs. Keys, skipping, output CIDs and manifests are the driver's, the same for all. */
export type StageExecutor = {
  readonly kind: 'inprocess' | 'local' | 'bacalhau'
  /** Check every stage that will run (job specs), before the first one starts. */
  prepare?(stages: StageDef[], cfg: PipelineConfig): Promise<void>
  /** Run `stage` so that `dir` holds its outputs and its stage.json; return that record. */
  run(stage: StageDef, ctx: Ctx, dir: string): Promise<StageRecord>
}

/** The default executor: the stage's code in this process. */
export const inProcess: StageExecutor = { kind: 'inprocess', run: (stage, ctx, dir) => runStage(stage, ctx, dir) }

export type PipelineOptions = {
  quiet?: boolean
  /** Run only up to (and including) this stage. */
  until?: string
  /** Force re-running these stages (and everything after them). */
  force?: string[]
  /** Where stages run (default: in this process). */
  executor?: StageExecutor
  /** A store the caller opened (and closes); default: the one `cfg.store` names, opened and closed here. */
  store?: ContentStore
}

export async function runPipeline(cfg: PipelineConfig, opts: PipelineOptions = {}): Promise<PipelineResult> {
  const t0 = performance.now()
  const quiet = Boolean(opts.quiet)
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`pipeline: ${m}\n`)
  }
  const executor = opts.executor ?? inProcess
  mkdirSync(cfg.workDir, { recursive: true })
  writeFileSync(join(cfg.workDir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n')
  const ctx: Ctx = { cfg, records: new Map(), dirs: new Map(), external: new Map(), log, quiet }
  const store = opts.store ?? (cfg.store.kind === 'none' ? undefined : await openStore(cfg))
  // lineage helpers, loaded once (the store modules are heavy: only when a store is used)
  const lineage = store ? { ...(await import('../store/index.ts')), ...(await import('../store/manifest.ts')) } : undefined
  const manifests: CID[] = []
  /** External inputs by CID: a CID as given, a local path added to the store (once per run). */
  const externalCids = new Map<string, CID>()
  const externalCid = async (source: string): Promise<CID> => {
    if (!externalCids.has(source)) externalCids.set(source, parseCid(source) ?? (await addPath(store!, resolve(source))))
    return externalCids.get(source)!
  }
  /** The stage's external inputs as local paths: a path as given, a CID fetched from the store into workDir/external/<cid>. */
  const materialize = async (stage: StageDef): Promise<Map<string, string>> => {
    const local = new Map<string, string>()
    for (const [name, source] of Object.entries(stage.external?.(cfg) ?? {})) {
      const cid = parseCid(source)
      if (!cid) {
        local.set(name, resolve(source))
        continue
      }
      if (!store) throw new Instruct3Error(`${name} is a CID (${source}): fetching it needs a store (store.kind "helia" or "kubo")`, { code: 'ECONFIG', details: { field: 'store.kind' } })
      const to = join(cfg.workDir, 'external', cid.toString())
      if (!existsSync(to)) await store.get(cid, to)
      local.set(name, to)
    }
    return local
  }
  /** Add the stage's outputs to the store, write its run manifest, and keep both CIDs in its stage.json. */
  const recordLineage = async (stage: StageDef, rec: StageRecord): Promise<void> => {
    if (!store || !lineage) return
    const dir = join(cfg.workDir, stage.name)
    const outputs: Record<string, CID> = {}
    for (const [name, rel] of Object.entries(rec.outputs)) outputs[name] = await addPath(store, resolve(dir, rel))
    const external: Record<string, CID> = {}
    for (const [name, source] of Object.entries(stage.external?.(cfg) ?? {})) external[name] = await externalCid(source)
    const cid = await lineage.writeManifest(store, stageManifest(stage, cfg, rec, ctx.records, { outputs, external }, lineage.toCid))
    rec.outputCids = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.toString()]))
    rec.manifest = cid.toString()
    writeRecord(dir, rec)
  }
  let forced = false
  const startedAt = new Date().toISOString()
  try {
    const stages = activeStages(cfg)
    const until = opts.until ? stages.findIndex((s) => s.name === opts.until) : -1
    await executor.prepare?.(until >= 0 ? stages.slice(0, until + 1) : stages, cfg)
    for (const stage of stages) {
      const dir = join(cfg.workDir, stage.name)
      const key = keyFor(stage, cfg, ctx.records)
      const recFile = join(dir, 'stage.json')
      forced ||= Boolean(opts.force?.includes(stage.name))
      if (!forced && existsSync(recFile)) {
        const rec = JSON.parse(readFileSync(recFile, 'utf8')) as StageRecord
        if (rec.key === key && Object.values(rec.outputs).every((p) => existsSync(resolve(dir, p)))) {
          log(`${stage.name}: up to date (skipped)`)
          ctx.records.set(stage.name, rec)
          ctx.dirs.set(stage.name, dir)
          // a stage that finished but was stopped before its manifest was written gets it now
          if (store && lineage && !rec.manifest) await recordLineage(stage, rec)
          if (rec.manifest && lineage) manifests.push(lineage.toCid(rec.manifest))
          if (opts.until === stage.name) break
          continue
        }
      }
      log(`${stage.name}: running${executor.kind === 'inprocess' ? '' : ` as a ${executor.kind} job`}`)
      ctx.external = await materialize(stage)
      const rec = await executor.run(stage, ctx, dir)
      if (store && lineage) {
        await recordLineage(stage, rec)
        manifests.push(lineage.toCid(rec.manifest!))
      }
      ctx.records.set(stage.name, rec)
      ctx.dirs.set(stage.name, dir)
      log(`${stage.name}: done in ${formatDuration(rec.seconds)} ${JSON.stringify(roundMetrics(rec.metrics))}${rec.manifest ? ` manifest ${rec.manifest}` : ''}`)
      if (opts.until === stage.name) break
    }
    const { writeReport } = await import('./report.ts')
    const reportFile = await writeReport(cfg, ctx.records, ctx.dirs)
    let manifest: string | undefined
    if (store && lineage && manifests.length) {
      manifest = (await lineage.writePipelineManifest(store, { name: cfg.name, stages: manifests, startedAt, finishedAt: new Date().toISOString() })).toString()
      writeFileAtomicSync(join(cfg.workDir, 'pipeline-manifest.cid'), manifest + '\n')
    }
    return { stages: [...ctx.records.values()], manifest, reportFile, seconds: (performance.now() - t0) / 1000 }
  } finally {
    if (!opts.store) await store?.close()
  }
}

function roundMetrics(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? +v.toPrecision(4) : v]))
}

/** The store `cfg.store` names (the embedded Helia node by default). */
export async function openStore(cfg: PipelineConfig): Promise<ContentStore> {
  const { createStore } = await import('../store/index.ts')
  if (cfg.store.kind === 'kubo') return createStore({ kind: 'kubo', apiUrl: cfg.store.apiUrl! })
  return createStore({ kind: 'helia', dir: cfg.store.dir ?? join(dataDir(), 'ipfs') })
}

async function addPath(store: ContentStore, path: string): Promise<CID> {
  return statSync(path).isDirectory() ? store.addDirectory(path, { pin: true }) : store.addFile(path, { pin: true })
}

