import { createHelia } from 'helia'
import { unixfs } from '@helia/unixfs'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { FsBlockstore } from 'blockstore-fs'
import { FsDatastore } from 'datastore-fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { walkDag } from './blocks.ts'
import { createStoreCore, type Backend } from './core.ts'
import { assertFile, directoryCandidates, readFileStream, IMPORT_OPTIONS } from './import.ts'
import type { HeliaStore } from './types.ts'

export type HeliaStoreInit = {
  /** Repository folder: blocks/ (blockstore-fs) and datastore/ (datastore-fs, holds the peer key and pins). */
  dir: string
  /** libp2p listen multiaddrs, e.g. /ip4/127.0.0.1/tcp/0. None (the default) = no listening socket. */
  listen?: string[]
  /** Reads never reach the network. Defaults to true when nothing listens. */
  offline?: boolean
}

/**
 * The embedded Helia 7 node. libp2p is configured by hand so nothing reaches the public network:
 * TCP only (dial out; listen only where asked), noise + yamux, identify (bitswap needs protocol lists),
 * no bootstrap, mDNS, DHT, autoTLS, relay, UPnP or delegated/HTTP routing. Peers are dialled explicitly.
 */
export async function createHeliaStore(init: HeliaStoreInit): Promise<HeliaStore> {
  const blockstore = new FsBlockstore(join(init.dir, 'blocks'))
  const datastore = new FsDatastore(join(init.dir, 'datastore'))
  try {
    await mkdir(init.dir, { recursive: true })
    await blockstore.open()
    await datastore.open()
  } catch (cause) {
    throw new Instruct3Error(`cannot open the store at ${init.dir}: ${(cause as Error).message}`, { code: 'ESTORE', details: { file: init.dir }, cause })
  }
  const listen = init.listen ?? []
  const helia = createHelia({
    blockstore,
    datastore,
    // no delegated routers, no recursive gateways: the HTTP mixin then has nothing to ask
    http: { delegatedRouters: [], recursiveGateways: [] },
    libp2p: {
      // the peer key is loaded from (or created in) the datastore by Helia, so the peer id survives restarts
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
    },
  })
  try {
    await helia.start()
  } catch (cause) {
    await datastore.close().catch(() => {})
    await blockstore.close().catch(() => {})
    throw new Instruct3Error(`cannot start the Helia node at ${init.dir}: ${(cause as Error).message}`, { code: 'ESTORE', details: { file: init.dir }, cause })
  }
  const fs = unixfs(helia)
  const offlineByDefault = init.offline ?? listen.length === 0

  const backend: Backend = {
    kind: 'helia',
    offlineByDefault,
    async readBlock(cid, { signal, offline }) {
      const parts: Uint8Array[] = []
      for await (const p of helia.blockstore.get(cid, { signal, offline })) parts.push(p)
      return parts.length === 1 ? parts[0] : Buffer.concat(parts)
    },
    async writeBlock(cid, bytes) {
      await helia.blockstore.put(cid, bytes)
    },
    hasBlock: async (cid) => helia.blockstore.has(cid),
    async addBytes(bytes, opts) {
      const cid = await fs.addBytes(bytes, { ...IMPORT_OPTIONS, signal: opts.signal })
      if (opts.pin ?? true) await pin(cid, { justAdded: true })
      return cid
    },
    async addFile(path, opts) {
      await assertFile(path)
      const cid = await fs.addByteStream(readFileStream(path, opts.onBytes), { ...IMPORT_OPTIONS, signal: opts.signal })
      if (opts.pin ?? true) await pin(cid, { justAdded: true })
      return cid
    },
    async addDirectory(path, opts) {
      let root: CID | undefined
      for await (const entry of fs.addAll(await directoryCandidates(path, opts.onBytes), { ...IMPORT_OPTIONS, wrapWithDirectory: true, signal: opts.signal })) {
        if (entry.path === '') root = entry.cid
      }
      if (!root) throw new Instruct3Error('importer returned no root directory', { code: 'EUNIXFS', details: { file: path } })
      if (opts.pin ?? true) await pin(root, { justAdded: true })
      return root
    },
    pin: (cid) => pin(cid),
    async unpin(cid) {
      if (!(await helia.pins.isPinned(cid))) throw new Instruct3Error(`${cid} is not pinned`, { code: 'ENOTPINNED', details: { cid: cid.toString() } })
      for await (const _ of helia.pins.rm(cid)) {
        // drain
      }
    },
    async *pins() {
      for await (const p of helia.pins.ls()) yield p.cid
    },
    async gc() {
      let n = 0
      await helia.gc({
        onProgress: (evt) => {
          if (evt.type === 'helia:gc:deleted') n++
        },
      })
      return n
    },
    async close() {
      await helia.stop()
      await blockstore.close().catch(() => {})
      await datastore.close().catch(() => {})
    },
  }

  async function pin(cid: CID, opts: { justAdded?: boolean } = {}): Promise<void> {
    if (await helia.pins.isPinned(cid)) return
    if (!opts.justAdded && offlineByDefault) {
      // pins.add walks the DAG and would ask the network for a missing block; fail fast instead
      for await (const _ of walkDag(cid, (c) => backend.readBlock(c, { signal: AbortSignal.timeout(5_000), offline: true }).catch((cause) => {
        throw new Instruct3Error(`cannot pin ${cid}: block ${c} is not in the local store`, { code: 'ENOTFOUND', details: { cid: c.toString() }, cause })
      }))) {
        // walk only
      }
    }
    try {
      for await (const _ of helia.pins.add(cid, { signal: AbortSignal.timeout(120_000) })) {
        // drain
      }
    } catch (cause) {
      throw new Instruct3Error(`cannot pin ${cid}: ${(cause as Error).message}`, { code: 'EPIN', details: { cid: cid.toString() }, cause })
    }
  }

  const store: HeliaStore = createStoreCore<Pick<HeliaStore, 'kind' | 'peerId' | 'multiaddrs' | 'dial'>>(backend, {
    kind: 'helia' as const,
    peerId: helia.libp2p.peerId.toString(),
    multiaddrs: () => helia.libp2p.getMultiaddrs().map((m) => m.toString()),
    async dial(addr: string, opts: { signal?: AbortSignal } = {}) {
      try {
        await helia.libp2p.dial(multiaddr(addr), { signal: opts.signal ?? AbortSignal.timeout(10_000) })
      } catch (cause) {
        throw new Instruct3Error(`cannot dial ${addr}: ${(cause as Error).message}`, { code: 'EDIAL', cause })
      }
    },
  })
  return store
}
