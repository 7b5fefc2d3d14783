/**
 * Storacha and Lighthouse cannot be reached from here. Storacha's upload service runs locally from its own
 * code (@storacha/upload-api's test context, storacha-standin.ts) and our uploader talks to it through
 * @storacha/client; Lighthouse, whose server is not open source, is a stand-in that follows its SDK's requests
 * (dag/import, deal_status). The tests check what reaches the service: credentials, the root CID.
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
import { CarReader } from '@ipld/car'
import { createStore } from '../../src/store/index.ts'
import { exportCar } from '../../src/store/car.ts'
import { createStorachaUploader, uploaderFromEnv } from '../../src/store/filecoin/index.ts'
import { storachaFromEnv } from '../../src/store/filecoin/storacha.ts'
import { startStorachaStandin, type StorachaStandin } from './storacha-standin.ts'
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

/**
 * Lighthouse's upload node is not open source, so this stand-in follows its client, @lighthouse-web3/sdk 0.4.7:
 * `uploadCAR` (dist/Lighthouse/upload/car/node.js) POSTs multipart field `file` (a .car name) to
 * /api/v0/dag/import with `Authorization: Bearer <key>` and reads `{Name, Hash, Size}` (types.d.ts
 * IFileUploadedResponse); the file upload (upload/files/node.js) POSTs to /api/v0/add?wrap-with-directory=false
 * &cid-version=1 and gets the file's UnixFS CID. dag/import here imports the CAR's blocks (each re-hashed) and
 * answers with its root, as Kubo's dag/import does; deal_status (dealStatus/index.js) lists deals by CID.
 */
