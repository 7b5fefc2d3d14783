import { Instruct3Error } from '../../util/errors.ts'
import { createLighthouseUploader, lighthouseFromEnv } from './lighthouse.ts'
import { createStorachaUploader, storachaFromEnv } from './storacha.ts'
import type { FilecoinUploader } from './types.ts'

export type * from './types.ts'
export { createLighthouseUploader, createStorachaUploader }

/** The uploader for a service name, configured from the environment (credentials never on the command line). */
export function uploaderFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): FilecoinUploader {
  if (service === 'storacha') return createStorachaUploader(storachaFromEnv(env))
  if (service === 'lighthouse') return createLighthouseUploader(lighthouseFromEnv(env))
  throw new Instruct3Error(`unknown upload service "${service}" (storacha or lighthouse)`, { code: 'ECONFIG', details: { field: 'to' } })
}
