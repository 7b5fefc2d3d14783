// One stage model, three executors: a tiny pipeline (data -> pretrain -> fit -> sft) run with
// `instruct3 pipeline --runner local` is bitwise reproducible by `instruct3 reproduce` and passes
// `instruct3 verify`; in-process, local-job and Bacalhau-job runs of the same config write the same
// run manifests apart from their times. The Bacalhau run goes through the stand-in orchestrator of
// test/jobs (real HTTP API, jobs run by the local runner on the same Helia store).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPipelineConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { runPipelineAsJobs } from '../../src/pipeline/jobs.ts'
import { createStore } from '../../src/store/index.ts'
import type { ContentStore } from '../../src/store/types.ts'
import type { PipelineManifest, RunManifest } from '../../src/store/manifest.ts'
import { packageRoot, sharedDataDir } from '../../src/util/paths.ts'
import { startStandin } from '../jobs/bacalhau-standin.ts'
import { TINY_BASE } from './tiny.ts'

const run = promisify(execFile)

/** The tiny config, as a user would write it (relative paths are relative to the file). */
const tiny = {
  extends: 'demo',
  name: 'executors',
  workDir: 'run-local',
  ...TINY_BASE,
  hh: { enabled: false },
  samples: { enabled: false },
  jobs: { resources: { sft: { gpu: 0 } } },
}

/** Each stage's run manifest with its times left out, by stage name. */
async function stageManifests(store: ContentStore, pipelineCid: string): Promise<Record<string, Omit<RunManifest, 'startedAt' | 'finishedAt'>>> {
  const p = await store.getDag<PipelineManifest>(pipelineCid)
  const out: Record<string, Omit<RunManifest, 'startedAt' | 'finishedAt'>> = {}
  for (const c of p.stages) {
    const { startedAt: _s, finishedAt: _f, ...rest } = await store.getDag<RunManifest>(c)
    out[rest.stage] = JSON.parse(JSON.stringify(rest))
  }
  return out
}

test('the pipeline as local jobs reproduces and verifies; in-process, local and Bacalhau executors write the same manifests', { timeout: 900_000 }, async (t) => {
  if (!existsSync(sharedDataDir())) {
    if (process.env.CI) assert.fail(`shared data not found at ${sharedDataDir()}`)
    t.skip('shared data not found')
    return
  }
  const root = mkdtempSync(join(tmpdir(), 'instruct3-executors-'))
  const open: Array<{ close(): Promise<void> }> = []
  // the store is closed before its folder goes (closing writes to it)
  t.after(async () => {
    for (const o of open.reverse()) await o.close()
    rmSync(root, { recursive: true, force: true })
  })
  const cfgFile = join(root, 'pipeline.json')
  writeFileSync(cfgFile, JSON.stringify(tiny))
  const env = { ...process.env, INSTRUCT3_HOME: root }
  const cli = (...args: string[]) => run(process.execPath, [join(packageRoot, 'bin', 'instruct3.js'), ...args], { env, cwd: root, maxBuffer: 64 << 20 })

  // 1. the CLI, stages as local jobs (child processes reading inputs from and publishing to the store)
  const local = await cli('pipeline', '--config', cfgFile, '--runner', 'local', '--until', 'sft', '--quiet')
  const localCid = readFileSync(join(root, 'run-local', 'pipeline-manifest.cid'), 'utf8').trim()
  assert.match(local.stdout, new RegExp(`pipeline manifest: ${localCid}`))

  // 2. `instruct3 reproduce` re-runs SFT from its manifest: the same output CIDs; `verify` passes
  const rep = await cli('reproduce', localCid, '--stage', 'sft', '--quiet')
  assert.match(rep.stdout, /stage sft: bitwise reproducible/, rep.stdout)
  const ver = await cli('verify', localCid)
  assert.match(ver.stdout, /stages data -> pretrain -> fit -> sft/)
  assert.match(ver.stdout, /verified: every artifact re-hashed, every stage chained/)

  // 3. the same config in-process and as Bacalhau jobs, on the same store
  const store = await createStore({ kind: 'helia', dir: join(root, 'ipfs') })
  const standin = await startStandin({ store, workRoot: join(root, 'bacalhau-node') })
  open.push(store, standin)
  const cfg = loadPipelineConfig(cfgFile)
  const inproc = await runPipeline({ ...cfg, workDir: join(root, 'run-inprocess') }, { quiet: true, until: 'sft', store })
  const bac = await runPipelineAsJobs({ ...cfg, workDir: join(root, 'run-bacalhau') }, { runner: 'bacalhau', bacalhauApi: standin.url, quiet: true, until: 'sft', store })
  assert.ok(standin.submissions >= 4, `${standin.submissions} jobs submitted to the orchestrator`)
  // the sft job asked for what the config says (the GPU count travels in the Bacalhau job)
  const sftJob = [...standin.jobs.values()].find((j) => j.job.Name?.endsWith('-sft'))!
  assert.equal(sftJob.job.Tasks[0].Resources.GPU, '0')

  const byLocal = await stageManifests(store, localCid)
  const byInproc = await stageManifests(store, inproc.manifest!)
  const byBacalhau = await stageManifests(store, bac.manifest!)
  assert.deepEqual(Object.keys(byLocal), ['data', 'pretrain', 'fit', 'sft'])
  assert.deepEqual(byInproc, byLocal)
  assert.deepEqual(byBacalhau, byLocal)
  // inputs name the earlier stage's output, the same way for every executor; the shared data is an external input, by CID
  assert.ok('shared-data' in byLocal.data.inputs, Object.keys(byLocal.data.inputs).join(', '))
  assert.ok('from:pretrain/model' in byLocal.sft.inputs, Object.keys(byLocal.sft.inputs).join(', '))
})
