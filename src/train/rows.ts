/**
 * What a trainer learns from: rows already loaded and checked (the pipeline and the CLI read the
 * files), and the file they came from, which errors about a row name. Rows made in memory have none.
 */
export type Rows<T> = { rows: readonly T[]; file?: string }

/** Where row `i` of `set` is, for an error's details: its file, and the row by index. */
export function rowAt<T>(set: Rows<T>, i: number, field?: string): { file?: string; field: string } {
  return { ...(set.file ? { file: set.file } : {}), field: `rows[${i}]${field ? `.${field}` : ''}` }
}
