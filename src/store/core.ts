import { unixfs } from '@helia/unixfs'
import * as dagJson from '@ipld/dag-json'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.ts'
import { blockLinks, CODECS, encodeDagJson, toCid, verifyBlock } from './blocks.ts'
import { catFile } from './cat.ts'
import type { AddOptions, BlockReadOptions, ReadOptions, Store } from './types.ts'

/** Default wait for one block before a read fails (ReadOptions.timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 30_000
/** Blocks (1 MiB each) a cat may fetch ahead of the reader. */
export const READ_AHEAD_BLOCKS = 8

/**
 * What a backend must supply. Everything about reading (cat, get, ls, getDag, has, verification,
 * timeouts) is shared and lives here; backends only move blocks and build UnixFS DAGs.
 */
export interface Backend {
  readonly kind: 'helia' | 'kubo'
  /** Raw block bytes, unverified. May reach the network unless `offline`. Must honour `signal`. */
  readBlock(cid: CID, opts: { signal: AbortSignal; offline: boolean }): Promise<Uint8Array>
  writeBlock(cid: CID, bytes: Uint8Array): Promise<void>
  hasBlock(cid: CID): Promise<boolean>
  addBytes(bytes: Uint8Array, opts: AddOptions): Promise<CID>
  addFile(path: string, opts: AddOptions): Promise<CID>
  addDirectory(path: string, opts: AddOptions): Promise<CID>
  pin(cid: CID): Promise<void>
  unpin(cid: CID): Promise<void>
  pins(): AsyncIterable<CID>
  gc(): Promise<number>
  close(): Promise<void>
  /** Whether reads should default to offline (the embedded node without listen addresses). */
  readonly offlineByDefault: boolean
}

/** Build the ContentStore (+ block access) over a backend. `extra` adds backend-specific members. */
/** Default bound on what one `get` writes (see ContentStore.get). */
export const DEFAULT_MAX_GET_BYTES = 64 * 2 ** 30

