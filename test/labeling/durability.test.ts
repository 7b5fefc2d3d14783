import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { openLabelingDb } from '../../src/labeling/db/connect.ts'

// An acknowledged label must survive power loss, not only a killed process: SQLite in WAL mode
// only fsyncs the WAL at every commit with synchronous=FULL (2). NORMAL (1) survives SIGKILL only.
// (Power loss itself cannot be simulated here; this checks the setting that provides it.)
test('labels database: synchronous=FULL by default (NORMAL only when asked)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-durable-'))
  try {
    for (const [opts, want] of [[{}, 2], [{ synchronous: 'NORMAL' as const }, 1]] as const) {
      const ldb = await openLabelingDb(join(dir, `labels-${want}.sqlite`), opts)
      try {
        const mode = await sql<{ synchronous: number }>`pragma synchronous`.execute(ldb.db)
        assert.equal(mode.rows[0].synchronous, want, JSON.stringify(opts))
        const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(ldb.db)
        assert.equal(journal.rows[0].journal_mode, 'wal')
      } finally {
        await ldb.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
