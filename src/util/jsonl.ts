import { createReadStream, existsSync } from 'node:fs'
import { createGunzip } from 'node:zlib'
import { createInterface } from 'node:readline'
import { Instruct3Error } from './errors.ts'

export type JsonlRow<T = unknown> = { value: T; line: number; file: string }

/**
 * Stream the rows of a JSON Lines file (`.jsonl` or `.jsonl.gz`), one parsed object per line,
 * with its 1-based line number. Blank lines are skipped. A line that is not JSON throws an
 * Instruct3Error naming file:line, unless `onError` is given (then the row is reported and skipped).
 */
export async function* readJsonl<T = unknown>(
  file: string,
  opts: { onError?: (err: Instruct3Error) => void } = {},
): AsyncGenerator<JsonlRow<T>> {
  if (!existsSync(file)) throw new Instruct3Error('file not found', { code: 'ENOENT', details: { file } })
  const raw = createReadStream(file)
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw
  const rl = createInterface({ input, crlfDelay: Infinity })
  let line = 0
  for await (const text of rl) {
    line++
    if (text.trim() === '') continue
    let value: T
    try {
      value = JSON.parse(text) as T
    } catch (cause) {
      const err = new Instruct3Error(`invalid JSON (${(cause as Error).message})`, { code: 'EJSONL', details: { file, line }, cause })
      if (opts.onError) {
        opts.onError(err)
        continue
      }
      throw err
    }
    yield { value, line, file }
  }
}

/** Read a whole JSONL file into memory (for small files). */
export async function readJsonlAll<T = unknown>(file: string): Promise<JsonlRow<T>[]> {
  const rows: JsonlRow<T>[] = []
  for await (const r of readJsonl<T>(file)) rows.push(r)
  return rows
}

export function toJsonl(rows: Iterable<unknown>): string {
  let out = ''
  for (const r of rows) out += JSON.stringify(r) + '\n'
  return out
}
