/**
 * Storacha and Lighthouse cannot be reached from here. These tests run the uploaders against local
 * stand-in HTTP servers that speak the documented APIs (Storacha's UCAN-HTTP bridge: store/add ->
 * presigned PUT -> upload/add; Lighthouse: /api/v0/add + /api/lighthouse/deal_status) and check what
 * the clients send: credentials, CAR CIDs that match the bytes, the root CID.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import { createStore } from '../../src/store/index.ts'
import { exportCar } from '../../src/store/car.ts'
import { uploaderFromEnv } from '../../src/store/filecoin/index.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { makeDataset, tempDir } from './helpers.ts'

const isErr = (code: string) => (err: unknown) => err instanceof Instruct3Error && err.code === code

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of req) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function storachaStandin() {
  const SECRET = 'uNGUyOTA2OTRlYjNlZDJj'
  const AUTH = 'uOqJlcm9vdHOB2CpYJQAB'
  const SPACE = 'did:key:z6Mkm5qHN9g9NQSGbBfL7iGp9sexdssioT4CzyVap9ATqGqX'
  const shards = new Map<string, number>()
  const uploads = new Map<string, string[]>()
  let base = ''
  const receipt = (out: unknown) => [{ data: { fx: { fork: [] }, iss: 'did:web:standin', meta: {}, out, prf: [], ran: { '/': 'bafyreienff66mf7nse3rm2njikxlshja6d5dkr4fpnyzeik5l6vils6fvq' } }, sig: { '/': { bytes: 'AA' } } }]
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base)
    const raw = await body(req)
    if (req.method === 'PUT' && url.pathname.startsWith('/put/')) {
      // a presigned blob URL: checks the bytes hash to the CAR CID it was issued for
      const cid = CID.parse(url.pathname.slice(5))
      const digest = createHash('sha256').update(raw).digest()
      const ok = Buffer.from(cid.multihash.digest).equals(digest) && raw.byteLength === shards.get(cid.toString()) && req.headers['content-length'] === String(raw.byteLength) && req.headers['x-amz-checksum-sha256'] === digest.toString('base64')
      if (!ok) return void res.writeHead(400).end('checksum mismatch')
      shards.set(cid.toString(), -1) // stored
      return void res.writeHead(200).end()
    }
    if (req.method !== 'POST' || url.pathname !== '/bridge') return void res.writeHead(404).end()
    if (req.headers['x-auth-secret'] !== SECRET || req.headers.authorization !== AUTH) return void res.writeHead(401).end('{"error":"unauthorized"}')
    const { tasks } = JSON.parse(raw.toString()) as { tasks: [string, string, Record<string, any>][] }
    const [[ability, subject, args]] = tasks
    if (subject !== SPACE) return void res.writeHead(200).end(JSON.stringify(receipt({ error: { name: 'Unauthorized', message: `no delegation for ${subject}` } })))
    if (ability === 'store/add') {
      const link = args.link['/'] as string
      if (CID.parse(link).code !== 0x0202) return void res.end(JSON.stringify(receipt({ error: { name: 'InvalidCar', message: 'link is not a CAR CID' } })))
      if (shards.get(link) === -1) return void res.end(JSON.stringify(receipt({ ok: { status: 'done', with: SPACE, link: args.link } })))
      shards.set(link, args.size)
      const checksum = Buffer.from(CID.parse(link).multihash.digest).toString('base64')
      return void res.end(JSON.stringify(receipt({ ok: { status: 'upload', with: SPACE, link: args.link, url: `${base}/put/${link}`, headers: { 'x-amz-checksum-sha256': checksum, 'content-length': String(args.size) } } })))
    }
    if (ability === 'upload/add') {
      const shardList = (args.shards as { '/': string }[]).map((s) => s['/'])
      if (shardList.some((s) => shards.get(s) !== -1)) return void res.end(JSON.stringify(receipt({ error: { name: 'ShardNotFound', message: 'shard not stored' } })))
      uploads.set(args.root['/'], shardList)
      return void res.end(JSON.stringify(receipt({ ok: { root: args.root, shards: args.shards } })))
    }
    res.end(JSON.stringify(receipt({ error: { name: 'UnknownAbility', message: ability } })))
  })
  return {
    env: { STORACHA_SPACE_DID: SPACE, STORACHA_AUTH_SECRET: SECRET, STORACHA_AUTH_TOKEN: AUTH },
    uploads,
    async start() { base = await listen(server); return base },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

function lighthouseStandin() {
  const KEY = 'lh-test-key'
  const stored = new Map<string, number>()
  const mem = new Map<string, Uint8Array>()
  const fs = unixfs({ blockstore: { async *get(c: CID) { yield mem.get(c.toString())! }, async put(c: CID, b: any) { mem.set(c.toString(), b); return c }, async has(c: CID) { return mem.has(c.toString()) } } })
  let base = ''
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base)
    if (req.headers.authorization !== `Bearer ${KEY}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Invalid API key"}')
    if (req.method === 'POST' && url.pathname === '/api/v0/add') {
      const headers = new Headers({ 'content-type': req.headers['content-type'] ?? '' })
      const form = await new Request('http://x', { method: 'POST', headers, body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } as RequestInit).formData()
      const file = form.get('file')
      if (!(file instanceof File)) return void res.writeHead(400).end('{"error":"no file"}')
      const bytes = new Uint8Array(await file.arrayBuffer())
      const cid = await fs.addBytes(bytes, { cidVersion: Number(url.searchParams.get('cid-version') ?? 0) as 0 | 1 })
      stored.set(cid.toString(), bytes.byteLength)
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Name: file.name, Hash: cid.toString(), Size: String(bytes.byteLength) }))
    }
    if (req.method === 'GET' && url.pathname === '/api/lighthouse/deal_status') {
      const cid = url.searchParams.get('cid') ?? ''
      const deals = stored.has(cid) ? [{ chainDealID: 71234567, storageProvider: 'f02620', dealStatus: 'Sealing: PreCommit1', pieceCID: 'baga6ea4seaqstandin', content: stored.get(cid) }] : []
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(deals))
    }
    res.writeHead(404).end()
  })
  return {
    env: { LIGHTHOUSE_API_KEY: KEY },
    stored,
    async start() { base = await listen(server); return base },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('Filecoin uploads (local stand-ins for Storacha and Lighthouse)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let car: string
  let root: string
  const storacha = storachaStandin()
  const lighthouse = lighthouseStandin()
  let sUrl = ''
  let lUrl = ''

  before(async () => {
    t = await tempDir()
    const store = await createStore({ kind: 'helia', dir: join(t.dir, 'repo') })
    root = (await store.addDirectory(await makeDataset(t.dir))).toString()
    car = join(t.dir, 'up.car')
    await exportCar(store, root, car)
    await store.close()
    sUrl = await storacha.start()
    lUrl = await lighthouse.start()
  })
  after(async () => {
    await storacha.close()
    await lighthouse.close()
    await t.cleanup()
  })

  it('storacha: store/add, PUT to the presigned URL, upload/add; idempotent on re-upload', async () => {
    const up = uploaderFromEnv('storacha', { ...storacha.env, STORACHA_BRIDGE_URL: `${sUrl}/bridge` })
    const r = await up.uploadCar(car, root)
    assert.equal(r.root, root)
    assert.equal(r.remoteCid, root)
    assert.ok(r.carCid.startsWith('bagbaiera'))
    assert.equal(r.dealStatus, 'pending')
    assert.deepEqual(storacha.uploads.get(root), [r.carCid])
    const again = await up.uploadCar(car, root) // store/add answers "done": no second PUT
    assert.equal(again.carCid, r.carCid)
  })

  it('storacha: bad credentials and a wrong space are clear errors', async () => {
    const bad = uploaderFromEnv('storacha', { ...storacha.env, STORACHA_AUTH_SECRET: 'nope', STORACHA_BRIDGE_URL: `${sUrl}/bridge` })
    await assert.rejects(bad.uploadCar(car, root), (e) => isErr('EUPLOAD')(e) && /HTTP 401/.test((e as Error).message))
    const other = uploaderFromEnv('storacha', { ...storacha.env, STORACHA_SPACE_DID: 'did:key:z6MkOther', STORACHA_BRIDGE_URL: `${sUrl}/bridge` })
    await assert.rejects(other.uploadCar(car, root), (e) => isErr('EUPLOAD')(e) && /Unauthorized/.test((e as Error).message))
  })

  it('lighthouse: uploads the CAR and reports deals', async () => {
    const up = uploaderFromEnv('lighthouse', { ...lighthouse.env, LIGHTHOUSE_UPLOAD_URL: lUrl, LIGHTHOUSE_API_URL: lUrl })
    const r = await up.uploadCar(car, root)
    assert.equal(r.root, root)
    assert.ok(lighthouse.stored.has(r.remoteCid))
    assert.equal(r.dealStatus, 'active')
    assert.deepEqual(r.deals, [{ dealId: '71234567', provider: 'f02620', status: 'Sealing: PreCommit1', pieceCid: 'baga6ea4seaqstandin' }])
    const unknown = await up.dealStatus('bafkreidvfnnu2r6qeoq5cj2ryoumfwhvyuqiqikxf5rlpdycrqbmiy7tiq')
    assert.deepEqual(unknown, { dealStatus: 'pending', deals: [] })
  })

  it('lighthouse: wrong key, missing env, unreachable service', async () => {
    const bad = uploaderFromEnv('lighthouse', { LIGHTHOUSE_API_KEY: 'wrong', LIGHTHOUSE_UPLOAD_URL: lUrl, LIGHTHOUSE_API_URL: lUrl })
    await assert.rejects(bad.uploadCar(car, root), (e) => isErr('EUPLOAD')(e) && /401/.test((e as Error).message))
    assert.throws(() => uploaderFromEnv('lighthouse', {}), isErr('ECONFIG'))
    assert.throws(() => uploaderFromEnv('storacha', {}), isErr('ECONFIG'))
    assert.throws(() => uploaderFromEnv('s3', {}), isErr('ECONFIG'))
    const down = uploaderFromEnv('lighthouse', { LIGHTHOUSE_API_KEY: 'k', LIGHTHOUSE_UPLOAD_URL: 'http://127.0.0.1:9', LIGHTHOUSE_API_URL: 'http://127.0.0.1:9' })
    await assert.rejects(down.uploadCar(car, root), (e) => isErr('EUPLOAD')(e) && /cannot reach/.test((e as Error).message))
  })
})

