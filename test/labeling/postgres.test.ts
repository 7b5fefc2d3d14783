import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeLabel, signLabel } from '../../src/labeling/client.ts'
import { verifyMerkleProof } from '../../src/batch/index.ts'
import { startTestServer, wallet } from './helpers.ts'
import { QUIZZES } from '../../src/labeling/categories.ts'

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

    // Issue 20 queries on Postgres: quiz, gated claim, skip/report with make-up gold, heartbeats, pay, reports, leaderboard, guidelines, prompts.
    const gold = [0, 1].map((i) => ({ prompt: `pg gold ${i}`, responses: ['a', 'b', 'c', 'd'], ranking: [0, 1, 2, 3] }))
    const gov = (await rc.call('POST', '/api/campaigns', { name: 'pg gov', prompts: ['g1', 'g2', 'g3', 'g4'], policy: 'bafy-pg', kinds: ['ranking'], category: 'governance', gold, goldEvery: 2, rewardPerLabel: 0.5, targetHourly: 10 })).body.campaign.id
    const lc = t.client()
    const lw = wallet('pg-ux')
    await lc.signIn(lw)
    assert.equal((await lc.call('POST', `/api/campaigns/${gov}/tasks/claim`, {})).body.error.code, 'EUNQUALIFIED')
    const quiz = (await lc.call('POST', '/api/qualifications/governance/quiz', {})).body
    assert.equal((await lc.call('POST', '/api/qualifications/governance/answers', { attempt: quiz.attempt, answers: QUIZZES.governance.map((q) => q.answer) })).body.passed, true)
    const [t1] = (await lc.call('POST', `/api/campaigns/${gov}/tasks/claim`, {})).body.tasks
    assert.equal((await lc.call('POST', `/api/tasks/${t1.taskId}/skip`, {})).status, 200)
    const [t2] = (await lc.call('POST', `/api/campaigns/${gov}/tasks/claim`, {})).body.tasks
    assert.equal((await lc.call('POST', `/api/tasks/${t2.taskId}/report`, { reason: 'harmful_content' })).status, 200)
    const [t3] = (await lc.call('POST', `/api/campaigns/${gov}/tasks/claim`, {})).body.tasks
    assert.deepEqual((await lc.call('POST', `/api/tasks/${t3.taskId}/activity`, {})).body, { recorded: true })
    const l3 = makeLabel(t3, lw.address, { ranking: [0, 1, 2, 3] })
    assert.equal((await lc.call('POST', '/api/labels', { taskId: t3.taskId, idempotencyKey: 'pg-ux-label', label: l3, signature: (await signLabel(lw, 31337, l3)).signature })).status, 201)
    assert.deepEqual((await rc.call('GET', `/api/campaigns/${gov}/reports`)).body.byReason, { harmful_content: 1 })
    const pay = (await rc.call('GET', `/api/campaigns/${gov}/pay`)).body
    assert.equal(pay.rows.length, 1)
    assert.equal(pay.rows[0].address, lw.address.toLowerCase())
    assert.equal((await lc.call('GET', '/api/me/pay')).body.campaigns[0].basis, 'provisional')
    assert.equal((await lc.call('POST', '/api/me/profile', { displayName: 'pg labeler', showOnLeaderboard: true })).status, 200)
    assert.equal((await lc.call('GET', `/api/campaigns/${gov}/leaderboard`)).body.rows[0].name, 'pg labeler')
    assert.equal((await rc.call('POST', `/api/campaigns/${gov}/guidelines`, { markdown: '# v2' })).body.version, 2)
    const pc = await rc.call('POST', '/api/campaigns', { name: 'pg prompts', policy: 'bafy-pg', kinds: ['prompt'], promptTasks: 1 })
    assert.equal(pc.status, 201, JSON.stringify(pc.body))
    assert.equal((await lc.call('POST', `/api/campaigns/${pc.body.campaign.id}/tasks/claim`, { count: 5 })).body.tasks.length, 3)
  } finally {
    await t?.close()
    try {
      run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop'])
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
})
