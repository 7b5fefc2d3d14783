import { readdir, stat } from 'node:fs/promises'
import { Instruct3Error } from './errors.ts'

/**
 * Commands that write a whole directory (or file) into place replace what is there. Before doing so
 * they call this: an existing non-empty directory or non-empty file is refused unless `force`, so a
 * mistyped `--out` never deletes someone's work. A missing path or an empty directory is fine.
 */
export async function refuseToReplace(path: string, opts: { force?: boolean; flag?: string } = {}): Promise<void> {
  if (opts.force) return
  let st
  try {
    st = await stat(path)
  } catch {
    return // nothing there
  }
  const flag = opts.flag ?? '--force'
  if (st.isDirectory()) {
    if ((await readdir(path)).length === 0) return
    throw new Instruct3Error(`directory already exists and is not empty; it would be replaced (everything in it deleted): choose another path or pass ${flag}`, { code: 'EEXIST', details: { file: path } })
  }
  if (st.size === 0) return
  throw new Instruct3Error(`file already exists; it would be overwritten: choose another path or pass ${flag}`, { code: 'EEXIST', details: { file: path } })
}
