import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLabelingDb } from '../../src/labeling/db/connect.ts'
import { createGroupCommitter } from '../../src/labeling/group-commit.ts'

test('group commit: concurrent writes share commits; a failing one is rolled back alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-group-'))
  const ldb = await openLabelingDb(join(dir, 'labels.sqlite'))
  try {
    const gc = createGroupCommitter(ldb.db)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        gc.run(async (trx) => {
          await trx.insertInto('users').values({ address: `0x${i}`, roles: 'labeler', created_at: i }).execute()
          if (i === 17) throw new Error('item 17 fails after writing')
          return i
        }),
      ),
    )
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 49)
    assert.match(String((results[17] as PromiseRejectedResult).reason), /item 17 fails/)
    const rows = await ldb.db.selectFrom('users').select('address').execute()
    assert.equal(rows.length, 49)
    assert.ok(!rows.some((r) => r.address === '0x17'), 'the failed item left nothing behind')
    assert.ok(gc.batches < 5, `50 concurrent writes took ${gc.batches} commits`)
    // A duplicate key fails only its own item, in a batch with good ones.
    const again = await Promise.allSettled([
      gc.run((trx) => trx.insertInto('users').values({ address: '0x1', roles: 'labeler', created_at: 0 }).execute()),
      gc.run((trx) => trx.insertInto('users').values({ address: '0xnew', roles: 'labeler', created_at: 0 }).execute()),
    ])
    assert.deepEqual(again.map((r) => r.status), ['rejected', 'fulfilled'])
    assert.equal((await ldb.db.selectFrom('users').select('address').execute()).length, 50)
  } finally {
    await ldb.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
