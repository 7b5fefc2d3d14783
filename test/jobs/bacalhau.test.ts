import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createBacalhauClient } from '../../src/jobs/bacalhau.ts'
import { createBacalhauRunner } from '../../src/jobs/bacalhau-runner.ts'
import { toBacalhauJob } from '../../src/jobs/spec.ts'
import type { JobLogLine } from '../../src/jobs/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { startStandin } from './bacalhau-standin.ts'
import { closedPortUrl, readAll, tempStore, toySpec } from './helpers.ts'


test('Bacalhau client and runner against the stand-in orchestrator', async (t) => {
  const s = await tempStore()
  // steps of 60 ms: slow enough for a 5 ms poll to see every state on a loaded machine
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), stepMs: 60 })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const client = createBacalhauClient({ apiUrl: standin.url, backoffMs: 10 })
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10 })
  const input = await s.store.addBytes(new TextEncoder().encode('gm\n'), { pin: true })

  await t.test('a job goes Pending -> Queued -> Running -> Completed and publishes /outputs by CID', async () => {
    assert.equal(await client.alive(), true)
    const spec = toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'baked'], [{ name: 'doc', cid: input.toString() }])
    const { jobId, warnings } = await client.submit(toBacalhauJob(spec))
    assert.deepEqual(warnings, [])
    const seen: string[] = []
    const lines: JobLogLine[] = []
    const waiting = client.wait(jobId, { pollMs: 5, onState: (st) => seen.push(st.state) })
    const logs = client.logs(jobId, { follow: true, onLine: (l) => lines.push(l) })
    const final = await waiting
    await logs
    assert.equal(final.state, 'Completed')
    assert.deepEqual(seen, ['Pending', 'Queued', 'Running', 'Completed'])
    assert.ok(lines.some((l) => l.stream === 'stdout' && l.line === 'done'), JSON.stringify(lines))
    // logs() was called right after submit, before the job had an execution: it must not have opened the socket
    // then (Bacalhau answers "no executions found" and closes), but once /executions was non-empty
    const streams = standin.logStreams.filter((x) => x.jobId === jobId)
    assert.deepEqual(streams.map((x) => x.error), [undefined], JSON.stringify(streams))
    assert.ok(streams[0].lines > 0)
    const execs = await client.executions(jobId)
    assert.equal(execs.length, 1)
    assert.equal(execs[0].state, 'Completed') // 9 on the wire
    assert.equal(execs[0].exitCode, 0)
    const cid = await client.resultCid(jobId)
    assert.ok(cid)
    const entries = []
    for await (const e of s.store.ls(cid)) entries.push(e)
    assert.equal(await readAll(s.store.cat(entries[0].cid)), 'GM baked\n')
  })

  await t.test('the runner returns the output CID and streams logs', async () => {
    const lines: string[] = []
    const r = await runner.run(toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'r'], [{ name: 'doc', cid: input.toString() }]), {
      onLog: (l) => lines.push(l.line),
    })
    assert.equal(r.state, 'Completed', r.message)
    assert.match(r.jobId, /^j-/)
    assert.ok(r.outputs)
    assert.ok(lines.includes('done'))
    // the lines came over the websocket (live), not from RunOutput after the end
    assert.ok(standin.logStreams.some((x) => x.jobId === r.jobId && x.lines > 0 && !x.error), JSON.stringify(standin.logStreams))
  })

  await t.test('a failed job comes back Failed with its logs (websocket)', async () => {
    const r = await runner.run(toySpec('bad', ['fail'], []))
    assert.equal(r.state, 'Failed')
    assert.equal(r.outputs, undefined)
    assert.equal(r.exitCode, 3)
    assert.match(r.message!, /exit code 3/)
    assert.deepEqual(r.logTail, ['loading checkpoint', '[stderr] error: loss is NaN at step 3'])
  })

  await t.test('stop: DELETE moves the job to Stopped and cancels the execution', async () => {
    const spec = toySpec('hang', ['hang', join(s.dir, 'hang.pid')], [])
    const { jobId } = await client.submit(toBacalhauJob(spec))
    await client.wait(jobId, { pollMs: 5, timeoutMs: 200 }).catch(() => {})
    while ((await client.status(jobId)).state !== 'Running') await new Promise((r) => setTimeout(r, 10))
    await client.stop(jobId, 'enough')
    const st = await client.status(jobId)
    assert.equal(st.state, 'Stopped')
    assert.equal(st.message, 'enough')
    const execs = await client.executions(jobId)
    assert.equal(execs[0].state, 'Cancelled') // 11
    assert.equal(execs[0].desiredState, 'Stopped')
    await assert.rejects(client.stop(jobId), /HTTP 400.*terminal state/)
  })

  await t.test('an invalid job fails validation and is never sent', async () => {
    const before = standin.submissions
    const job = toBacalhauJob(toySpec('upper', ['x'], []))
    job.Tasks[0].ResultPaths = [{ Name: 'outputs', Path: 'relative/outputs' }]
    await assert.rejects(client.submit(job), (e: unknown) => e instanceof Instruct3Error && e.details.field === 'Job.Tasks[0].ResultPaths[0].Path')
    await assert.rejects(
      runner.run(toySpec('upper', ['x'], [], { env: { BACALHAU_TOKEN: 'x' } })),
      (e: unknown) => e instanceof Instruct3Error && e.details.field === 'env.BACALHAU_TOKEN',
    )
    assert.equal(standin.submissions, before)
  })

  await t.test('unknown job: the API error is reported, not retried', async () => {
    const n = standin.requests.length
    await assert.rejects(client.status('j-nope'), (e: unknown) => e instanceof Instruct3Error && e.code === 'ENOTFOUND' && /job not found: j-nope/.test(e.message))
    assert.equal(standin.requests.length, n + 1)
  })
})

