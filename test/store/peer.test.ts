import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createStore } from '../../src/store/index.ts'
import type { HeliaStore } from '../../src/store/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { listTree, makeDataset, tempDir } from './helpers.ts'

// Two real Helia nodes, TCP on 127.0.0.1 (port 0), no discovery: B fetches A's dataset over bitswap
// after an explicit dial, re-hashing every block it receives.
describe('two Helia peers on loopback', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let a: HeliaStore
  let b: HeliaStore

  before(async () => {
    t = await tempDir()
    a = await createStore({ kind: 'helia', dir: join(t.dir, 'a'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    b = await createStore({ kind: 'helia', dir: join(t.dir, 'b'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => {
    await b.close()
    await a.close()
    await t.cleanup()
  })

  it('listens only on loopback, with distinct persistent peer ids', () => {
    assert.notEqual(a.peerId, b.peerId)
    assert.ok(a.multiaddrs().length > 0)
    for (const m of a.multiaddrs()) assert.match(m, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
  })

  it('B fetches a directory dataset by CID from A over bitswap', async () => {
    const src = await makeDataset(t.dir)
    const root = await a.addDirectory(src)
    assert.equal(await b.has(root), false)
    await b.dial(a.multiaddrs()[0])
    const dest = join(t.dir, 'fetched')
    await b.get(root, dest, { timeoutMs: 10_000 })
    assert.deepEqual(await listTree(dest), ['meta/info.json', 'train.jsonl', 'valid.jsonl'])
    for (const f of ['train.jsonl', 'valid.jsonl', 'meta/info.json']) assert.ok((await readFile(join(src, f))).equals(await readFile(join(dest, f))), f)
    assert.equal(await b.has(root), true, 'blocks are now local to B')
    await b.pin(root)
  })

  it('a CID no peer has fails after the timeout instead of hanging', async () => {
    const t0 = performance.now()
    await assert.rejects(b.getDag('baguqeerao2mbbpgw7f3k3wn5aohdbeqgdpq2fcyt4xgfpwd6ajh6mhqnfuqa', { timeoutMs: 800 }), (e) => e instanceof Instruct3Error && e.code === 'ETIMEOUT')
    assert.ok(performance.now() - t0 < 5_000)
  })
})
