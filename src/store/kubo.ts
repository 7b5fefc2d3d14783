import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { CODECS } from './blocks.ts'
import { createStoreCore, type Backend } from './core.ts'
import { assertFile, directoryCandidates, readFileStream, KUBO_ADD_PARAMS } from './import.ts'
import type { Store } from './types.ts'

/**
 * Kubo's AuthSecret syntax (kubo v0.42 config/api.go ConvertAuthSecret) as an Authorization header value:
 * "bearer:T" -> "Bearer T", "basic:U:P" -> "Basic base64(U:P)", "basic:B64" -> "Basic B64", no prefix -> "Bearer ...".
 * A value that already starts with "Bearer " or "Basic " is used as it is.
 */
export function kuboAuthorizationHeader(secret: string): string {
  if (/^(Bearer|Basic) /.test(secret)) return secret
  const i = secret.indexOf(':')
  if (i < 0) return `Bearer ${secret}`
  const rest = secret.slice(i + 1)
  if (secret.startsWith('basic:')) return `Basic ${rest.includes(':') ? Buffer.from(rest).toString('base64') : rest}`
  if (secret.startsWith('bearer:')) return `Bearer ${rest}`
  return `Bearer ${secret}`
}

/**
 * A Kubo node over its HTTP RPC API (`--ipfs-api http://127.0.0.1:5001`), the way Bacalhau nodes reach IPFS.
 * Writes use Kubo's add and block/put (dag-json nodes too, with `cid-codec=dag-json`: block/put stores our bytes
 * as they are, where dag/put would decode and re-encode them with Kubo's own codec); every read goes through
 * block/get and is re-hashed here, so a lying or corrupt node is caught (Kubo's own cat/ls would return bytes we
 * could not check). Options are sent under Kubo's documented (kebab-case) names. A node with API.Authorizations
 * answers 403 without the right Authorization header: pass `authorization` (or set KUBO_RPC_AUTH).
 */
export async function createKuboStore(init: { apiUrl: string; authorization?: string; env?: NodeJS.ProcessEnv }): Promise<Store> {
  let url: URL
  try {
    url = new URL(init.apiUrl)
  } catch (cause) {
    throw new Instruct3Error(`malformed Kubo API URL "${init.apiUrl}"`, { code: 'ECONFIG', details: { field: 'ipfs-api' }, cause })
  }
  const secret = init.authorization ?? (init.env ?? process.env).KUBO_RPC_AUTH
  const client = create({ url, headers: secret ? { Authorization: kuboAuthorizationHeader(secret) } : undefined })
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (cause) {
      if (cause instanceof Instruct3Error) throw cause
      throw new Instruct3Error(`Kubo ${what} failed: ${(cause as Error).message}`, { code: 'EKUBO', details: { url: url.toString() }, cause })
    }
  }
  // kebab-case params pass straight into the query string (the client's own camelCase names are not Kubo's)
  const params = (p: Record<string, unknown>) => p as {}

  const add = async (content: Uint8Array | AsyncIterable<Uint8Array>, pin: boolean, signal?: AbortSignal): Promise<CID> =>
    call('add', async () => (await client.add(content, { signal, ...params({ ...KUBO_ADD_PARAMS, pin }) })).cid)

  const backend: Backend = {
    kind: 'kubo',
    offlineByDefault: false,
    async readBlock(cid, { signal, offline }) {
      // no call(): core turns failures into not-found / timeout errors
      return client.block.get(cid, { signal, ...params(offline ? { offline: true } : {}) })
    },
    async writeBlock(cid, bytes) {
      const codec = cid.code === CODECS.raw ? 'raw' : cid.code === CODECS.dagPb ? 'dag-pb' : cid.code === CODECS.dagJson ? 'dag-json' : undefined
      if (!codec) throw new Instruct3Error(`unsupported codec 0x${cid.code.toString(16)}`, { code: 'ECODEC', details: { cid: cid.toString() } })
      const got = await call('block/put', () => client.block.put(bytes, params({ 'cid-codec': codec, mhtype: 'sha2-256', pin: false })))
      if (got.toString() !== cid.toString()) throw new Instruct3Error(`Kubo stored block ${cid} under a different CID ${got}`, { code: 'EKUBO', details: { cid: cid.toString() } })
    },
    async hasBlock(cid) {
      try {
        await client.block.stat(cid, params({ offline: true }))
        return true
      } catch {
        return false
      }
    },
    addBytes: (bytes, opts) => add(bytes, opts.pin ?? true, opts.signal),
    async addFile(path, opts) {
      await assertFile(path)
      return add(readFileStream(path, opts.onBytes), opts.pin ?? true, opts.signal)
    },
    async addDirectory(path, opts) {
      const candidates = await directoryCandidates(path, opts.onBytes)
      return call('add', async () => {
        let root: CID | undefined
        for await (const r of client.addAll(candidates, { signal: opts.signal, ...params({ ...KUBO_ADD_PARAMS, 'wrap-with-directory': true, pin: opts.pin ?? true }) })) {
          if (r.path === '') root = r.cid
        }
        if (!root) throw new Instruct3Error('Kubo add returned no root directory', { code: 'EKUBO', details: { file: path } })
        return root
      })
    },
    async pin(cid) {
      await call('pin/add', async () => {
        for await (const _ of client.pin.addAll([{ cid, recursive: true }], { signal: AbortSignal.timeout(60_000) })) {
          // drain
        }
      })
    },
    async unpin(cid) {
      await call('pin/rm', async () => {
        await client.pin.rm(cid)
      })
    },
    async *pins() {
      const all: CID[] = await call('pin/ls', async () => {
        const out: CID[] = []
        for await (const p of client.pin.ls({ type: 'recursive' })) out.push(p.cid)
        return out
      })
      yield* all
    },
    async gc() {
      return call('repo/gc', async () => {
        let n = 0
        for await (const r of client.repo.gc()) {
          if (r.err) throw r.err
          if (r.cid) n++
        }
        return n
      })
    },
    async close() {},
  }
  return createStoreCore(backend, {})
}

export type { KuboRPCClient }