test('logs fall back to the executions RunOutput when the websocket is unavailable', async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), websocketLogs: false, failFirst: 2 })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  // the first two requests get 503: the client retries them with backoff
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10 })
  const r = await runner.run(toySpec('bad', ['fail'], []))
  assert.equal(r.state, 'Failed')
  assert.deepEqual(r.logTail, ['loading checkpoint', '[stderr] error: loss is NaN at step 3'])
  // the node check comes first and takes the two 503s; then one PUT
  assert.deepEqual(standin.requests.slice(0, 4), ['GET /api/v1/orchestrator/nodes', 'GET /api/v1/orchestrator/nodes', 'GET /api/v1/orchestrator/nodes', 'PUT /api/v1/orchestrator/jobs'])
  assert.equal(standin.submissions, 1)
})

test('an unreachable orchestrator gives a clear error after bounded retries', async () => {
  const url = await closedPortUrl()
  const client = createBacalhauClient({ apiUrl: url, attempts: 3, backoffMs: 20 })
  const t0 = Date.now()
  await assert.rejects(
    client.status('j-1'),
    (e: unknown) =>
      e instanceof Instruct3Error && e.code === 'EUNREACHABLE' && e.message.includes(`cannot reach the Bacalhau orchestrator at ${url} after 3 attempts (ECONNREFUSED)`),
  )
  const ms = Date.now() - t0
  assert.ok(ms >= 60 && ms < 3000, `took ${ms} ms`) // 20 + 40 ms of backoff, then it gives up
  assert.equal(await client.alive(), false)
  assert.throws(() => createBacalhauClient({ apiUrl: 'localhost:1234' }), /invalid Bacalhau API URL/)
})

test('an orchestrator with API auth: 401 without credentials, and the header on every request and the log socket', async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), apiKey: 'k3y' })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const anon = createBacalhauClient({ apiUrl: standin.url, backoffMs: 10, env: {} })
  assert.equal(await anon.alive(), true) // /agent/alive is open
  await assert.rejects(
    anon.status('j-1'),
    (e: unknown) => e instanceof Instruct3Error && e.code === 'EBACALHAU' && /HTTP 401\): Request Unauthorized: Missing Authorization header.*BACALHAU_API_KEY/.test(e.message),
  )
  const wrong = createBacalhauClient({ apiUrl: standin.url, backoffMs: 10, authorization: 'Bearer nope' })
  await assert.rejects(wrong.status('j-1'), /invalid API key.*refused our credentials/)
  // the key from the environment, as the bacalhau CLI reads it
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10, executionPollMs: 20, env: { BACALHAU_API_KEY: 'k3y' } })
  const input = await s.store.addBytes(new TextEncoder().encode('gm\n'), { pin: true })
  const r = await runner.run(toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'a'], [{ name: 'doc', cid: input.toString() }]))
  assert.equal(r.state, 'Completed', r.message)
  assert.ok(standin.logStreams.some((x) => x.jobId === r.jobId && x.lines > 0), 'logs came over the authenticated websocket')
})

test('before submitting, the runner checks that a compute node has IPFS (and GPUs when asked) and says what is missing', async (t) => {
  const s = await tempStore()
  const noIpfs = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), node: { ipfs: false } })
  const gpuNode = await startStandin({ store: s.store, workRoot: join(s.dir, 'node2'), node: { gpus: 1 } })
  t.after(async () => {
    await noIpfs.close()
    await gpuNode.close()
    await s.close()
  })
  const input = await s.store.addBytes(new TextEncoder().encode('gm\n'), { pin: true })
  const spec = toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'g'], [{ name: 'doc', cid: input.toString() }])
  const r1 = createBacalhauRunner({ apiUrl: noIpfs.url, pollMs: 20, backoffMs: 10 })
  await assert.rejects(
    r1.run(spec),
    (e: unknown) =>
      e instanceof Instruct3Error && e.code === 'ENONODE' && e.message.includes('n-standin: no IPFS input source (set InputSources.Types.IPFS.Endpoint') && e.message.includes('Publishers.Types.IPFS.Endpoint'),
  )
  assert.equal(noIpfs.submissions, 0)
  // a GPU job: refused where no node has enough GPUs, sent with Resources.GPU where one has
  const gpuSpec = { ...spec, resources: { ...spec.resources, gpu: '2' } }
  const r2 = createBacalhauRunner({ apiUrl: gpuNode.url, pollMs: 20, backoffMs: 10, executionPollMs: 20 })
  await assert.rejects(r2.run(gpuSpec), /n-standin: 1 GPU\(s\), the job asks for 2/)
  assert.equal(gpuNode.submissions, 0)
  const ok = await r2.run({ ...spec, resources: { ...spec.resources, gpu: 1 } })
  assert.equal(ok.state, 'Completed', ok.message)
  const sent = gpuNode.bodies.at(-1)!.body as { Job: { Tasks: { Resources: { GPU: string } }[] } }
  assert.equal(sent.Job.Tasks[0].Resources.GPU, '1')
})

test('a user without read:node gets 403 on /nodes: the job is still sent, with a note in its log', async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), apiKey: 'k', noNodeCapability: true })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10, executionPollMs: 20, authorization: 'Bearer k' })
  const r = await runner.run(toySpec('bad', ['fail'], []))
  assert.equal(r.state, 'Failed')
  assert.equal(standin.submissions, 1)
  assert.match(r.logTail[0], /^\[stderr\] instruct3: could not check the compute nodes \(.*HTTP 403\): Request Forbidden: user 'standin' does not have the required capability 'read:node'.*submitting anyway$/)
})
