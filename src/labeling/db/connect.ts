import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Database, LabelingDb } from './schema.ts'
import { migrate } from './migrations.ts'

export type ConnectOptions = {
  /**
   * SQLite `synchronous` pragma. FULL (default) in WAL mode fsyncs the WAL at every commit, so an
   * acknowledged label survives power loss and OS crashes. NORMAL only write(2)s the WAL: it
   * survives SIGKILL of the server but an OS crash or power loss can lose the last commits; it is
   * for benchmarks and throwaway databases (docs/labeling.md has the measured cost of FULL).
   */
  synchronous?: 'NORMAL' | 'FULL'
}

/**
 * Open the labeling database: a SQLite file (better-sqlite3, WAL) or `postgres://...` (pg pool),
 * behind one Kysely query layer, and bring its schema up to date.
 */
export async function openLabelingDb(url: string, opts: ConnectOptions = {}): Promise<LabelingDb> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pg = await import('pg')
    const Pool = pg.default.Pool
    const types = pg.default.types
    // int8 (bigint) columns hold millisecond times and counts that fit in a double.
    const pool = new Pool({
      connectionString: url,
      max: 10,
      types: { getTypeParser: (oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format as 'text')) },
    })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    await migrate(db, 'postgres')
    return { db, dialect: 'postgres', close: () => db.destroy() }
  }
  const { default: SQLite } = await import('better-sqlite3')
  const file = url === ':memory:' ? url : resolve(url.replace(/^sqlite:(\/\/)?/, ''))
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const sqlite = new SQLite(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`)
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  // Kysely prepares every query again; better-sqlite3 statements are reusable, so cache them by SQL
  // text (bounded): preparing was ~8% of a label submission's CPU.
  const cache = new Map<string, ReturnType<typeof sqlite.prepare>>()
  const database = {
    prepare(q: string) {
      let st = cache.get(q)
      if (!st) {
        st = sqlite.prepare(q)
        if (cache.size >= 500) cache.delete(cache.keys().next().value!)
        cache.set(q, st)
      }
      return st
    },
    close() {
      cache.clear()
      sqlite.close()
    },
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: database as never }) })
  await migrate(db, 'sqlite')
  return { db, dialect: 'sqlite', close: () => db.destroy() }
}
