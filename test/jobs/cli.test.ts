import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../src/cli/main.ts'
import { startStandin } from './bacalhau-standin.ts'
import { closedPortUrl, tempStore, toySpec } from './helpers.ts'

/** Run the CLI in this process (no Node start-up per command), capturing what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const log = console.log
  const error = console.error
  const write = process.stdout.write
  const ewrite = process.stderr.write
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n')
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n')
  process.stdout.write = ((c: string) => ((out += c), true)) as typeof process.stdout.write
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write
  const before = process.exitCode
  try {
    await main(['node', 'instruct3', ...args])
  } finally {
    console.log = log
    console.error = error
    process.stdout.write = write
    process.stderr.write = ewrite
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = before
  return { code, out, err }
}

test('instruct3 job validate|submit|status|logs|results|stop', async (t) => {
  const s = await tempStore()
  const standin = await startStandin({ store: s.store, workRoot: join(s.dir, 'node') })
  t.after(async () => {
    await standin.close()
    await s.close()
  })
  const api = ['--bacalhau-api', standin.url]
  const doc = (await s.store.addBytes(new TextEncoder().encode('ser\n'), { pin: true })).toString()
  const good = join(s.dir, 'good.json')
  writeFileSync(good, JSON.stringify(toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'cli'], [{ name: 'doc', cid: doc }])))
  const bad = join(s.dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ Job: { Type: 'batch', Tasks: [{ Name: 't', Engine: { Type: 'docker', Params: { Image: 'x', WorkingDirectory: 'rel' } } }] } }))
  const failing = join(s.dir, 'failing.json')
  writeFileSync(failing, JSON.stringify(toySpec('bad', ['fail'], [])))

  let r = await cli('job', 'validate', good)
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /valid Bacalhau batch job/)
  r = await cli('job', 'validate', '--print', good)
  assert.equal(JSON.parse(r.out).Job.Tasks[0].InputSources[0].Target, '/inputs/doc')

  r = await cli('job', 'submit', bad, ...api)
  assert.equal(r.code, 1)
  assert.match(r.err, /bad\.json: field "Job\.Tasks\[0\]\.Engine\.Params\.WorkingDirectory": invalid Bacalhau job/)
  assert.equal(standin.submissions, 0)

  r = await cli('job', 'submit', good, ...api, '--wait', '--follow', '--poll', '20')
  assert.equal(r.code, 0, r.err)
  const [jobId, cid] = r.out.trim().split('\n').filter((l) => /^(j-|baf)/.test(l))
  assert.match(jobId, /^j-/)
  assert.match(cid, /^baf/)
  assert.match(r.out, /^done$/m) // followed logs
  assert.match(r.err, /Completed/)

  r = await cli('job', 'status', jobId, ...api, '--json')
  const st = JSON.parse(r.out)
  assert.equal(st.state, 'Completed')
  assert.equal(st.executions[0].state, 'Completed')
  r = await cli('job', 'results', jobId, ...api)
  assert.equal(r.out.trim(), cid)
  r = await cli('job', 'logs', jobId, ...api)
  assert.match(r.out, /reading .*doc/)

  r = await cli('job', 'submit', failing, ...api, '--wait', '--poll', '20')
  assert.equal(r.code, 1)
  assert.match(r.err, /did not complete: .*exit code 3/)
  assert.match(r.err, /\| \[stderr\] error: loss is NaN at step 3/)

  r = await cli('job', 'stop', jobId, ...api)
  assert.equal(r.code, 1)
  assert.match(r.err, /terminal state Completed/)

  const pipe = join(s.dir, 'pipeline.json')
  const up = (stage: string) => toySpec(stage, ['upper', '/inputs/prev', '/outputs', stage], [])
  writeFileSync(pipe, JSON.stringify({ stages: [{ ...up('a'), inputs: [{ name: 'prev', cid: doc }] }, { ...up('b'), inputs: [{ name: 'prev', from: 'a' }] }] }))
  r = await cli('job', 'pipeline', pipe, '--runner', 'bacalhau', ...api, '--poll', '20')
  assert.equal(r.code, 0, r.err)
  assert.deepEqual(r.out.trim().split('\n').filter((l) => /^(a|b)\t/.test(l)).map((l) => l.split('\t')[0]), ['a', 'b'])
  assert.match(r.out, /^\[b\] done$/m)
  writeFileSync(pipe, JSON.stringify([{ ...up('a'), inputs: [{ name: 'prev', cid: doc }] }, { ...toySpec('b', ['fail'], []) }]))
  r = await cli('job', 'pipeline', pipe, '--runner', 'bacalhau', ...api, '--poll', '20', '--quiet')
  assert.equal(r.code, 1)
  assert.match(r.err, /stage "b" failed \(job j-.*\): .*exit code 3/)
  assert.match(r.err, /finished stages kept: a=baf/)

  r = await cli('job', 'status', 'j-1', '--bacalhau-api', await closedPortUrl())
  assert.equal(r.code, 1)
  assert.match(r.err, /cannot reach the Bacalhau orchestrator .* after 4 attempts/)
})
