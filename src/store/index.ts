import { join } from 'node:path'
import { dataDir } from '../util/paths.ts'
import { Instruct3Error } from '../util/errors.ts'
import { createHeliaStore } from './helia.ts'
import { createKuboStore } from './kubo.ts'
import type { HeliaStore, Store, StoreConfig } from './types.ts'

export type * from './types.ts'
export { toCid } from './blocks.ts'

/** Open a content store: the embedded Helia node (persistent, offline unless `listen`) or a Kubo node over RPC. */
export async function createStore(config: StoreConfig & { kind: 'helia' }): Promise<HeliaStore>
export async function createStore(config: StoreConfig): Promise<Store>
export async function createStore(config: StoreConfig): Promise<Store> {
  if (config.kind === 'helia') return createHeliaStore(config)
  if (config.kind === 'kubo') return createKuboStore({ apiUrl: config.apiUrl, authorization: config.authorization })
  throw new Instruct3Error(`unknown store kind "${(config as { kind: unknown }).kind}"`, { code: 'ECONFIG', details: { field: 'kind' } })
}

/** The project's own store: Helia under `dataDir()/ipfs`, offline. `override` is a data dir, as for dataDir(). */
export async function defaultStore(override?: string): Promise<HeliaStore> {
  return createHeliaStore({ dir: join(dataDir(override), 'ipfs') })
}
