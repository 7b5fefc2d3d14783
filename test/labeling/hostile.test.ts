import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSiweMessage } from 'viem/siwe'
import { makeLabel, signLabel, type ApiClient } from '../../src/labeling/client.ts'
import { startTestServer, testClock, wallet } from './helpers.ts'

// One server for the whole suite; every case checks a 4xx with a clear message AND that nothing was stored.
const clock = testClock()
const req = wallet('h-requester')
const alice = wallet('h-alice')
const bob = wallet('h-bob')
let t: Awaited<ReturnType<typeof startTestServer>>
let a: ApiClient
let b: ApiClient
let cid = ''
let task: any

const count = async (table: 'labels' | 'sessions') => Number((await t.server.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())!.n)

before(async () => {
  t = await startTestServer({ requesters: [req.address], now: clock.now, sessionTtlMs: 3600_000, bodyLimit: 16 * 1024 })
  const rc = t.client()
  await rc.signIn(req)
  cid = (await rc.call('POST', '/api/campaigns', { name: 'hostile', prompts: ['p1', 'p2', 'p3'], policy: 'bafy', kinds: ['ranking'], k: 5, goldEvery: 50 })).body.campaign.id
  a = t.client()
  b = t.client()
  await a.signIn(alice)
  await b.signIn(bob)
  task = (await a.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks[0]
  assert.equal(task.kind, 'ranking')
})
after(() => t.close())

async function submit(c: ApiClient, w: ReturnType<typeof wallet>, body: Record<string, unknown>, signer = w) {
  const label = makeLabel(task, w.address, body)
  const { signature } = await signLabel(signer, 31337, label)
  return { label, signature }
}

async function expect4xx(p: Promise<{ status: number; body: any }>, status: number, re: RegExp) {
  const before = await count('labels')
  const r = await p
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.match(r.body.error.message, re)
  assert.equal(await count('labels'), before, 'nothing stored')
}

test('signature by another wallet', async () => {
  const { label, signature } = await submit(a, alice, { ranking: [0, 1, 2, 3, 4] }, bob)
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-sig-0001', label, signature }), 400, /signature does not verify/)
})

test('signature over different content (mismatched)', async () => {
  const { signature } = await submit(a, alice, { ranking: [0, 1, 2, 3, 4] })
  const label = makeLabel(task, alice.address, { ranking: [1, 0, 2, 3, 4] })
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-sig-0002', label, signature }), 400, /signature does not verify/)
})

test('garbage signature', async () => {
  const label = makeLabel(task, alice.address, { ranking: [0, 1, 2, 3, 4] })
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-sig-0003', label, signature: '0x1234' }), 400, /65-byte/)
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-sig-0004', label, signature: '0x' + 'ab'.repeat(65) }), 400, /signature does not verify/)
})

test('ranking that is not a permutation (with ties)', async () => {
  for (const [r, re] of [
    [[0, 2, 2, 3, 4], /not a permutation with ties/],
    [[0, 1, 2, 3], /one rank per output \(5\)/],
    [[0, 1, 2, 3, 9], /integer in 0\.\.4/],
    [[0, 1, 2, 3, '4'], /integer/],
  ] as const) {
    const { label, signature } = await submit(a, alice, { ranking: r as any })
    await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-rank-' + String(r).length, label, signature }), 422, re)
  }
  const { label, signature } = await submit(a, alice, { ranking: [0, 1, 2, 3, 4], likert: [8, 1, 1, 1, 1] })
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'bad-likert-1', label, signature }), 422, /Likert score must be an integer 1\.\.7/)
})

test('task not assigned to you', async () => {
  const label = makeLabel(task, bob.address, { ranking: [0, 1, 2, 3, 4] })
  const { signature } = await signLabel(bob, 31337, label)
  await expect4xx(b.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'not-mine-01', label, signature }), 403, /not assigned to you/)
  // and a label claiming to be by someone else
  const forged = makeLabel(task, alice.address, { ranking: [0, 1, 2, 3, 4] })
  const s2 = await signLabel(alice, 31337, forged)
  await expect4xx(b.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'not-mine-02', label: forged, signature: s2.signature }), 403, /not assigned to you/)
})

test('oversized body', async () => {
  const { label, signature } = await submit(a, alice, { ranking: [0, 1, 2, 3, 4] })
  await expect4xx(a.call('POST', '/api/labels', JSON.stringify({ taskId: task.taskId, idempotencyKey: 'too-big-01', label, signature, pad: 'x'.repeat(20_000) })), 413, /larger than 16384 bytes/)
})

