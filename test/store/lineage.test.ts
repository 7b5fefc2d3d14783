import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { createStore } from '../../src/store/index.ts'
import { writeManifest, writePipelineManifest, RUN_KIND, type RunManifest } from '../../src/store/manifest.ts'
import { verifyManifest } from '../../src/store/verify.ts'
import { reproduce } from '../../src/store/reproduce.ts'
import type { HeliaStore } from '../../src/store/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { corruptHeliaBlock, makeDataset, tempDir } from './helpers.ts'

const isErr = (code: string) => (err: unknown) => err instanceof Instruct3Error && err.code === code
const enc = (s: string) => new TextEncoder().encode(s)

// a toy deterministic "stage": uppercase the bytes of its input
async function upperStage(store: HeliaStore, input: CID): Promise<CID> {
  const parts: Uint8Array[] = []
  for await (const p of store.cat(input)) parts.push(p)
  return store.addBytes(enc(Buffer.concat(parts).toString().toUpperCase()))
}

describe('lineage: run manifests, verify, reproduce', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let store: HeliaStore
  let raw: CID, corpus: CID, ckpt: CID, ingest: CID, sft: CID, pipeline: CID
  const times = { startedAt: '2026-11-25T10:00:00.000Z', finishedAt: '2026-11-25T10:05:00.000Z' }

  before(async () => {
    t = await tempDir()
    store = await createStore({ kind: 'helia', dir: join(t.dir, 'repo') })
    raw = await store.addBytes(enc('gm gm wagmi'))
    corpus = await store.addDirectory(await makeDataset(t.dir))
    ckpt = await upperStage(store, raw)
    ingest = await writeManifest(store, { stage: 'ingest', config: { shards: 2 }, inputs: { raw }, outputs: { corpus }, metrics: { rows: 2 }, ...times })
    sft = await writeManifest(store, { stage: 'sft', config: { lr: 3e-4 }, inputs: { 'from:ingest/corpus': corpus, 'base-text': raw }, outputs: { checkpoint: ckpt }, metrics: { loss: 1.25 }, previous: ingest, ...times })
    pipeline = await writePipelineManifest(store, { name: 'tiny', stages: [ingest, sft], ...times })
  })
  after(async () => {
    await store.close()
    await t.cleanup()
  })

  it('records code version and environment in dag-json with real links', async () => {
    const m = await store.getDag<RunManifest>(sft)
    assert.equal(m.kind, RUN_KIND)
    assert.equal(m.code.package, 'instruct3')
    assert.match(m.code.gitCommit ?? '', /^[0-9a-f]{40}$/)
    assert.equal(m.environment.node, process.version)
    assert.ok(m.inputs['from:ingest/corpus'].equals(corpus))
    assert.ok(m.previous?.equals(ingest))
  })

  it('verifies a consistent pipeline: every artifact re-hashed, chaining checked', async () => {
    const r = await verifyManifest(store, pipeline)
    assert.deepEqual(r.problems, [])
    assert.equal(r.ok, true)
    assert.equal(r.kind, 'pipeline')
    assert.deepEqual(r.stages.map((s) => s.stage), ['ingest', 'sft'])
    assert.equal(r.artifacts.length, 3, 'raw, corpus, checkpoint each verified once')
    const c = r.artifacts.find((a) => a.cid === corpus.toString())!
    assert.deepEqual(c.usedAs, ['ingest.outputs.corpus', 'sft.inputs.from:ingest/corpus'])
    assert.ok(c.blocks >= 5 && c.bytes > 2_500_000)
    // a lone stage manifest follows `previous` back to check its from: input
    assert.equal((await verifyManifest(store, sft)).ok, true)
  })

  it('reports a stage that did not consume the previous stage output', async () => {
    const other = await store.addBytes(enc('some other corpus'))
    const bad = await writeManifest(store, { stage: 'sft', inputs: { 'from:ingest/corpus': other }, outputs: { checkpoint: ckpt }, ...times })
    const ghost = await writeManifest(store, { stage: 'rm', inputs: { 'from:dpo/policy': ckpt, 'from:ingest/nope': corpus }, outputs: {}, ...times })
    const p = await writePipelineManifest(store, { name: 'bad', stages: [ingest, bad, ghost], ...times })
    const r = await verifyManifest(store, p)
    assert.equal(r.ok, false)
    assert.equal(r.problems.length, 3, r.problems.join('\n'))
    assert.match(r.problems[0], /sft: input "from:ingest\/corpus" is \w+ but stage "ingest" output "corpus" is \w+/)
    assert.match(r.problems[1], /rm: input "from:dpo\/policy" names stage "dpo", which did not run before it/)
    assert.match(r.problems[2], /stage "ingest" did not produce \(it has: corpus\)/)
  })

  it('reports artifacts that are gone or tampered', async () => {
    const t2 = await tempDir()
    const s2 = await createStore({ kind: 'helia', dir: t2.dir })
    try {
      const a = await s2.addBytes(enc('artifact A'))
      const b = await s2.addBytes(enc('artifact B'))
      const m = await writeManifest(s2, { stage: 'x', inputs: { a }, outputs: { b }, ...times })
      // gc would keep them (the pinned manifest links them): damage the repository directly
      await corruptHeliaBlock(join(t2.dir, 'blocks'), a, 'flip')
      await corruptHeliaBlock(join(t2.dir, 'blocks'), b, 'delete')
      const r = await verifyManifest(s2, m, { timeoutMs: 500 })
      assert.equal(r.ok, false)
      assert.equal(r.problems.length, 2, r.problems.join('\n'))
      assert.match(r.problems[0], new RegExp(`artifact ${a} \\(x.inputs.a\\): block ${a} is corrupt`))
      assert.match(r.problems[1], new RegExp(`artifact ${b} \\(x.outputs.b\\): block ${b} not found`))
      assert.deepEqual(r.artifacts.map((x) => x.ok), [false, false])
    } finally {
      await s2.close()
      await t2.cleanup()
    }
  })

  it('refuses to write a manifest whose links do not resolve (nothing written)', async () => {
    const pinsBefore: string[] = []
    for await (const p of store.pins()) pinsBefore.push(p.toString())
    const absent = CID.parse('bafkreidvfnnu2r6qeoq5cj2ryoumfwhvyuqiqikxf5rlpdycrqbmiy7tiq')
    await assert.rejects(writeManifest(store, { stage: 'eval', inputs: { 'from:sft/checkpoint': absent }, outputs: { report: raw }, ...times }), (e) => isErr('EUNRESOLVED')(e) && /inputs.from:sft\/checkpoint -> bafkrei/.test((e as Error).message))
    await assert.rejects(writeManifest(store, { stage: 'bad name!', inputs: {}, outputs: {}, ...times }), isErr('EMANIFEST'))
    await assert.rejects(writeManifest(store, { stage: 'x', inputs: { a: 'bafy' as unknown as CID }, outputs: {}, ...times }), isErr('EMANIFEST'))
    await assert.rejects(writePipelineManifest(store, { name: 'p', stages: [raw], ...times }), isErr('EUNRESOLVED'))
    const orphan = await store.putDag({ link: absent }, { pin: false })
    await assert.rejects(store.pin(orphan), isErr('ENOTFOUND'), 'a DAG with a missing block cannot be pinned')
    const pinsAfter: string[] = []
    for await (const p of store.pins()) pinsAfter.push(p.toString())
    assert.deepEqual(pinsAfter.sort(), pinsBefore.sort())
  })

  it('verify: malformed CID throws, non-manifest is a problem', async () => {
    await assert.rejects(verifyManifest(store, 'zzz'), isErr('ECID'))
    const notManifest = await store.putDag({ hello: 'world' })
    const r = await verifyManifest(store, notManifest)
    assert.equal(r.ok, false)
    assert.match(r.problems.join('\n'), /kind: expected/)
    const missing = await verifyManifest(store, 'baguqeerao2mbbpgw7f3k3wn5aohdbeqgdpq2fcyt4xgfpwd6ajh6mhqnfuqa', { timeoutMs: 300 })
    assert.equal(missing.ok, false)
    assert.match(missing.problems[0], /cannot be read/)
  })

  it('reproduce: re-running a deterministic stage gives identical CIDs; a changed one does not', async () => {
    const same = await reproduce(store, pipeline, async (m) => ({ checkpoint: await upperStage(store, m.inputs['base-text']) }), { stage: 'sft' })
    assert.equal(same.identical, true)
    assert.deepEqual(same.outputs, [{ name: 'checkpoint', recorded: ckpt.toString(), reproduced: ckpt.toString(), same: true }])
    const diff = await reproduce(store, sft, async () => ({ checkpoint: await store.addBytes(enc('GM GM WAGMI!')), extra: raw }))
    assert.equal(diff.identical, false)
    assert.deepEqual(diff.outputs.map((o) => [o.name, o.same]), [['checkpoint', false], ['extra', false]])
    await assert.rejects(reproduce(store, pipeline, async () => ({})), isErr('EMANIFEST'))
    await assert.rejects(reproduce(store, pipeline, async () => ({}), { stage: 'nope' }), isErr('EMANIFEST'))
  })
})
