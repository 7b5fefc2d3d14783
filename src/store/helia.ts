import { createHelia } from 'helia'
import { unixfs } from '@helia/unixfs'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { FsBlockstore } from 'blockstore-fs'
import { FsDatastore } from 'datastore-fs'
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { base64 } from 'multiformats/bases/base64'
import { Instruct3Error } from '../util/errors.ts'
import { blockLinks, CODECS } from './blocks.ts'
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
  // libp2p's peer store can still save a peer record just after stop(); once closed, the repository is
  // not written any more (else a removed repository reappears with a stray peers/ record)
  let closed = false
  const guardedDatastore = new Proxy(datastore, {
    get(target, prop) {
      if (closed && (prop === 'put' || prop === 'delete')) return async () => {}
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const helia = createHelia({
    blockstore,
    datastore: guardedDatastore,
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
  const pinDir = join(init.dir, 'pins')
  const pinPath = (cid: CID) => join(pinDir, cid.toV1().toString())
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
      try {
        await unlink(pinPath(cid))
      } catch {
        throw new Instruct3Error(`${cid} is not pinned`, { code: 'ENOTPINNED', details: { cid: cid.toString() } })
      }
    },
    async *pins() {
      const names = (await readdir(pinDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort()
      for (const n of names) yield CID.parse(n)
    },
    async gc() {
      // mark: every block reachable from a pin (raw leaves have no links, so they are not even read)
      const keep = new Set<string>()
      const key = (c: CID) => base64.encode(c.multihash.bytes)
      for await (const root of backend.pins()) {
        const stack = [root]
        while (stack.length > 0) {
          const c = stack.pop()!
          if (keep.has(key(c))) continue
          keep.add(key(c))
          if (c.code === CODECS.raw) continue
          let bytes: Uint8Array
          try {
            bytes = await backend.readBlock(c, { signal: AbortSignal.timeout(5_000), offline: true })
          } catch (cause) {
            throw new Instruct3Error(`gc stopped, nothing deleted: pinned ${root} is missing block ${c}`, { code: 'EGC', details: { cid: c.toString() }, cause })
          }
          stack.push(...blockLinks(c, bytes))
        }
      }
      // sweep: blockstore-fs names blocks by multihash, so compare multihashes, not CIDs
      let removed = 0
      for await (const { cid } of blockstore.getAll()) {
        if (keep.has(key(cid))) continue
        await blockstore.delete(cid)
        removed++
      }
      return removed
    },
    async close() {
      await helia.stop()
      closed = true
      await blockstore.close().catch(() => {})
      await datastore.close().catch(() => {})
    },
  }

  /**
   * Pins are recursive and recorded Kubo-style, one file per pinned root under <dir>/pins; gc walks
   * them. (Helia's own pinning writes a datastore record for every block of the DAG, which made
   * adding a 200 MB file four times slower.) Pinning a DAG first checks every block is local.
   */
  async function pin(cid: CID, opts: { justAdded?: boolean } = {}): Promise<void> {
    if (!opts.justAdded && !(await store.has(cid))) {
      throw new Instruct3Error(`cannot pin ${cid}: not all of its blocks are in the local store`, { code: 'ENOTFOUND', details: { cid: cid.toString() } })
    }
    await mkdir(pinDir, { recursive: true })
    await writeFile(pinPath(cid), '')
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
