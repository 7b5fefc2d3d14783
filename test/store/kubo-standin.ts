/**
 * TEST CODE ONLY. A local stand-in for a Kubo node's HTTP RPC API, because no Kubo binary runs here.
 * It implements the endpoints instruct3 uses, following Kubo's documented API
 * (https://docs.ipfs.tech/reference/kubo/rpc/): POST only, options as kebab-case query params,
 * multipart bodies, NDJSON for streamed outputs, errors as HTTP 500 + {Message, Code, Type:"error"}.
 * Behaviour taken from ipfs/kubo v0.42.0:
 * - `add` (core/commands/add.go): `max-file-links` is per request; when absent the node uses
 *   Import.UnixFSFileMaxLinks, default 174 (config/import.go DefaultUnixFSFileMaxLinks = helpers.DefaultLinksPerBlock),
 *   so a file of more than 174 chunks gets a different root than with 1024. `chunker=size-N` sets the chunk size.
 * - `block/put` (core/commands/block.go): stores the bytes as sent under `cid-codec` (default raw); it never
 *   re-encodes. `dag/put` decodes `input-codec` and re-encodes as `store-codec`.
 * - API.Authorizations (core/corehttp/commands.go withAuthSecrets): with authorizations configured, a request
 *   whose Authorization header is not one of the secrets (config/api.go ConvertAuthSecret), or whose path is not
 *   under that secret's AllowedPaths, gets HTTP 403 text "Kubo RPC Access Denied: ..."; /api/v0/version is always
 *   allowed for a valid secret.
 * Blocks live in memory. Like Kubo, a block/get of a block it lacks (without offline=true) waits for
 * the network forever - here until the client gives up - which is what the timeout tests need.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { unixfs } from '@helia/unixfs'
import * as dagJson from '@ipld/dag-json'
import { CID } from 'multiformats/cid'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { blockLinks, cidFor, CODECS, encodeDagJson } from '../../src/store/blocks.ts'
import { kuboAuthorizationHeader } from '../../src/store/kubo.ts'

/** kubo v0.42.0 config/import.go: DefaultUnixFSFileMaxLinks (helpers.DefaultLinksPerBlock). */
export const KUBO_DEFAULT_FILE_MAX_LINKS = 174
/** The Kubo error text for a request without a valid secret (core/corehttp/commands.go). */
export const KUBO_ACCESS_DENIED = 'Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration.'

/** API.Authorizations as in Kubo's config: user -> {AuthSecret, AllowedPaths}. */
export type KuboAuthorizations = Record<string, { AuthSecret: string; AllowedPaths: string[] }>

export type KuboStandin = {
  url: string
  blocks: Map<string, Uint8Array>
  pins: Set<string>
  /** Test hook: flip a byte of a stored block (a corrupt or lying node). */
  corrupt(cid: CID): void
  /** Every request path seen, in order. */
  calls: string[]
  /** Every request as path + query string, in order (what options the client sent). */
  requests: { path: string; query: URLSearchParams }[]
  close(): Promise<void>
}

class RpcError extends Error {}

