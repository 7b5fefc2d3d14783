import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CarWriter } from '@ipld/car'
import { createStore } from '../../src/store/index.ts'
import { exportCar, importCar } from '../../src/store/car.ts'
import type { HeliaStore } from '../../src/store/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { catAll, makeDataset, tempDir } from './helpers.ts'
import type { CID } from 'multiformats/cid'

const isErr = (code: string) => (err: unknown) => err instanceof Instruct3Error && err.code === code

describe('CAR export/import', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let src: HeliaStore
  let dst: HeliaStore
  let root: CID
  let car: string

  before(async () => {
    t = await tempDir()
    src = await createStore({ kind: 'helia', dir: join(t.dir, 'src') })
    dst = await createStore({ kind: 'helia', dir: join(t.dir, 'dst') })
    root = await src.addDirectory(await makeDataset(t.dir))
    car = join(t.dir, 'dataset.car')
  })
  after(async () => {
    await src.close()
    await dst.close()
    await t.cleanup()
  })

  it('round-trips a directory through a CAR file', async () => {
    const out = await exportCar(src, root, car)
    assert.ok(out.blocks >= 5)
    const got = await importCar(dst, car)
    assert.deepEqual(got.roots.map(String), [root.toString()])
    assert.equal(await dst.has(root), true)
    const a = []
    for await (const e of dst.ls(root)) a.push(e.name)
    assert.deepEqual(a, ['meta', 'train.jsonl', 'valid.jsonl'])
    let pinned = false
    for await (const p of dst.pins()) pinned ||= p.equals(root)
    assert.ok(pinned, 'imported root is pinned')
  })

  it('rejects a truncated CAR and imports nothing', async () => {
    const fresh = await createStore({ kind: 'helia', dir: join(t.dir, 'fresh1') })
    try {
      const bytes = await readFile(car)
      const cut = join(t.dir, 'cut.car')
      await writeFile(cut, bytes.subarray(0, bytes.length - 1000))
      await assert.rejects(importCar(fresh, cut), isErr('ECARTRUNCATED'))
      assert.equal(await fresh.hasBlock(root), false, 'root block not imported')
      let n = 0
      for await (const _ of fresh.pins()) n++
      assert.equal(n, 0)
    } finally {
      await fresh.close()
    }
  })

  it('rejects a CAR with a tampered block and imports nothing', async () => {
    const fresh = await createStore({ kind: 'helia', dir: join(t.dir, 'fresh2') })
    try {
      const bytes = Buffer.from(await readFile(car))
      bytes[bytes.length - 10] ^= 0xff // inside the last block's data
      const bad = join(t.dir, 'tampered.car')
      await writeFile(bad, bytes)
      await assert.rejects(importCar(fresh, bad), isErr('ECARBLOCK'))
      assert.equal(await fresh.hasBlock(root), false)
    } finally {
      await fresh.close()
    }
  })

  it('rejects a CAR whose links do not resolve', async () => {
    const fresh = await createStore({ kind: 'helia', dir: join(t.dir, 'fresh3') })
    try {
      const { writer, out } = CarWriter.create([root])
      const chunks: Uint8Array[] = []
      const drain = (async () => { for await (const c of out) chunks.push(c) })()
      await writer.put({ cid: root, bytes: await src.getBlock(root) }) // the root only, none of its children
      await writer.close()
      await drain
      const partial = join(t.dir, 'partial.car')
      await writeFile(partial, Buffer.concat(chunks))
      await assert.rejects(importCar(fresh, partial), isErr('ECARINCOMPLETE'))
      assert.equal(await fresh.hasBlock(root), false)
    } finally {
      await fresh.close()
    }
  })

  it('rejects garbage and missing files', async () => {
    const junk = join(t.dir, 'junk.car')
    await writeFile(junk, 'this is not a car')
    await assert.rejects(importCar(dst, junk), (e) => isErr('ECAR')(e) || isErr('ECARTRUNCATED')(e))
    await assert.rejects(importCar(dst, join(t.dir, 'nope.car')), isErr('ENOENT'))
  })

  it('export of a missing root fails and leaves no file', async () => {
    const empty = await createStore({ kind: 'helia', dir: join(t.dir, 'empty') })
    try {
      const target = join(t.dir, 'missing.car')
      await assert.rejects(exportCar(empty, root, target), isErr('ENOTFOUND'))
      assert.equal(existsSync(target), false)
      await assert.rejects(exportCar(empty, 'not-a-cid', target), isErr('ECID'))
    } finally {
      await empty.close()
    }
  })

  it('exported file content matches after import', async () => {
    const st = []
    for await (const e of dst.ls(root)) if (e.name === 'train.jsonl') st.push(e.cid)
    assert.equal((await catAll(dst, st[0])).byteLength, 2_500_000)
  })
})
