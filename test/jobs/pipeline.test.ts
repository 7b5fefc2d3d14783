import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createLocalRunner } from '../../src/jobs/local.ts'
import { createBacalhauRunner } from '../../src/jobs/bacalhau-runner.ts'
import { pipelineFailure, runPipelineJobs, type PipelineStageDef } from '../../src/jobs/pipeline.ts'
import type { JobRunner } from '../../src/jobs/types.ts'
import type { ContentStore } from '../../src/store/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { startStandin } from './bacalhau-standin.ts'
import { closedPortUrl, readAll, tempStore, toySpec } from './helpers.ts'

/** corpus -> sft -> eval, each upper-casing the previous stage's text and appending its tag. */
function toyPipeline(docCid: string, failAt?: string): PipelineStageDef[] {
  const stage = (name: string, from: string | null): PipelineStageDef => {
    const spec = toySpec(name, name === failAt ? ['fail'] : ['upper', '/inputs/prev', '/outputs', name], [])
    return { ...spec, inputs: [from ? { name: 'prev', from } : { name: 'prev', cid: docCid }] }
  }
  return [stage('corpus', null), stage('sft', 'corpus'), stage('eval', 'sft')]
}

async function textOf(store: ContentStore, dirCid: string): Promise<string> {
  for await (const e of store.ls(dirCid)) if (e.name === 'text.txt') return readAll(store.cat(e.cid))
  throw new Error('no text.txt')
}

async function exercise(t: test.TestContext, runner: JobRunner, store: ContentStore, submissions?: () => number) {
  const doc = (await store.addBytes(new TextEncoder().encode('hello\n'), { pin: true })).toString()

  await t.test('stages run in order, each reading the previous output CID', async () => {
    const events: string[] = []
    const r = await runPipelineJobs(toyPipeline(doc), runner, { onStage: (s, res) => events.push(res ? `${s}:${res.state}` : `${s}:start`) })
    assert.equal(r.ok, true, pipelineFailure(r)?.message)
    assert.deepEqual(r.stages.map((s) => [s.stage, s.state]), [
      ['corpus', 'Completed'],
      ['sft', 'Completed'],
      ['eval', 'Completed'],
    ])
    assert.deepEqual(events, ['corpus:start', 'corpus:Completed', 'sft:start', 'sft:Completed', 'eval:start', 'eval:Completed'])
    assert.equal(await textOf(store, r.stages[2].outputs!), 'HELLO CORPUS SFT eval\n')
    assert.ok(r.stages.every((s) => s.jobId !== ''))
  })

  await t.test('a failed stage stops the pipeline, shows its logs, keeps finished stages', async () => {
    const r = await runPipelineJobs(toyPipeline(doc, 'sft'), runner)
    assert.equal(r.ok, false)
    assert.deepEqual(r.stages.map((s) => s.state), ['Completed', 'Failed'])
    assert.equal(r.failed?.stage, 'sft')
    assert.deepEqual(r.skipped, ['eval'])
    // the finished stage's outputs are still in the store
    assert.equal(await store.has(r.stages[0].outputs!), true)
    assert.equal(await textOf(store, r.stages[0].outputs!), 'HELLO corpus\n')
    const err = pipelineFailure(r)!
    assert.match(err.message, /stage "sft" failed .*exit code 3/)
    assert.match(err.message, /\| \[stderr\] error: loss is NaN at step 3/)
    assert.match(err.message, new RegExp(`finished stages kept: corpus=${r.stages[0].outputs}`))
    assert.match(err.message, /not run: eval/)
  })

  await t.test('an invalid stage fails validation before any stage runs', async () => {
    const before = submissions?.()
    const stages = toyPipeline(doc)
    stages[2] = { ...stages[2], resources: { gpu: 'one' } }
    let started = 0
    await assert.rejects(
      runPipelineJobs(stages, runner, { onStage: () => started++ }),
      (e: unknown) => e instanceof Instruct3Error && e.details.field === 'stages[2].resources.gpu',
    )
    const bad = toyPipeline(doc)
    bad[1] = { ...bad[1], inputs: [{ name: 'prev', from: 'eval' }] }
    await assert.rejects(runPipelineJobs(bad, runner), /reads from stage "eval", which does not run before stage "sft"/)
    assert.equal(started, 0)
    assert.equal(submissions?.(), before)
  })
}

test('pipeline on the local runner (real Helia store)', async (t) => {
  const s = await tempStore()
  t.after(() => s.close())
  const runner = createLocalRunner({ store: s.store, logDir: join(s.dir, 'logs'), workRoot: join(s.dir, 'work') })
  await exercise(t, runner, s.store)
})

test('pipeline on Bacalhau (stand-in orchestrator)', async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node') })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10 })
  await exercise(t, runner, s.store, () => standin.submissions)

  await t.test('an unreachable orchestrator fails the first stage with a clear error', async () => {
    const url = await closedPortUrl()
    const gone = createBacalhauRunner({ apiUrl: url, attempts: 2, backoffMs: 10 })
    const doc = (await s.store.addBytes(new TextEncoder().encode('x'), { pin: true })).toString()
    const r = await runPipelineJobs(toyPipeline(doc), gone)
    assert.equal(r.ok, false)
    assert.equal(r.failed?.stage, 'corpus')
    assert.match(r.failed!.message!, new RegExp(`cannot reach the Bacalhau orchestrator at ${url} after 2 attempts \\(ECONNREFUSED\\)`))
    assert.deepEqual(r.skipped, ['sft', 'eval'])
  })
})
