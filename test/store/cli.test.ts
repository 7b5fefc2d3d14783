import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { createStore } from '../../src/store/index.ts'
import { exportCar } from '../../src/store/car.ts'
import { tempDir, bytesOf, cli } from './helpers.ts'


// Each CLI start loads every area's commands, so this file spawns as few processes as it can:
// set-up goes through the library, and only the bad-input exits are checked through the binary.
describe('instruct3 store / verify CLI: bad input exits 1 with a clear error', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  let car: Buffer
  let manifest: string
  let fileCid: string

  before(async () => {
    t = await tempDir()
    env = { INSTRUCT3_HOME: join(t.dir, 'home') }
    const s = await createStore({ kind: 'helia', dir: join(t.dir, 'home', 'ipfs') })
    try {
      const f = await s.addBytes(bytesOf(1_500_000, 5))
      fileCid = f.toString()
      await exportCar(s, f, join(t.dir, 'a.car'))
      car = await readFile(join(t.dir, 'a.car'))
      // a run manifest linking a CID this store does not have (written by hand: writeManifest would refuse it)
      manifest = (await s.putDag({
        kind: 'instruct3/run-manifest@1', stage: 'sft', config: null, code: { package: 'instruct3', version: '0', gitCommit: null, gitDirty: null },
        inputs: { corpus: CID.parse(ABSENT) }, outputs: { checkpoint: f }, metrics: {},
        environment: { node: 'v22', platform: 'linux', arch: 'x64', cpu: 'x', cpus: 1 }, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z',
      }, { pin: false })).toString()
    } finally {
      await s.close()
    }
  })
  after(async () => { await t.cleanup() })

  it('malformed CID: nothing written', async () => {
    const out = join(t.dir, 'never.bin')
    const r = await cli(['store', 'get', 'bafyNOTaCID', out], env)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: .*malformed CID "bafyNOTaCID"/m)
    assert.equal(existsSync(out), false)
  })

  it('truncated CAR: nothing imported', async () => {
    const other = join(t.dir, 'other')
    await writeFile(join(t.dir, 'cut.car'), car.subarray(0, car.length - 500))
    const r = await cli(['store', 'import-car', join(t.dir, 'cut.car'), '--repo', other], env)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /CAR is truncated/)
    await assertEmpty(other, fileCid)
  })

  it('tampered CAR: nothing imported', async () => {
    const other = join(t.dir, 'other2')
    const bad = Buffer.from(car)
    bad[bad.length - 100] ^= 1
    await writeFile(join(t.dir, 'bad.car'), bad)
    const r = await cli(['store', 'import-car', join(t.dir, 'bad.car'), '--repo', other], env)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /CAR holds a tampered block/)
    await assertEmpty(other, fileCid)
  })

  it('verify of a manifest whose links do not resolve: problems listed', async () => {
    const r = await cli(['verify', manifest, '--timeout', '500'], env)
    assert.equal(r.code, 1)
    assert.match(r.stdout, new RegExp(`problem: artifact ${ABSENT} \\(sft.inputs.corpus\\): block .* not found`))
    assert.match(r.stdout, new RegExp(`^ok +${fileCid} .* sft.outputs.checkpoint$`, 'm'))
    assert.match(r.stderr, /verification failed: 1 problem/)
  })
})

const ABSENT = 'bafkreidvfnnu2r6qeoq5cj2ryoumfwhvyuqiqikxf5rlpdycrqbmiy7tiq'

async function assertEmpty(repo: string, root: string): Promise<void> {
  const s = await createStore({ kind: 'helia', dir: repo })
  try {
    let n = 0
    for await (const _ of s.pins()) n++
    assert.equal(n, 0, 'nothing pinned')
    assert.equal(await s.hasBlock(CID.parse(root)), false, 'root block not imported')
  } finally {
    await s.close()
  }
}