export async function startKuboStandin(opts: { authorizations?: KuboAuthorizations } = {}): Promise<KuboStandin> {
  const requests: KuboStandin['requests'] = []
  const secrets = new Map(Object.values(opts.authorizations ?? {}).map((a) => [kuboAuthorizationHeader(a.AuthSecret), a.AllowedPaths]))
  const blocks = new Map<string, Uint8Array>()
  const pins = new Set<string>()
  const calls: string[] = []
  const blockstore = {
    async *get(cid: CID) {
      const b = blocks.get(cid.toString())
      if (!b) throw new RpcError(`ipld: could not find ${cid}`)
      yield b
    },
    async put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) {
      const parts: Uint8Array[] = []
      if (bytes instanceof Uint8Array) parts.push(bytes)
      else for await (const p of bytes) parts.push(p)
      blocks.set(cid.toString(), Buffer.concat(parts))
      return cid
    },
    async has(cid: CID) {
      return blocks.has(cid.toString())
    },
  }
  const fs = unixfs({ blockstore })

  const reachable = (root: string, into: Set<string>) => {
    const stack = [root]
    while (stack.length) {
      const k = stack.pop()!
      if (into.has(k)) continue
      const b = blocks.get(k)
      if (!b) throw new RpcError(`merkledag: not found (${k})`)
      into.add(k)
      for (const l of blockLinks(CID.parse(k), b)) stack.push(l.toString())
    }
  }

  const handlers: Record<string, (q: URLSearchParams, req: IncomingMessage, res: ServerResponse) => Promise<unknown>> = {
    async add(q, req, res) {
      // Kubo's documented add options; the stand-in implements CIDv1 + raw leaves with any size-N chunker
      const chunk = /^size-(\d+)$/.exec(q.get('chunker') ?? '')
      if (q.get('cid-version') !== '1' || q.get('raw-leaves') !== 'true' || !chunk) {
        throw new RpcError('stand-in supports only cid-version=1 raw-leaves=true chunker=size-N')
      }
      // absent max-file-links: Import.UnixFSFileMaxLinks, whose default is 174
      const maxLinks = q.has('max-file-links') ? Number(q.get('max-file-links')) : KUBO_DEFAULT_FILE_MAX_LINKS
      if (!Number.isInteger(maxLinks) || maxLinks < 2) throw new RpcError(`invalid max-file-links ${q.get('max-file-links')}`)
      const form = await readForm(req)
      const wrap = q.get('wrap-with-directory') === 'true'
      const candidates = [...form.entries()].map(([name, value]) => {
        const path = typeof value === 'string' ? '' : decodeURIComponent(value.name)
        const isDir = name.startsWith('dir') || (typeof value !== 'string' && value.type === 'application/x-directory')
        return isDir ? { path } : { path, content: (async function* () { yield new Uint8Array(await (value as Blob).arrayBuffer()) })() }
      })
      const lines: string[] = []
      let last: CID | undefined
      const layout = balanced({ maxChildrenPerNode: maxLinks })
      const chunker = fixedSize({ chunkSize: Number(chunk[1]) })
      for await (const e of fs.addAll(candidates, { profile: 'unixfs-v1-2025', wrapWithDirectory: wrap, layout, chunker })) {
        lines.push(JSON.stringify({ Name: e.path || (wrap ? '' : e.cid.toString()), Hash: e.cid.toString(), Size: String(e.size ?? 0) }))
        last = e.cid
      }
      if (last && q.get('pin') !== 'false') {
        reachable(last.toString(), new Set())
        pins.add(last.toString())
      }
      ndjson(res, lines)
    },
    async 'block/get'(q, req, res) {
      const cid = parseArg(q)
      const b = blocks.get(cid.toString())
      if (b) return void res.end(Buffer.from(b))
      if (q.get('offline') === 'true') throw new RpcError(`block was not found locally (offline): ipld: could not find ${cid}`)
      // Kubo would now ask the network; this stand-in has no network, so it waits until the client aborts
      await new Promise<void>((resolve) => req.socket.once('close', () => resolve()))
    },
    async 'block/stat'(q) {
      const cid = parseArg(q)
      const b = blocks.get(cid.toString())
      if (!b) throw new RpcError(`block was not found locally (offline): ipld: could not find ${cid}`)
      return { Key: cid.toString(), Size: b.byteLength }
    },
    async 'block/put'(q, req) {
      const codecs: Record<string, number> = { raw: CODECS.raw, 'dag-pb': CODECS.dagPb, 'dag-json': CODECS.dagJson }
      const codec = codecs[q.get('cid-codec') ?? 'raw']
      if (codec === undefined) throw new RpcError(`unknown cid-codec ${q.get('cid-codec')}`)
      if ((q.get('mhtype') ?? 'sha2-256') !== 'sha2-256') throw new RpcError('stand-in supports only mhtype=sha2-256')
      const bytes = await firstPart(req)
      const cid = await cidFor(codec, bytes)
      blocks.set(cid.toString(), bytes)
      if (q.get('pin') === 'true') pins.add(cid.toString())
      return { Key: cid.toString(), Size: bytes.byteLength }
    },
    async 'dag/put'(q, req) {
      if ((q.get('input-codec') ?? 'dag-json') !== 'dag-json' || (q.get('store-codec') ?? 'dag-cbor') !== 'dag-json') {
        throw new RpcError('stand-in supports only input-codec=dag-json store-codec=dag-json')
      }
      const { cid, bytes } = await encodeDagJson(dagJson.decode(await firstPart(req)))
      blocks.set(cid.toString(), bytes)
      if (q.get('pin') === 'true') pins.add(cid.toString())
      return { Cid: { '/': cid.toString() } }
    },
    async 'pin/add'(q) {
      const cid = parseArg(q)
      if (q.get('recursive') === 'false') throw new RpcError('stand-in supports only recursive pins')
      reachable(cid.toString(), new Set())
      pins.add(cid.toString())
      return { Pins: [cid.toString()] }
    },
    async 'pin/rm'(q) {
      const cid = parseArg(q)
      if (!pins.delete(cid.toString())) throw new RpcError('not pinned or pinned indirectly')
      return { Pins: [cid.toString()] }
    },
    async 'pin/ls'(q, _req, res) {
      const type = q.get('type') ?? 'all'
      if (type !== 'recursive' && type !== 'all') throw new RpcError('stand-in lists only recursive pins')
      if (q.get('stream') === 'true') return ndjson(res, [...pins].map((c) => JSON.stringify({ Cid: c, Type: 'recursive' })))
      return { Keys: Object.fromEntries([...pins].map((c) => [c, { Type: 'recursive' }])) }
    },
    async 'repo/gc'(_q, _req, res) {
      const keep = new Set<string>()
      for (const p of pins) reachable(p, keep)
      const removed: string[] = []
      for (const k of [...blocks.keys()]) {
        if (keep.has(k)) continue
        blocks.delete(k)
        removed.push(JSON.stringify({ Key: { '/': k } }))
      }
      ndjson(res, removed)
    },
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    calls.push(url.pathname)
    requests.push({ path: url.pathname, query: url.searchParams })
    if (secrets.size > 0) {
      const allowed = secrets.get(req.headers.authorization ?? '')
      if (!allowed || (url.pathname !== '/api/v0/version' && !allowed.some((p) => url.pathname.startsWith(p)))) {
        // Go's http.Error: text/plain, the message and a newline
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(KUBO_ACCESS_DENIED + '\n')
        return
      }
    }
    const name = url.pathname.replace(/^\/api\/v0\//, '')
    const handler = url.pathname.startsWith('/api/v0/') ? handlers[name] : undefined
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found')
      return
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end(`405 - Method Not Allowed`)
      return
    }
    handler(url.searchParams, req, res).then(
      (out) => {
        if (out !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out) + '\n')
        else if (!res.writableEnded && !res.headersSent) res.end()
      },
      (err: Error) => {
        if (res.headersSent) return void res.destroy(err)
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: err.message, Code: 0, Type: 'error' }) + '\n')
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    blocks,
    pins,
    calls,
    requests,
    corrupt(cid) {
      const b = blocks.get(cid.toString())
      if (!b) throw new Error(`no block ${cid}`)
      const copy = Uint8Array.from(b)
      copy[copy.length - 1] ^= 0xff
      blocks.set(cid.toString(), copy)
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function parseArg(q: URLSearchParams): CID {
  const arg = q.get('arg')
  if (!arg) throw new RpcError('argument "key" is required')
  try {
    return CID.parse(arg.replace(/^\/ipfs\//, ''))
  } catch (err) {
    throw new RpcError(`invalid path "${arg}": ${(err as Error).message}`)
  }
}

async function readForm(req: IncomingMessage): Promise<FormData> {
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
  const body = Readable.toWeb(req) as ReadableStream<Uint8Array>
  return new Request('http://x', { method: 'POST', headers, body, duplex: 'half' } as RequestInit).formData()
}

async function firstPart(req: IncomingMessage): Promise<Uint8Array> {
  const form = await readForm(req)
  for (const [, value] of form.entries()) if (typeof value !== 'string') return new Uint8Array(await value.arrayBuffer())
  throw new RpcError('file argument "data" is required')
}

function ndjson(res: ServerResponse, lines: string[]): void {
  res.writeHead(200, { 'content-type': 'application/json', 'x-chunked-output': '1' })
  res.end(lines.map((l) => l + '\n').join(''))
}