function lighthouseStandin() {
  const KEY = 'lh-test-key'
  const stored = new Map<string, number>()
  const mem = new Map<string, Uint8Array>()
  const fs = unixfs({ blockstore: { async *get(c: CID) { yield mem.get(c.toString())! }, async put(c: CID, b: any) { mem.set(c.toString(), b); return c }, async has(c: CID) { return mem.has(c.toString()) } } })
  let base = ''
  const readFile = async (req: IncomingMessage) => {
    const headers = new Headers({ 'content-type': req.headers['content-type'] ?? '' })
    const form = await new Request('http://x', { method: 'POST', headers, body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } as RequestInit).formData()
    const file = form.get('file')
    return file instanceof File ? file : undefined
  }
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base)
    if (req.headers.authorization !== `Bearer ${KEY}`) return json(res, 401, { error: 'Invalid API key' })
    if (req.method === 'POST' && url.pathname === '/api/v0/add') {
      const file = await readFile(req)
      if (!file) return json(res, 400, { error: 'no file' })
      const bytes = new Uint8Array(await file.arrayBuffer())
      const cid = await fs.addBytes(bytes, { cidVersion: Number(url.searchParams.get('cid-version') ?? 0) as 0 | 1 })
      stored.set(cid.toString(), bytes.byteLength)
      return json(res, 200, { Name: file.name, Hash: cid.toString(), Size: String(bytes.byteLength) })
    }
    if (req.method === 'POST' && url.pathname === '/api/v0/dag/import') {
      const file = await readFile(req)
      if (!file) return json(res, 400, { error: 'no file' })
      const bytes = new Uint8Array(await file.arrayBuffer())
      let reader
      try {
        reader = await CarReader.fromBytes(bytes)
      } catch (e) {
        return json(res, 400, { error: `invalid car: ${(e as Error).message}` })
      }
      const roots = await reader.getRoots()
      if (roots.length !== 1) return json(res, 400, { error: `expected one root, got ${roots.length}` })
      for await (const { cid, bytes: b } of reader.blocks()) {
        if (!Buffer.from(createHash('sha256').update(b).digest()).equals(Buffer.from(cid.multihash.digest))) return json(res, 400, { error: `block ${cid} does not match its hash` })
        mem.set(cid.toString(), b)
      }
      if (!mem.has(roots[0].toString())) return json(res, 400, { error: 'root block missing' })
      stored.set(roots[0].toString(), bytes.byteLength)
      return json(res, 200, { Name: file.name, Hash: roots[0].toString(), Size: String(bytes.byteLength) })
    }
    if (req.method === 'GET' && url.pathname === '/api/lighthouse/deal_status') {
      const cid = url.searchParams.get('cid') ?? ''
      const deals = stored.has(cid) ? [{ chainDealID: 71234567, storageProvider: 'f02620', dealStatus: 'Sealing: PreCommit1', pieceCID: 'baga6ea4seaqstandin', content: stored.get(cid) }] : []
      return json(res, 200, deals)
    }
    res.writeHead(404).end()
  })
  return {
    env: { LIGHTHOUSE_API_KEY: KEY },
    stored,
    has: (cid: string) => mem.has(cid),
    async start() { base = await listen(server); return base },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('Filecoin uploads (local stand-ins for Storacha and Lighthouse)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let car: string
  let root: string
  let storacha: StorachaStandin
  const lighthouse = lighthouseStandin()
  let lUrl = ''

  before(async () => {
    t = await tempDir()
    const store = await createStore({ kind: 'helia', dir: join(t.dir, 'repo') })
    root = (await store.addDirectory(await makeDataset(t.dir))).toString()
    car = join(t.dir, 'up.car')
    await exportCar(store, root, car)
    await store.close()
    storacha = await startStorachaStandin()
    lUrl = await lighthouse.start()
  })
  after(async () => {
    await storacha.close()
    await lighthouse.close()
    await t.cleanup()
  })

  const storachaUploader = (env: NodeJS.ProcessEnv) =>
    createStorachaUploader({ ...storachaFromEnv(env), serviceConf: storacha.serviceConf, receiptsEndpoint: storacha.receiptsEndpoint })

  it('storacha: uploads the CAR with the agent key and delegation; the service registers our root', async () => {
    const cred = await storacha.credentials()
    const up = storachaUploader({ STORACHA_KEY: cred.key, STORACHA_PROOF: cred.proof })
    const r = await up.uploadCar(car, root)
    assert.equal(r.root, root)
    assert.equal(r.remoteCid, root)
    assert.ok(r.carCid.startsWith('bagbaiera'))
    assert.ok(r.shards && r.shards.length >= 1 && r.shards.every((s) => s.startsWith('bagbaiera')), JSON.stringify(r.shards))
    assert.equal(r.dealStatus, 'pending')
    assert.equal(await storacha.hasUpload(cred.space, root), true)
    const again = await up.uploadCar(car, root) // already stored: the service says so, no error
    assert.equal(again.remoteCid, root)
  })

  it('storacha: bad key, a proof for another agent, an unprovisioned space are clear errors', async () => {
    const cred = await storacha.credentials()
    await assert.rejects(storachaUploader({ STORACHA_KEY: 'nope', STORACHA_PROOF: cred.proof }).uploadCar(car, root), (e) => isErr('ECONFIG')(e) && (e as Instruct3Error).details.field === 'STORACHA_KEY')
    await assert.rejects(storachaUploader({ STORACHA_KEY: cred.key, STORACHA_PROOF: 'not-a-proof' }).uploadCar(car, root), (e) => isErr('ECONFIG')(e) && (e as Instruct3Error).details.field === 'STORACHA_PROOF')
    const other = await storacha.credentials({ audience: 'did:key:z6MkiK3h93N8kE6jmAgTgN9Tz1cQ6T4H4NDKzmfnbdnQsGzz' })
    await assert.rejects(storachaUploader({ STORACHA_KEY: cred.key, STORACHA_PROOF: other.proof }).uploadCar(car, root), /delegates to did:key:z6MkiK3h.*not to the agent of STORACHA_KEY/)
    const bare = await storacha.credentials({ provision: false })
    await assert.rejects(storachaUploader({ STORACHA_KEY: bare.key, STORACHA_PROOF: bare.proof }).uploadCar(car, root), (e) => isErr('EUPLOAD')(e) && /storacha: upload failed: failed space\/blob\/add invocation: did:key:\w+ has no storage provider/.test((e as Error).message))
    assert.throws(() => uploaderFromEnv('storacha', { STORACHA_KEY: cred.key }), (e) => isErr('ECONFIG')(e) && /STORACHA_PROOF/.test((e as Error).message))
  })

  it('lighthouse: imports the CAR with dag/import, so Lighthouse knows our root CID, and reports its deals', async () => {
    const up = uploaderFromEnv('lighthouse', { ...lighthouse.env, LIGHTHOUSE_UPLOAD_URL: lUrl, LIGHTHOUSE_API_URL: lUrl })
    const r = await up.uploadCar(car, root)
    assert.equal(r.root, root)
    assert.equal(r.remoteCid, root) // not the CID of the CAR stored as a plain file
    assert.ok(lighthouse.has(root), 'the root block is retrievable from Lighthouse')
    assert.ok(lighthouse.stored.has(root))
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

