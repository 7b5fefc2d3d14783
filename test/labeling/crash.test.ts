import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadWalletAddress, prepareLoad, runLoad, spawnLabelingServer } from '../../bench/loadgen.ts'
import { openLabelingDb } from '../../src/labeling/db/connect.ts'

test('SIGKILL during load: no acknowledged submission lost, none stored twice', { timeout: 150_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-crash-'))
  const db = join(dir, 'labels.sqlite')
  let srv = await spawnLabelingServer(db, ['--requester', loadWalletAddress('requester')])
  try {
    const { submissions } = await prepareLoad(srv.url, { requester: 'requester', labelers: 3, prompts: 100 })
    assert.equal(submissions.length, 300)
    // Closed loop, 16 in flight; SIGKILL the server once 100 submissions are acknowledged.
    let killed = false
    const first = await runLoad(srv.url, submissions, {
      concurrency: 16,
      onAck: (n) => {
        if (n >= 100 && !killed) {
          killed = true
          srv.proc.kill('SIGKILL')
        }
      },
    })
    assert.ok(killed, 'server was killed mid-load')
    assert.ok(first.acked.size >= 100 && first.acked.size < submissions.length, `acked ${first.acked.size}`)
    assert.ok(first.errors.size > 0, 'some requests failed when the server died')
    if (srv.proc.exitCode === null && srv.proc.signalCode === null) await new Promise((r) => srv.proc.once('exit', r))
    assert.equal(srv.proc.signalCode, 'SIGKILL')

    // Restart on the same database; clients retry EVERYTHING with the same idempotency keys
    // (the session cookies survive: sessions live in the database).
    srv = await spawnLabelingServer(db, ['--requester', loadWalletAddress('requester')])
    const retry = await runLoad(srv.url, submissions, { concurrency: 16 })
    assert.equal(retry.errors.size, 0, JSON.stringify(Object.fromEntries(retry.errors)))
    assert.equal(retry.acked.size, submissions.length)
    for (const [key, hash] of first.acked) assert.equal(retry.acked.get(key), hash, `acked label ${key} kept its hash`)
    await srv.stop()

    const ldb = await openLabelingDb(db)
    try {
      const rows = await ldb.db.selectFrom('labels').select(['idempotency_key', 'label_hash', 'labeler']).execute()
      assert.equal(rows.length, submissions.length, 'every submission stored exactly once')
      const byKey = new Map(rows.map((r) => [r.idempotency_key.replace(/^load-/, ''), r.label_hash]))
      assert.equal(byKey.size, rows.length, 'no idempotency key stored twice')
      for (const [key, hash] of first.acked) assert.equal(byKey.get(key), hash, `acknowledged ${key} survived SIGKILL`)
      const subs = await ldb.db.selectFrom('assignments').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'submitted').executeTakeFirst()
      assert.equal(Number(subs!.n), submissions.length, 'assignment state matches labels')
    } finally {
      await ldb.close()
    }
  } finally {
    await srv.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