export function createStoreCore<E extends object>(backend: Backend, extra: E): Store & E {
  const getBlock = async (cid: CID, opts: BlockReadOptions = {}): Promise<Uint8Array> => {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
    const offline = opts.offline ?? backend.offlineByDefault
    let bytes: Uint8Array
    try {
      bytes = await backend.readBlock(cid, { signal, offline })
    } catch (cause) {
      if (cause instanceof Instruct3Error) throw cause
      if (opts.signal?.aborted) throw new Instruct3Error(`read of block ${cid} was aborted`, { code: 'EABORT', details: { cid: cid.toString() }, cause })
      if (timeout.aborted) {
        throw new Instruct3Error(`block ${cid} not available after ${timeoutMs} ms (no peer or node had it)`, { code: 'ETIMEOUT', details: { cid: cid.toString() }, cause })
      }
      const why = offline ? 'not in the local store and the node is offline' : (cause as Error).message
      throw new Instruct3Error(`block ${cid} not found (${why})`, { code: 'ENOTFOUND', details: { cid: cid.toString() }, cause })
    }
    await verifyBlock(cid, bytes)
    return bytes
  }

  // @helia/unixfs over a blockstore view whose every read is verified and time-limited.
  const makeFs = (opts: ReadOptions = {}) => {
    const view = {
      async *get(cid: CID) {
        yield await getBlock(cid, opts)
      },
      async put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) {
        await backend.writeBlock(cid, await collect(bytes))
        return cid
      },
      async has(cid: CID) {
        return backend.hasBlock(cid)
      },
    }
    return unixfs({ blockstore: view })
  }

  const wrapRead = (cid: CID, what: string, cause: unknown): Instruct3Error => {
    if (cause instanceof Instruct3Error) return cause
    return new Instruct3Error(`cannot ${what} ${cid}: ${(cause as Error).message}`, { code: 'EUNIXFS', details: { cid: cid.toString() }, cause })
  }

  const cat = async function* (cidIn: CID | string, opts: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    const cid = toCid(cidIn)
    try {
      yield* catFile(cid, (c) => getBlock(c, opts), READ_AHEAD_BLOCKS)
    } catch (cause) {
      throw wrapRead(cid, 'cat', cause)
    }
  }

  const ls = async function* (cidIn: CID | string, opts: ReadOptions = {}) {
    const cid = toCid(cidIn)
    const fs = makeFs(opts)
    try {
      const st = await fs.stat(cid, { signal: opts.signal })
      if (st.type !== 'directory') throw new Instruct3Error(`${cid} is not a directory (it is a ${st.type === 'raw' ? 'file' : st.type})`, { code: 'ENOTDIR', details: { cid: cid.toString() } })
      for await (const e of fs.ls(cid, { signal: opts.signal })) {
        // ls entries carry no type; one stat (the entry's root block) gives type and file size
        const es = await fs.stat(e.cid, { signal: opts.signal })
        const type: 'file' | 'directory' = es.type === 'directory' ? 'directory' : 'file'
        yield { name: e.name, cid: e.cid, type, size: type === 'file' ? es.size : 0n }
      }
    } catch (cause) {
      throw wrapRead(cid, 'list', cause)
    }
  }

  const isDir = async (cid: CID, opts: ReadOptions): Promise<boolean> => {
    try {
      return (await makeFs(opts).stat(cid, { signal: opts.signal })).type === 'directory'
    } catch (cause) {
      throw wrapRead(cid, 'stat', cause)
    }
  }

  // Counts the bytes `get` writes and stops past the bound (repeated subtrees expand on the way out).
  const bounded = async function* (src: AsyncIterable<Uint8Array>, budget: { left: number; max: number }, cid: CID): AsyncGenerator<Uint8Array> {
    for await (const chunk of src) {
      budget.left -= chunk.byteLength
      if (budget.left < 0)
        throw new Instruct3Error(`${cid} expands past ${budget.max} bytes (pass a larger maxBytes if that is expected); nothing was written`, { code: 'ETOOLARGE', details: { cid: cid.toString() } })
      yield chunk
    }
  }

  // Materialise a directory into an existing folder, recursively, streaming each file.
  const fillDir = async (cid: CID, dir: string, opts: ReadOptions, budget: { left: number; max: number }): Promise<void> => {
    for await (const e of ls(cid, opts)) {
      if (e.name.includes('/') || e.name === '..' || e.name === '.' || e.name === '') {
        throw new Instruct3Error(`unsafe entry name "${e.name}" in directory ${cid}`, { code: 'EUNSAFE', details: { cid: cid.toString() } })
      }
      const target = join(dir, e.name)
      if (e.type === 'directory') {
        await mkdir(target)
        await fillDir(e.cid, target, opts, budget)
      } else {
        await writeFileAtomic(target, bounded(cat(e.cid, opts), budget, e.cid))
      }
    }
  }

  const store: Store = {
    kind: backend.kind,
    addBytes: (bytes, opts = {}) => backend.addBytes(bytes, opts),
    addFile: (path, opts = {}) => backend.addFile(path, opts),
    addDirectory: (path, opts = {}) => backend.addDirectory(path, opts),
    cat,
    ls,
    async get(cidIn, dest, opts = {}) {
      const cid = toCid(cidIn)
      const max = opts.maxBytes ?? DEFAULT_MAX_GET_BYTES
      const budget = { left: max, max }
      if (await isDir(cid, opts)) await writeDirAtomic(dest, (tmp) => fillDir(cid, tmp, opts, budget))
      else await writeFileAtomic(dest, bounded(cat(cid, opts), budget, cid))
    },
    async putDag(value, opts = {}) {
      const { cid, bytes } = await encodeDagJson(value)
      // dag-json goes in as a plain block (Kubo: block/put with cid-codec=dag-json), so no backend re-encodes it
      await backend.writeBlock(cid, bytes)
      if (opts.pin ?? true) await backend.pin(cid)
      return cid
    },
    async getDag<T = unknown>(cidIn: CID | string, opts: ReadOptions = {}): Promise<T> {
      const cid = toCid(cidIn)
      if (cid.code !== CODECS.dagJson) throw new Instruct3Error(`${cid} is not a dag-json node (codec 0x${cid.code.toString(16)})`, { code: 'ECODEC', details: { cid: cid.toString() } })
      return dagJson.decode<T>(await getBlock(cid, opts))
    },
    async has(cidIn) {
      const cid = toCid(cidIn)
      // presence, not verification: raw leaves (the bulk of a file) are only looked up, never read
      try {
        const stack = [cid]
        const seen = new Set<string>()
        while (stack.length > 0) {
          const c = stack.pop()!
          if (seen.has(c.toString())) continue
          seen.add(c.toString())
          if (c.code === CODECS.raw) {
            if (!(await backend.hasBlock(c))) return false
            continue
          }
          stack.push(...blockLinks(c, await getBlock(c, { offline: true, timeoutMs: 5_000 })))
        }
        return true
      } catch (err) {
        if (err instanceof Instruct3Error && (err.code === 'ENOTFOUND' || err.code === 'ETIMEOUT')) return false
        throw err
      }
    },
    pin: async (cid) => backend.pin(toCid(cid)),
    unpin: async (cid) => backend.unpin(toCid(cid)),
    pins: () => backend.pins(),
    gc: () => backend.gc(),
    close: () => backend.close(),
    getBlock,
    putBlock: (cid, bytes) => backend.writeBlock(cid, bytes),
    hasBlock: (cid) => backend.hasBlock(cid),
  }
  return Object.assign(store, extra)
}

async function collect(bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes
  const parts: Uint8Array[] = []
  for await (const p of bytes) parts.push(p)
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}
