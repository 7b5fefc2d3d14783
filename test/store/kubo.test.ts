/**
 * Kubo specifics, against the stand-in in kubo-standin.ts (no Kubo binary runs here; the stand-in follows
 * kubo v0.42.0's add, block/put and API.Authorizations code, cited there).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createStore } from '../../src/store/index.ts'
import { kuboAuthorizationHeader } from '../../src/store/kubo.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { KUBO_ACCESS_DENIED, startKuboStandin } from './kubo-standin.ts'
import { catAll, makeDataset, tempDir } from './helpers.ts'

async function addRaw(url: string, bytes: Uint8Array<ArrayBuffer>, query: string): Promise<string> {
  const form = new FormData()
  form.set('file', new Blob([bytes]), 'f')
  const res = await fetch(`${url}/api/v0/add?${query}`, { method: 'POST', body: form })
  const lines = (await res.text()).trim().split('\n')
  return JSON.parse(lines.at(-1)!).Hash
}

describe('kubo RPC client', () => {
  it('sends max-file-links=1024 with every add, and dag-json through block/put (never dag/put)', async () => {
    const kubo = await startKuboStandin()
    const t = await tempDir()
    try {
      const store = await createStore({ kind: 'kubo', apiUrl: kubo.url })
      await store.addBytes(new TextEncoder().encode('one'))
      await store.addDirectory(await makeDataset(t.dir))
      const dag = await store.putDag({ stage: 'sft', n: 1.5, list: [1, 2] })
      const adds = kubo.requests.filter((r) => r.path === '/api/v0/add')
      assert.equal(adds.length, 2)
      for (const a of adds) assert.equal(a.query.get('max-file-links'), '1024', a.query.toString())
      assert.ok(!kubo.calls.includes('/api/v0/dag/put'), kubo.calls.join(' '))
      const puts = kubo.requests.filter((r) => r.path === '/api/v0/block/put')
      assert.ok(puts.some((r) => r.query.get('cid-codec') === 'dag-json'))
      assert.ok(kubo.blocks.has(dag.toString()))
      await store.close()
    } finally {
      await kubo.close()
      await t.cleanup()
    }
  })

  it('stand-in: without max-file-links a file over 174 chunks gets another root (Kubo default 174)', async () => {
    const kubo = await startKuboStandin()
    try {
      const bytes = new Uint8Array(200 * 64).map((_, i) => i % 251) // 200 chunks of 64 bytes
      const base = 'cid-version=1&raw-leaves=true&chunker=size-64'
      const dflt = await addRaw(kubo.url, bytes, base)
      const wide = await addRaw(kubo.url, bytes, `${base}&max-file-links=1024`)
      const narrow = await addRaw(kubo.url, bytes, `${base}&max-file-links=174`)
      assert.notEqual(dflt, wide)
      assert.equal(dflt, narrow)
    } finally {
      await kubo.close()
    }
  })

  it('sends the Authorization header a node with API.Authorizations requires', async () => {
    const kubo = await startKuboStandin({ authorizations: { alice: { AuthSecret: 'bearer:s3cret', AllowedPaths: ['/api/v0'] } } })
    try {
      const denied = await createStore({ kind: 'kubo', apiUrl: kubo.url })
      await assert.rejects(denied.addBytes(new Uint8Array([1])), (e: unknown) => e instanceof Instruct3Error && e.code === 'EKUBO' && e.message.includes('Access Denied'))
      const ok = await createStore({ kind: 'kubo', apiUrl: kubo.url, authorization: 'bearer:s3cret' })
      const cid = await ok.addBytes(new TextEncoder().encode('gm'))
      assert.equal((await catAll(ok, cid)).toString(), 'gm')
      // the same secret from the environment, as a ready header value
      process.env.KUBO_RPC_AUTH = 'Bearer s3cret'
      try {
        const fromEnv = await createStore({ kind: 'kubo', apiUrl: kubo.url })
        assert.ok(await fromEnv.has(cid))
      } finally {
        delete process.env.KUBO_RPC_AUTH
      }
      const raw = await fetch(`${kubo.url}/api/v0/id`, { method: 'POST' })
      assert.equal(raw.status, 403)
      assert.equal(await raw.text(), KUBO_ACCESS_DENIED + '\n')
    } finally {
      await kubo.close()
    }
  })

  it("converts Kubo's AuthSecret forms like config.ConvertAuthSecret", () => {
    assert.equal(kuboAuthorizationHeader('bearer:tok'), 'Bearer tok')
    assert.equal(kuboAuthorizationHeader('tok'), 'Bearer tok')
    assert.equal(kuboAuthorizationHeader('basic:user:pass'), `Basic ${Buffer.from('user:pass').toString('base64')}`)
    assert.equal(kuboAuthorizationHeader('basic:dXNlcjpwYXNz'), 'Basic dXNlcjpwYXNz')
    assert.equal(kuboAuthorizationHeader('Basic abc'), 'Basic abc')
  })
})
