import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { createStore } from '../../src/store/index.ts'
import { importCar } from '../../src/store/car.ts'
import { cidFor } from '../../src/store/blocks.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { tempDir, bytesOf, cli } from './helpers.ts'


/**
 * A "DAG bomb": one 1 KiB leaf, then `levels` UnixFS file nodes that each link the level below
 * `fanout` times. The CAR holds levels + 1 small blocks; the file it describes is 1 KiB * fanout^levels.
 */
async function writeBombCar(file: string, fanout: number, levels: number): Promise<{ root: CID; expanded: number }> {
  const leaf = bytesOf(1024, 3)
  let child = await cidFor(raw.code, leaf)
  let childSize = leaf.byteLength
  const blocks: Array<{ cid: CID; bytes: Uint8Array }> = [{ cid: child, bytes: leaf }]
  for (let l = 0; l < levels; l++) {
    const data = new UnixFS({ type: 'file', blockSizes: new Array(fanout).fill(BigInt(childSize)) }).marshal()
    const bytes = dagPb.encode(dagPb.prepare({ Data: data, Links: new Array(fanout).fill(0).map(() => ({ Hash: child, Tsize: childSize })) }))
    child = await cidFor(dagPb.code, bytes)
    childSize = childSize * fanout
    blocks.push({ cid: child, bytes })
  }
  const { writer, out } = CarWriter.create([child])
  const chunks: Uint8Array[] = []
  const drain = (async () => {
    for await (const c of out) chunks.push(c)
  })()
  for (const b of blocks.reverse()) await writer.put(b)
  await writer.close()
  await drain
  writeFileSync(file, Buffer.concat(chunks))
  return { root: child, expanded: childSize }
}

describe('store: no silent deletes, bounded CAR expansion (issue 13 item 12)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    t = await tempDir()
  })
  after(async () => {
    await t.cleanup()
  })

  it('CAR import refuses a DAG whose repeated subtrees expand past the bound', async () => {
    const car = join(t.dir, 'bomb.car')
    const { expanded } = await writeBombCar(car, 1000, 4) // 1 KiB * 1000^4 = ~1 PB from a ~100 KB CAR
    assert.ok(expanded > 1e15)
    const s = await createStore({ kind: 'helia', dir: join(t.dir, 'bomb-store') })
    try {
      await assert.rejects(importCar(s, car), (e: unknown) => e instanceof Instruct3Error && e.code === 'ECARBOMB' && /expands to/.test(e.message))
      // A small repeated DAG within an explicit bound still imports (dedup itself is legitimate).
      const small = join(t.dir, 'small.car')
      const sb = await writeBombCar(small, 4, 2)
      const r = await importCar(s, small, { maxExpandedBytes: 1 << 20 })
      assert.equal(r.roots[0].toString(), sb.root.toString())
      assert.ok(r.expandedBytes >= sb.expanded)
      await assert.rejects(importCar(s, small, { maxExpandedBytes: 1000 }), (e: unknown) => e instanceof Instruct3Error && e.code === 'ECARBOMB')
    } finally {
      await s.close()
    }
  })

  it('get stops writing a repeated DAG past maxBytes and leaves nothing behind', async () => {
    const car = join(t.dir, 'get-bomb.car')
    const { root, expanded } = await writeBombCar(car, 8, 2) // 1 KiB * 64 = 64 KiB
    const s = await createStore({ kind: 'helia', dir: join(t.dir, 'get-store') })
    try {
      await importCar(s, car, { maxExpandedBytes: 1 << 20 })
      const dest = join(t.dir, 'get-out.bin')
      await assert.rejects(s.get(root, dest, { maxBytes: 10_000 }), (e: unknown) => e instanceof Instruct3Error && e.code === 'ETOOLARGE')
      assert.equal(existsSync(dest), false, 'no partial file')
      assert.ok(!readdirSync(t.dir).some((f) => f.includes('get-out.bin.tmp')), 'no temp file left')
      await s.get(root, dest, { maxBytes: 1 << 20 })
      assert.equal(readFileSync(dest).byteLength, expanded)
    } finally {
      await s.close()
    }
  })

  it('store get into an existing non-empty directory refuses without --force and keeps what was there', async () => {
    const env = { INSTRUCT3_HOME: join(t.dir, 'home') }
    const s = await createStore({ kind: 'helia', dir: join(t.dir, 'home', 'ipfs') })
    let cid: string
    try {
      const src = join(t.dir, 'src-dir')
      mkdirSync(src)
      writeFileSync(join(src, 'new.txt'), 'new content\n')
      cid = (await s.addDirectory(src)).toString()
    } finally {
      await s.close()
    }
    const dest = join(t.dir, 'precious')
    mkdirSync(dest)
    writeFileSync(join(dest, 'thesis.txt'), 'years of work\n')
    const r = await cli(['store', 'get', cid, dest], env)
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /not empty/)
    assert.match(r.stderr, /--force/)
    assert.equal(readFileSync(join(dest, 'thesis.txt'), 'utf8'), 'years of work\n', 'nothing deleted')
    const f = await cli(['store', 'get', '--force', cid, dest], env)
    assert.equal(f.code, 0, f.stderr)
    assert.deepEqual(readdirSync(dest), ['new.txt'], 'replaced when forced')
  })
})

describe('label export --out (issue 13 item 12)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    t = await tempDir()
  })
  after(async () => {
    await t.cleanup()
  })

  it('refuses an existing non-empty directory without --force', async () => {
    const env = { INSTRUCT3_HOME: join(t.dir, 'home') }
    const db = join(t.dir, 'labels.sqlite')
    const prompts = join(t.dir, 'prompts.jsonl')
    writeFileSync(prompts, '{"prompt":"What is a nonce?"}\n')
    const c = await cli(['label', 'create', '--db', db, '--prompts', prompts, '--policy', 'bafy-policy', '--kinds', 'demonstration'], env)
    assert.equal(c.code, 0, c.stderr)
    const id = c.stdout.trim().split('\n').pop()!
    const out = join(t.dir, 'out')
    mkdirSync(out)
    writeFileSync(join(out, 'notes.md'), 'mine\n')
    const r = await cli(['label', 'export', '--db', db, '--campaign', id, '--out', out], env)
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /not empty/)
    assert.deepEqual(readdirSync(out), ['notes.md'], 'nothing deleted')
    const f = await cli(['label', 'export', '--db', db, '--campaign', id, '--out', out, '--force'], env)
    assert.equal(f.code, 0, f.stderr)
    assert.ok(readdirSync(out).includes('batch.json'))
  })
})
