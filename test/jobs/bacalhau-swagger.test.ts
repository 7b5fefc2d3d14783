/**
 * Our Bacalhau requests and the stand-in's answers, checked against Bacalhau v1.9.3's own API description
 * (pkg/swagger/swagger.json, vendored in test/fixtures/services; see swagger-check.ts for the places where Go's
 * marshalling differs from the generated swagger). Runs a job end to end, stops another, then checks every
 * request route and query parameter, every PUT body (strictly: no field the API does not declare) and every
 * 200 answer and log message.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createBacalhauClient } from '../../src/jobs/bacalhau.ts'
import { createBacalhauRunner } from '../../src/jobs/bacalhau-runner.ts'
import { toBacalhauJob } from '../../src/jobs/spec.ts'
import { startStandin } from './bacalhau-standin.ts'
import { tempStore, toySpec } from './helpers.ts'
import { checkValue, matchPath, type SwaggerDoc } from './swagger-check.ts'

const doc = JSON.parse(readFileSync(new URL('../fixtures/services/bacalhau-v1.9.3-swagger.json', import.meta.url), 'utf8')) as SwaggerDoc

test("requests and stand-in answers match Bacalhau v1.9.3's swagger.json", async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node'), stepMs: 30, node: { gpus: 1 } })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const input = await s.store.addBytes(new TextEncoder().encode('gm\n'), { pin: true })
  const runner = createBacalhauRunner({ apiUrl: standin.url, pollMs: 20, backoffMs: 10, executionPollMs: 20 })
  const spec = toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'x'], [{ name: 'doc', cid: input.toString() }], {
    resources: { cpu: '1', memory: '512mb', gpu: '1' },
    env: { MODE: 'test' },
    timeouts: { executionSeconds: 600, totalSeconds: 900 },
  })
  const r = await runner.run(spec)
  assert.equal(r.state, 'Completed', r.message)
  const client = createBacalhauClient({ apiUrl: standin.url, backoffMs: 10 })
  await client.results(r.jobId)
  const hang = await client.submit(toBacalhauJob(toySpec('hang', ['hang', join(s.dir, 'hang.pid')], [])))
  while ((await client.status(hang.jobId)).state !== 'Running') await new Promise((res) => setTimeout(res, 10))
  await client.stop(hang.jobId, 'enough')

  const problems: string[] = []
  // every route exists in the API with that method, and every query parameter is one it declares
  for (const { route, query } of standin.queries) {
    const [method, path] = route.split(' ')
    const tpl = matchPath(doc, path)
    const op = tpl ? doc.paths[tpl][method === 'WS' ? 'get' : method.toLowerCase()] : undefined
    if (!op) {
      problems.push(`${route}: not in the API`)
      continue
    }
    const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name))
    for (const k of query.keys()) if (!declared.has(k)) problems.push(`${route}: query parameter ${k} is not declared`)
  }
  // what we PUT, strictly against apimodels.PutJobRequest
  const puts = standin.bodies.filter((b) => b.route === 'PUT /api/v1/orchestrator/jobs')
  assert.equal(puts.length, 2)
  for (const b of puts) checkValue(doc, doc.paths['/api/v1/orchestrator/jobs'].put.parameters![0].schema!, b.body, 'PutJobRequest', true, problems)
  // the stand-in's 200 answers, strictly against each operation's response schema
  const seen = new Set<string>()
  for (const res of standin.responses.filter((x) => x.status === 200)) {
    const [method, path] = res.route.split(' ')
    const tpl = matchPath(doc, path)!
    seen.add(`${method} ${tpl}`)
    checkValue(doc, doc.paths[tpl][method.toLowerCase()].responses['200'].schema!, res.body, res.route, true, problems)
  }
  // log messages: concurrency.AsyncResult[models.ExecutionLog] {value, error?}
  assert.ok(standin.logMessages.length > 0)
  for (const m of standin.logMessages) {
    const { value, error, ...rest } = JSON.parse(m) as { value: unknown; error?: unknown }
    if (Object.keys(rest).length) problems.push(`log message has fields ${Object.keys(rest)}`)
    if (error !== undefined && typeof error !== 'string') problems.push('log message error is not a string')
    checkValue(doc, { $ref: '#/definitions/models.ExecutionLog' }, value, 'log', true, problems)
  }
  assert.deepEqual(problems, [])
  for (const op of ['GET /api/v1/orchestrator/nodes', 'PUT /api/v1/orchestrator/jobs', 'GET /api/v1/orchestrator/jobs/{id}', 'GET /api/v1/orchestrator/jobs/{id}/executions', 'GET /api/v1/orchestrator/jobs/{id}/results', 'DELETE /api/v1/orchestrator/jobs/{id}']) {
    assert.ok(seen.has(op), `no 200 answer checked for ${op}`)
  }
})

test('the checker catches what the real API would not accept', () => {
  const put = doc.paths['/api/v1/orchestrator/jobs'].put.parameters![0].schema!
  const job = toBacalhauJob(toySpec('upper', ['x'], []))
  assert.deepEqual(checkValue(doc, put, { Job: job }, 'r', true), [])
  assert.match(checkValue(doc, put, { Job: { ...job, Tasks: [{ ...job.Tasks[0], Resources: { GPU: 1 } }] } }, 'r', true).join(), /Resources.GPU: expected a string/)
  assert.match(checkValue(doc, put, { Job: { ...job, Priority: 'high' } }, 'r', true).join(), /Priority: expected an integer/)
  assert.match(checkValue(doc, put, { Job: { ...job, Gpu: 1 } }, 'r', true).join(), /Gpu: not a property/)
})
