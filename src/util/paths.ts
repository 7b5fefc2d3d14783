import { resolve, join, dirname } from 'node:path'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Root of the instruct3 package (where package.json lives). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The project's data directory: $INSTRUCT3_HOME, else ./.instruct3 in the working directory. */
export function dataDir(override?: string): string {
  return resolve(override ?? process.env.INSTRUCT3_HOME ?? join(process.cwd(), '.instruct3'))
}

/**
 * The shared public data folder (../shared/data beside the checkout), or $INSTRUCT3_SHARED_DATA.
 */
export function sharedDataDir(): string {
  if (process.env.INSTRUCT3_SHARED_DATA) return resolve(process.env.INSTRUCT3_SHARED_DATA)
  for (const c of [join(packageRoot, '..', 'shared', 'data'), join(packageRoot, 'shared', 'data')]) if (existsSync(c)) return c
  return join(packageRoot, '..', 'shared', 'data')
}