test('not JSON, wrong content type, unknown fields', async () => {
  await expect4xx(a.call('POST', '/api/labels', '{not json'), 400, /not valid JSON/)
  await expect4xx(a.call('POST', '/api/labels', 'x', { 'content-type': 'text/plain' }), 415, /application\/json/)
  const { label, signature } = await submit(a, alice, { ranking: [0, 1, 2, 3, 4], extra: 1 } as any)
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'unknown-f-1', label, signature }), 422, /unknown field "extra"/)
})

test('replayed SIWE nonce', async () => {
  const c = t.client()
  const first = await c.signIn(alice)
  assert.equal(first.status, 200)
  const sessions = await count('sessions')
  const replay = await c.call('POST', '/api/auth/verify', { message: first.message, signature: first.signature })
  assert.equal(replay.status, 401)
  assert.match(replay.body.error.message, /nonce already used/)
  assert.equal(await count('sessions'), sessions, 'no session created')
})

test('SIWE for another domain, unknown nonce, bad signature', async () => {
  const c = t.client()
  const r = await c.signIn(alice, { domain: 'evil.example' })
  assert.equal(r.status, 401)
  assert.match(r.body.error.message, /does not match this server/)
  const host = new URL(t.url).host
  const message = createSiweMessage({ address: alice.address, chainId: 31337, domain: host, nonce: 'abcdefgh12345678', uri: t.url + '/', version: '1' })
  const u = await c.call('POST', '/api/auth/verify', { message, signature: await alice.signMessage({ message }) })
  assert.equal(u.status, 401)
  assert.match(u.body.error.message, /unknown SIWE nonce/)
  const { body } = await c.call('GET', '/api/auth/nonce')
  const m2 = createSiweMessage({ address: alice.address, chainId: 31337, domain: host, nonce: body.nonce, uri: t.url + '/', version: '1' })
  const bad = await c.call('POST', '/api/auth/verify', { message: m2, signature: await bob.signMessage({ message: m2 }) })
  assert.equal(bad.status, 401)
  assert.match(bad.body.error.message, /signature does not match/)
})

test('expired SIWE message and expired session', async () => {
  const c = t.client()
  const r = await c.signIn(alice, { expirationTime: new Date(clock.now() - 1000) })
  assert.equal(r.status, 401)
  assert.match(r.body.error.message, /expired or not yet valid/)
  const s = t.client()
  assert.equal((await s.signIn(alice, { expirationTime: new Date(clock.now() + 60_000) })).status, 200)
  assert.equal((await s.call('GET', '/api/me')).status, 200)
  clock.advance(61_000)
  const me = await s.call('GET', '/api/me')
  assert.equal(me.status, 401)
  assert.match(me.body.error.message, /session expired/)
  const { label, signature } = await submit(s, alice, { ranking: [0, 1, 2, 3, 4] })
  await expect4xx(s.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'expired-s-1', label, signature }), 401, /session expired/)
  await expect4xx(t.client().call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'no-session', label, signature }), 401, /not signed in/)
})

test('requester-only routes refuse labelers', async () => {
  const r = await a.call('POST', '/api/campaigns', { name: 'x', prompts: ['p'], policy: 'p' })
  assert.equal(r.status, 403)
  assert.match(r.body.error.message, /requester role/)
})

test('idempotency key reused with different content', async () => {
  const ok = await submit(a, alice, { ranking: [0, 1, 1, 2, 3] })
  const r1 = await a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'idem-key-01', ...ok })
  assert.equal(r1.status, 201, JSON.stringify(r1.body))
  const other = await submit(a, alice, { ranking: [0, 0, 1, 2, 3] })
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'idem-key-01', ...other }), 409, /different label content/)
  await expect4xx(a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'idem-key-02', ...other }), 409, /already submitted/)
})

test('closed campaign', async () => {
  const task2 = (await a.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks[0]
  const rc = t.client()
  await rc.signIn(req)
  assert.equal((await rc.call('POST', `/api/campaigns/${cid}/close`, {})).status, 200)
  const label = makeLabel(task2, alice.address, { ranking: [0, 1, 2, 3, 4] })
  const { signature } = await signLabel(alice, 31337, label)
  await expect4xx(a.call('POST', '/api/labels', { taskId: task2.taskId, idempotencyKey: 'closed-c-01', label, signature }), 409, /campaign .* is closed/)
  await expect4xx(a.call('POST', `/api/campaigns/${cid}/tasks/claim`, {}), 409, /closed/)
})
