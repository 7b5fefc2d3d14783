/**
 * The pipeline as jobs (`instruct3 pipeline --runner local|bacalhau`): each stage becomes a job whose
 * command is `instruct3 stage <name> --config /inputs/config/pipeline.json --inputs /inputs --out /outputs`,
 * whose inputs are the config, the shared data (data stage) and the earlier stages' output folders, all by
 * CID, and whose `/outputs` folder comes back as one CID. The same stage code runs in-process (the
 * default), in a local child process, or in a container on a Bacalhau node. Run manifests are written
 * exactly as for an in-process run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import type { PipelineConfig } from './config.ts'
import { STAGES, activeStages, runStage, type StageRecord } from './run.ts'

export type JobPipelineOptions = {
  runner: 'local' | 'bacalhau'
  bacalhauApi?: string
  /** Kubo RPC the Bacalhau nodes read inputs from and publish to; our store talks to it too. */
  ipfsApi?: string
  quiet?: boolean
}

/** Run one stage inside a job: earlier stages' folders are under `inputsRoot/<stage>`. */
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
  return runStage(def, { cfg, records, dirs, log: (m) => !quiet && process.stderr.write(`stage: ${m}\n`), quiet }, outDir)
}

export async function runPipelineAsJobs(cfg: PipelineConfig, opts: JobPipelineOptions): Promise<{ manifest?: string; stages: string[] }> {
  const { createStore } = await import('../store/index.ts')
  const { createJobRunner, runPipelineJobs, stageJob } = await import('../jobs/index.ts')
  const { writeManifest, writePipelineManifest } = await import('../store/manifest.ts')
  const { toCid } = await import('../store/index.ts')
  const { dataDir } = await import('../util/paths.ts')
  const store = opts.ipfsApi
    ? await createStore({ kind: 'kubo', apiUrl: opts.ipfsApi })
    : await createStore({ kind: 'helia', dir: cfg.store.dir ?? join(dataDir(), 'ipfs') })
  const log = (m: string) => !opts.quiet && process.stderr.write(`pipeline: ${m}\n`)
  try {
    // the config travels by CID like every other input
    const tmp = mkdtempSync(join(tmpdir(), 'instruct3-cfg-'))
    writeFileSync(join(tmp, 'pipeline.json'), JSON.stringify({ ...cfg, workDir: '/outputs', dataDir: '/inputs/shared-data', store: { kind: 'none' } }, null, 2))
    const configCid = (await store.addDirectory(tmp, { pin: true })).toString()
    rmSync(tmp, { recursive: true, force: true })
    log(`config ${configCid}`)
    const sharedCid = (await store.addDirectory(resolve(cfg.dataDir), { pin: true })).toString()
    log(`shared data ${sharedCid}`)
    const runId = Date.now().toString(36)
    const stages = activeStages(cfg)
    const active = new Set(stages.map((s) => s.name))
    const defs = stages.map((s) =>
      stageJob({
        stage: s.name,
        runId,
        args: ['stage', s.name, '--config', '/inputs/config/pipeline.json', '--inputs', '/inputs', '--out', '/outputs', ...(opts.quiet ? ['--quiet'] : [])],
        inputs: [
          { name: 'config', cid: configCid },
          ...(s.name === 'data' ? [{ name: 'shared-data', cid: sharedCid }] : []),
          ...s.inputs.filter((n) => active.has(n)).map((n) => ({ name: n, from: n })),
        ],
      }),
    )
    const runner =
      opts.runner === 'bacalhau'
        ? createJobRunner({ runner: 'bacalhau', bacalhauApi: opts.bacalhauApi })
        : createJobRunner({ runner: 'local', store, workRoot: join(cfg.workDir, 'jobs') })
    mkdirSync(cfg.workDir, { recursive: true })
    const startedAt = new Date().toISOString()
    const r = await runPipelineJobs(defs, runner, {
      onStage: (stage, res) => log(res ? `${stage}: ${res.state}${res.outputs ? ` -> ${res.outputs}` : ''}` : `${stage}: submitted`),
      onLog: opts.quiet ? undefined : (stage, l) => process.stderr.write(`[${stage}] ${l.line}\n`),
    })
    // run manifests, as for an in-process run: inputs `from:<stage>/outputs`, outputs the stage folder
    const manifests: CID[] = []
    const outCid = new Map<string, string>()
    for (const st of r.stages) {
      if (st.state !== 'Completed' || !st.outputs) continue
      outCid.set(st.stage, st.outputs)
      const def = stages.find((s) => s.name === st.stage)!
      const inputs: Record<string, CID> = { config: toCid(configCid) }
      if (st.stage === 'data') inputs['shared-data'] = toCid(sharedCid)
      for (const n of def.inputs) if (outCid.has(n)) inputs[`from:${n}/outputs`] = toCid(outCid.get(n)!)
      manifests.push(
        await writeManifest(store, {
          stage: st.stage,
          config: JSON.parse(JSON.stringify(def.config(cfg) ?? null)),
          inputs,
          outputs: { outputs: toCid(st.outputs) },
          startedAt,
          finishedAt: new Date().toISOString(),
        }),
      )
    }
    let manifest: string | undefined
    if (manifests.length) manifest = (await writePipelineManifest(store, { name: cfg.name, stages: manifests, startedAt, finishedAt: new Date().toISOString() })).toString()
    if (!r.ok) {
      const f = r.failed!
      throw new Instruct3Error(`stage "${f.stage}" ${f.state}: ${f.message ?? ''}\n${f.logTail.slice(-15).join('\n')}\n(finished stages kept: ${[...outCid.keys()].join(', ') || 'none'}${manifest ? `; manifest ${manifest}` : ''})`, {
        code: 'EJOB',
        details: { field: f.stage, jobId: f.jobId },
      })
    }
    return { manifest, stages: [...outCid.keys()] }
  } finally {
    await store.close()
  }
}
