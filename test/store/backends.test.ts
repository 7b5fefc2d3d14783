import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { createStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { startKuboStandin, type KuboStandin } from './kubo-standin.ts'
import { bytesOf, catAll, corruptHeliaBlock, listTree, makeDataset, tempDir } from './helpers.ts'

// The same behaviour is required of both backends: the embedded Helia node and Kubo over RPC
// (here a local stand-in speaking Kubo's RPC API, since no Kubo binary runs on this machine).
type Ctx = { store: Store; dir: string; kubo?: KuboStandin; cleanup: () => Promise<void> }

const backends: Record<string, () => Promise<Ctx>> = {
  helia: async () => {
    const t = await tempDir()
    const store = await createStore({ kind: 'helia', dir: join(t.dir, 'repo') })
    return { store, dir: t.dir, cleanup: async () => { await store.close(); await t.cleanup() } }
  },
  kubo: async () => {
    const t = await tempDir()
    const kubo = await startKuboStandin()
    const store = await createStore({ kind: 'kubo', apiUrl: kubo.url })
    return { store, dir: t.dir, kubo, cleanup: async () => { await store.close(); await kubo.close(); await t.cleanup() } }
  },
}

const isErr = (code: string) => (err: unknown) => err instanceof Instruct3Error && err.code === code

const results: Record<string, Record<string, string>> = {}

for (const [name, open] of Object.entries(backends)) {
  describe(`store backend: ${name}`, () => {
    let ctx: Ctx
    before(async () => { ctx = await open() })
    after(async () => { await ctx.cleanup() })
    const r: Record<string, string> = (results[name] = {})

    it('adds bytes and cats them back (CIDv1, raw leaf)', async () => {
      const cid = await ctx.store.addBytes(new TextEncoder().encode('gm web3'))
      assert.equal(cid.version, 1)
      assert.equal((await catAll(ctx.store, cid)).toString(), 'gm web3')
      r.bytes = cid.toString()
    })

    it('adds a multi-chunk file and gets it to disk atomically', async () => {
      const src = join(ctx.dir, 'ckpt.bin')
      const data = bytesOf(3_300_000, 3)
      await writeFile(src, data)
      const cid = await ctx.store.addFile(src)
      r.file = cid.toString()
      assert.ok(Buffer.from(data).equals(await catAll(ctx.store, cid)))
      const dest = join(ctx.dir, 'out', 'ckpt.bin')
      await ctx.store.get(cid, dest)
      assert.ok(Buffer.from(data).equals(await readFile(dest)))
      assert.deepEqual((await readdir(join(ctx.dir, 'out'))).sort(), ['ckpt.bin'], 'no temp files left behind')
    })

    it('adds a directory, lists it and materialises it', async () => {
      const src = await makeDataset(ctx.dir)
      const cid = await ctx.store.addDirectory(src)
      r.dir = cid.toString()
      const entries = []
      for await (const e of ctx.store.ls(cid)) entries.push({ name: e.name, type: e.type, size: e.size })
      assert.deepEqual(entries, [
        { name: 'meta', type: 'directory', size: 0n },
        { name: 'train.jsonl', type: 'file', size: 2_500_000n },
        { name: 'valid.jsonl', type: 'file', size: 32n },
      ])
      const dest = join(ctx.dir, 'copy')
      await ctx.store.get(cid, dest)
      assert.deepEqual(await listTree(dest), ['meta/info.json', 'train.jsonl', 'valid.jsonl'])
      assert.ok((await readFile(join(src, 'train.jsonl'))).equals(await readFile(join(dest, 'train.jsonl'))))
      assert.equal(await ctx.store.has(cid), true)
    })

    it('stores dag-json nodes with links', async () => {
      const link = CID.parse(r.bytes)
      const cid = await ctx.store.putDag({ stage: 'sft', inputs: { corpus: link }, n: 3 })
      assert.equal(cid.code, 0x0129)
      const back = await ctx.store.getDag<{ stage: string; inputs: { corpus: CID }; n: number }>(cid)
      assert.equal(back.stage, 'sft')
      assert.ok(back.inputs.corpus.equals(link))
      r.dag = cid.toString()
    })

    it('pins, unpins and garbage-collects', async () => {
      const keep = await ctx.store.addBytes(new TextEncoder().encode('keep me'))
      const drop = await ctx.store.addBytes(new TextEncoder().encode('drop me'), { pin: false })
      const pinned = new Set<string>()
      for await (const p of ctx.store.pins()) pinned.add(p.toString())
      assert.ok(pinned.has(keep.toString()))
      assert.ok(!pinned.has(drop.toString()))
      await ctx.store.pin(drop)
      await ctx.store.unpin(drop)
      const removed = await ctx.store.gc()
      assert.ok(removed >= 1, `gc removed ${removed}`)
      assert.equal(await ctx.store.has(drop), false)
      assert.equal(await ctx.store.has(keep), true)
      assert.equal((await catAll(ctx.store, r.file)).byteLength, 3_300_000, 'pinned file survives gc')
    })

    it('rejects a malformed CID with a clear error', async () => {
      await assert.rejects(catAll(ctx.store, 'bafy-not-a-cid'), isErr('ECID'))
      await assert.rejects(ctx.store.get('Qm123', join(ctx.dir, 'nope')), isErr('ECID'))
      assert.equal(existsSync(join(ctx.dir, 'nope')), false)
    })

    it('fails a read of a missing block after the timeout instead of hanging', async () => {
      const missing = CID.parse('bafkreidvfnnu2r6qeoq5cj2ryoumfwhvyuqiqikxf5rlpdycrqbmiy7tiq')
      const t0 = performance.now()
      await assert.rejects(catAll(ctx.store, missing, { timeoutMs: 300 }), (err) => isErr('ENOTFOUND')(err) || isErr('ETIMEOUT')(err))
      assert.ok(performance.now() - t0 < 5_000)
      await assert.rejects(ctx.store.get(missing, join(ctx.dir, 'missing.bin'), { timeoutMs: 300 }))
      assert.equal(existsSync(join(ctx.dir, 'missing.bin')), false, 'nothing written')
    })

    it('detects a tampered block on read and writes nothing', async () => {
      const data = bytesOf(2_200_000, 11)
      const cid = await ctx.store.addBytes(data)
      // corrupt one raw leaf (the first link of the root)
      const leaf = (await import('@ipld/dag-pb')).decode(await ctx.store.getBlock(cid)).Links[0].Hash
      if (ctx.kubo) ctx.kubo.corrupt(leaf)
      else await corruptHeliaBlock(join(ctx.dir, 'repo', 'blocks'), leaf)
      await assert.rejects(catAll(ctx.store, cid), isErr('EHASHMISMATCH'))
      const dest = join(ctx.dir, 'tampered.bin')
      await assert.rejects(ctx.store.get(cid, dest), isErr('EHASHMISMATCH'))
      assert.equal(existsSync(dest), false)
      assert.deepEqual((await readdir(ctx.dir)).filter((f) => f.includes('tampered')), [], 'no temp file left')
    })
  })
}

describe('both backends', () => {
  it('give the same CIDs for the same content', () => {
    assert.ok(results.helia.file && results.kubo.file)
    for (const k of ['bytes', 'file', 'dir', 'dag']) assert.equal(results.helia[k], results.kubo[k], k)
  })

  it('helia keeps its blocks and peer id across restarts', async () => {
    const t = await tempDir()
    try {
      const a = await createStore({ kind: 'helia', dir: t.dir })
      const cid = await a.addBytes(new TextEncoder().encode('persist'))
      const peer = a.peerId
      await a.close()
      const b = await createStore({ kind: 'helia', dir: t.dir })
      assert.equal(b.peerId, peer)
      assert.equal((await catAll(b, cid)).toString(), 'persist')
      await b.close()
    } finally {
      await t.cleanup()
    }
  })

  it('kubo: unreachable API is a clear error', async () => {
    const store = await createStore({ kind: 'kubo', apiUrl: 'http://127.0.0.1:9' })
    await assert.rejects(store.addBytes(new Uint8Array([1])), isErr('EKUBO'))
    await assert.rejects(createStore({ kind: 'kubo', apiUrl: 'not a url' }), isErr('ECONFIG'))
  })
})
