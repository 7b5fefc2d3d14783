import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from './db/schema.ts'

/**
 * Group commit: write transactions that arrive together share one database transaction, hence one
 * commit and one fsync. With synchronous=FULL every commit waits for the disk (2-8 ms here), and
 * better-sqlite3 commits on the event loop, so one commit per label would cap throughput at a few
 * hundred labels/s; batching keeps the durability and pays the fsync once per batch.
 *
 * Each unit of work runs inside its own SAVEPOINT: if it throws, only its changes are rolled back
 * and only its caller gets the error; the others still commit. A caller's promise resolves only
 * after the shared COMMIT returned, so an acknowledged write is as durable as a lone transaction.
 * Batches run one after another (SQLite has one writer anyway); work queued while a batch commits
 * forms the next batch.
 */
export type GroupCommitter = {
  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>
  /** Batches committed so far (for tests and benchmarks). */
  readonly batches: number
}

type Item = { work: (trx: Transaction<Database>) => Promise<unknown>; resolve(v: unknown): void; reject(e: unknown): void }

export function createGroupCommitter(db: Kysely<Database>, opts: { maxBatch?: number } = {}): GroupCommitter {
  const maxBatch = opts.maxBatch ?? 256
  let queue: Item[] = []
  let running = false
  let batches = 0

  const runBatch = async (items: Item[]): Promise<void> => {
    const done: Array<{ item: Item; value: unknown }> = []
    try {
      await db.transaction().execute(async (trx) => {
        for (const item of items) {
          await sql`savepoint gc_item`.execute(trx)
          try {
            const value = await item.work(trx)
            await sql`release savepoint gc_item`.execute(trx)
            done.push({ item, value })
          } catch (err) {
            await sql`rollback to savepoint gc_item`.execute(trx)
            await sql`release savepoint gc_item`.execute(trx)
            item.reject(err)
          }
        }
      })
    } catch (err) {
      for (const d of done) d.item.reject(err) // the commit failed: nothing of this batch was stored
      return
    } finally {
      batches++
    }
    for (const d of done) d.item.resolve(d.value)
  }

  const drain = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      while (queue.length) {
        const items = queue.slice(0, maxBatch)
        queue = queue.slice(items.length)
        await runBatch(items)
      }
    } finally {
      running = false
    }
  }

  return {
    run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (v: unknown) => void, reject })
        // Let requests that arrive in the same turn of the event loop join this batch.
        if (!running && queue.length === 1) setImmediate(() => void drain())
      })
    },
    get batches() {
      return batches
    },
  }
}
