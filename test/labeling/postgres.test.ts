import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeLabel, signLabel } from '../../src/labeling/client.ts'
import { verifyMerkleProof } from '../../src/labeling/merkle.ts'
import { startTestServer, wallet } from './helpers.ts'

// The same queries on Postgres: a throwaway cluster (initdb + pg_ctl on loopback), skipped when
// the PostgreSQL server binaries are not installed.
const bin = ['/usr/local/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin'].find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')))
const asRoot = process.getuid?.() === 0
const pgUser = asRoot ? spawnSync('id', ['-u', 'postgres']).stdout?.toString().trim() : ''
const skip = !bin ? 'PostgreSQL server binaries (initdb, pg_ctl) not found' : asRoot && !pgUser ? 'running as root and there is no postgres user to run the server' : false

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })

test('Postgres backend: campaign, overlap claims, signed labels, idempotency, bad signature, export', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-pg-'))
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser'
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync(runuser, ['-u', 'postgres', '--', join(bin!, cmd), ...args], { stdio: 'pipe' }) : execFileSync(join(bin!, cmd), args, { stdio: 'pipe' }))
  if (asRoot) chownSync(dir, Number(pgUser), -1)
  const port = await freePort()
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'i3', '--no-sync'])
  run('pg_ctl', ['-D', join(dir, 'data'), '-o', `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start'])
  const req = wallet('pg-req')
  let t: Awaited<ReturnType<typeof startTestServer>> | undefined
  try {
    t = await startTestServer({ db: `postgres://i3@127.0.0.1:${port}/postgres`, requesters: [req.address], spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 10 } })
    assert.equal(t.server.ctx.dialect, 'postgres')
    const rc = t.client()
    assert.equal((await rc.signIn(req)).status, 200)
    const cr = await rc.call('POST', '/api/campaigns', { name: 'pg', prompts: ['one', 'two'], policy: 'bafy-pg', k: 5, goldEvery: 100 })
    assert.equal(cr.status, 201, JSON.stringify(cr.body))
    const cid = cr.body.campaign.id
    const ws = ['a', 'b', 'c', 'd'].map((n) => wallet('pg-' + n))
    let stored = 0
    for (const w of ws) {
      const c = t.client()
      await c.signIn(w)
      assert.deepEqual((await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { kinds: ['review'] })).body, { tasks: [] }, 'non-reviewers get no review tasks')
      const { body } = await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { count: 10 })
      for (const task of body.tasks) {
        const label = makeLabel(task, w.address, task.kind === 'ranking' ? { ranking: [0, 1, 1, 2, 3], likert: [7, 5, 5, 3, 1] } : { response: 'pg demonstration ' + w.address })
        const { signature } = await signLabel(w, 31337, label)
        const bad = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `bad-${task.taskId}-x`, label, signature: (await signLabel(req, 31337, label)).signature })
        assert.equal(bad.status, 400)
        const r1 = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `pg-${task.taskId}-key`, label, signature })
        assert.equal(r1.status, 201, JSON.stringify(r1.body))
        const r2 = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `pg-${task.taskId}-key`, label, signature })
        assert.equal(r2.status, 200)
        stored++
      }
    }
    // 2 demonstrations (overlap 1) + 2 rankings x 3 labelers
    assert.equal(stored, 8)
    const none = await t.client().call('GET', '/api/health')
    assert.equal(none.body.dialect, 'postgres')
    const ex = await rc.call('POST', `/api/campaigns/${cid}/export`, {})
    assert.equal(ex.status, 200, JSON.stringify(ex.body))
    const batch = JSON.parse(readFileSync(join(ex.body.dir, 'batch.json'), 'utf8'))
    assert.equal(batch.labelCount, 8)
    for (const l of batch.labels) assert.ok(verifyMerkleProof(l.proof, batch.merkleRoot, l.labelHash))
  } finally {
    await t?.close()
    try {
      run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop'])
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
})
