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

// ---- Issue 13: server paths, cookie floods, gold probing, claim hoarding, stale/wrong-chain SIWE ----

/** Text that would only appear in a response if a server file leaked into it. */
const PASSWD_LINE = /root:.*:0:0:/

test('server paths in API fields are never read: promptsPath, goldPath, /dev/zero', async () => {
  const rc = t.client()
  await rc.signIn(req)
  for (const [field, value] of [
    ['promptsPath', '/etc/passwd'],
    ['goldPath', '/etc/passwd'],
    ['promptsPath', '/dev/zero'],
    ['goldPath', '/dev/zero'],
  ] as const) {
    const r = await rc.call('POST', '/api/campaigns', { name: 'paths', prompts: ['p'], policy: 'bafy', kinds: ['ranking'], [field]: value })
    assert.equal(r.status, 400, `${field}=${value}: ${JSON.stringify(r.body).slice(0, 200)}`)
    assert.equal(r.body.error.details?.field, field)
    assert.match(r.body.error.message, /server paths are not accepted/)
    assert.doesNotMatch(JSON.stringify(r.body), PASSWD_LINE)
  }
})

test('a server path in any other API field is treated as data, never opened', async () => {
  const rc = t.client()
  await rc.signIn(req)
  const path = '/etc/passwd'
  const bodies: Array<[string, string, Record<string, unknown>]> = [
    ['POST', '/api/campaigns', { name: path, prompts: [path], policy: path, kinds: ['ranking'] }],
    ['POST', '/api/campaigns', { name: 'x', prompts: ['p'], policy: 'bafy', gold: [{ prompt: path, responses: [path, path, path, path], ranking: [0, 1, 2, 3] }] }],
    ['POST', `/api/campaigns/${encodeURIComponent(path)}/tasks/claim`, { count: 1, kinds: [path] }],
    ['POST', '/api/labels', { taskId: 1, idempotencyKey: path, label: { v: 1, response: path }, signature: path }],
    ['POST', `/api/users/${encodeURIComponent(path)}/roles`, { roles: [path] }],
    ['POST', '/api/auth/verify', { message: path, signature: path }],
  ]
  for (const [method, route, body] of bodies) {
    const r = await rc.call(method, route, body)
    assert.ok(r.status < 500, `${route}: ${r.status}`)
    assert.doesNotMatch(JSON.stringify(r.body), PASSWD_LINE, route)
  }
  for (const route of [`/api/campaigns/${encodeURIComponent(path)}`, `/api/labels/${encodeURIComponent(path)}`, `/api/campaigns/..%2F..%2Fetc%2Fpasswd/quality`]) {
    const r = await rc.call('GET', route)
    assert.ok(r.status >= 400 && r.status < 500, `${route}: ${r.status}`)
    assert.doesNotMatch(JSON.stringify(r.body), PASSWD_LINE, route)
  }
})

test('labelers do not see the policy reference or where prompts came from', async () => {
  const rc = t.client()
  await rc.signIn(req)
  const created = await rc.call('POST', '/api/campaigns', { name: 'hidden-policy', prompts: ['p'], policy: '/srv/checkpoints/policy-7', kinds: ['ranking'] })
  assert.equal(created.status, 201)
  const id = created.body.campaign.id
  const one = await a.call('GET', `/api/campaigns/${id}`)
  const all = await a.call('GET', '/api/campaigns')
  for (const body of [one.body, all.body]) {
    assert.doesNotMatch(JSON.stringify(body), /\/srv\/checkpoints/)
    assert.doesNotMatch(JSON.stringify(body), /prompts_source|created_by/)
  }
  assert.equal('goldTasks' in (one.body.progress ?? {}), false, 'labelers do not see the gold count')
  // The requester still does.
  assert.match(JSON.stringify((await rc.call('GET', `/api/campaigns/${id}`)).body), /\/srv\/checkpoints/)
})

test('random-cookie flood: limited per client address, and it does not evict other clients', async () => {
  const s = await startTestServer({ requesters: [req.address], rateLimit: { perSecond: 1, burst: 5 } })
  try {
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const c = s.client()
      c.cookie = `i3_session=${Math.random().toString(36).slice(2)}${i}`
      statuses.push((await c.call('GET', '/api/campaigns')).status)
    }
    assert.ok(statuses.filter((x) => x === 429).length >= 20, `random cookies are throttled by client address: ${statuses.join(',')}`)
  } finally {
    await s.close()
  }
})

test('rate limiter: a flood of new keys does not evict a throttled client', async () => {
  const { createRateLimiter } = await import('../../src/labeling/ratelimit.ts')
  const lim = createRateLimiter({ perSecond: 1, burst: 3, maxKeys: 10 })
  const now = 1000
  for (let i = 0; i < 3; i++) assert.equal(lim.take('victim-or-abuser', now).ok, true)
  assert.equal(lim.take('victim-or-abuser', now).ok, false)
  for (let i = 0; i < 100; i++) lim.take(`flood-${i}`, now)
  assert.equal(lim.take('victim-or-abuser', now).ok, false, 'still throttled: its bucket was not evicted and refilled')
})

/** A fresh server and campaign with gold tasks, for the gold-probing cases. */
async function goldCampaign(opts: { prompts?: number; gold?: number; goldEvery?: number; leaseSeconds?: number; maxLeases?: number } = {}) {
  const clk = testClock()
  const s = await startTestServer({ requesters: [req.address], now: clk.now, ...(opts.maxLeases ? { maxLeasesPerWallet: opts.maxLeases } : {}) })
  const rc = s.client()
  await rc.signIn(req)
  const gold = Array.from({ length: opts.gold ?? 5 }, (_, i) => ({ prompt: `gold ${i}`, responses: ['a', 'b', 'c', 'd'], ranking: [0, 1, 2, 3] }))
  const prompts = Array.from({ length: opts.prompts ?? 20 }, (_, i) => `prompt ${i}`)
  const r = await rc.call('POST', '/api/campaigns', { name: 'gold', prompts, policy: 'bafy', kinds: ['ranking'], k: 4, goldEvery: opts.goldEvery ?? 5, gold, leaseSeconds: opts.leaseSeconds ?? 600 })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  return { s, clk, rc, id: r.body.campaign.id as string }
}

test('gold probing: gold tasks do not get the highest ids', async () => {
  const { s, id } = await goldCampaign({ prompts: 40, gold: 6 })
  try {
    const rows = await s.server.ctx.db.selectFrom('tasks').select(['id', 'gold']).where('campaign_id', '=', id).execute()
    const maxNormal = Math.max(...rows.filter((r) => r.gold === null).map((r) => r.id))
    const gold = rows.filter((r) => r.gold !== null).map((r) => r.id)
    assert.equal(gold.length, 6)
    assert.ok(gold.some((g) => g < maxNormal), `gold ids ${gold} are all above every normal id (${maxNormal})`)
  } finally {
    await s.close()
  }
})

test('gold probing: gold is not every goldEvery-th claim', async () => {
  const { s, id } = await goldCampaign({ prompts: 30, gold: 10, goldEvery: 3 })
  try {
    const patterns = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const w = wallet(`gold-claim-${i}`)
      const c = s.client()
      await c.signIn(w)
      const ids: number[] = []
      for (let j = 0; j < 9; j++) ids.push(...(await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: j + 1 })).body.tasks.map((x: any) => x.taskId).slice(j))
      const gold = new Set((await s.server.ctx.db.selectFrom('tasks').select('id').where('campaign_id', '=', id).where('gold', 'is not', null).execute()).map((r) => r.id))
      patterns.add(ids.map((x) => (gold.has(x) ? 'G' : '.')).join(''))
    }
    assert.ok(![...patterns].every((p) => p === '..G..G..G'), `every labeler got gold at positions 3, 6, 9: ${[...patterns]}`)
  } finally {
    await s.close()
  }
})

test('gold probing: gold results stay hidden until export; an expired gold lease counts as failed', async () => {
  const { s, clk, rc, id } = await goldCampaign({ prompts: 20, gold: 6, goldEvery: 2, leaseSeconds: 60 })
  try {
    const w = wallet('gold-prober')
    const c = s.client()
    await c.signIn(w)
    const tasks = (await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 20 })).body.tasks
    const gold = new Set((await s.server.ctx.db.selectFrom('tasks').select('id').where('campaign_id', '=', id).where('gold', 'is not', null).execute()).map((r) => r.id))
    const goldTasks = tasks.filter((x: any) => gold.has(x.taskId))
    assert.ok(goldTasks.length >= 2, `needs 2 gold tasks, got ${goldTasks.length}`)
    // Submit one gold task wrongly; leave another unsubmitted.
    clk.advance(10_000)
    const g = goldTasks[0]
    const label = makeLabel(g, w.address, { ranking: [3, 2, 1, 0] })
    const { signature } = await signLabel(w, 31337, label)
    assert.equal((await c.call('POST', '/api/labels', { taskId: g.taskId, idempotencyKey: 'gold-probe-1', label, signature })).status, 201)
    const stats = (await c.call('GET', '/api/me/stats')).body
    const row = stats.campaigns.find((x: any) => x.campaign === id)
    assert.ok(row, JSON.stringify(stats))
    assert.equal(row.labels, 1)
    assert.equal(row.goldTotal, 0, 'no gold result before export')
    assert.equal(row.goldAccuracy, null, 'no gold result before export')
    assert.equal(row.qualityAsOf, null)
    // Let every other lease expire, then export: the unsubmitted gold leases count as failures.
    clk.advance(120_000)
    assert.equal((await rc.call('POST', `/api/campaigns/${id}/export`, {})).status, 200)
    const q = (await rc.call('GET', `/api/campaigns/${id}/quality`)).body.labelers.find((l: any) => l.address === w.address.toLowerCase())
    assert.equal(q.goldTotal, goldTasks.length, 'every leased gold task counts')
    assert.equal(q.goldFailures, goldTasks.length, 'one wrong + the rest unsubmitted')
    const after = (await c.call('GET', '/api/me/stats')).body.campaigns.find((x: any) => x.campaign === id)
    assert.equal(after.goldTotal, goldTasks.length, 'visible after export')
    assert.ok(after.qualityAsOf)
  } finally {
    await s.close()
  }
})

test('gold probing: too_fast counts from when each task was served, not from a bulk claim', async () => {
  const { s, clk, rc, id } = await goldCampaign({ prompts: 6, gold: 0, leaseSeconds: 7200 })
  try {
    const w = wallet('bulk-claimer')
    const c = s.client()
    await c.signIn(w)
    const tasks = (await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 6 })).body.tasks
    assert.equal(tasks.length, 6)
    clk.advance(3600_000) // claim everything, wait an hour, then submit all at once
    const rankings = [[0, 1, 2, 3], [1, 0, 2, 3], [0, 2, 1, 3], [2, 1, 0, 3], [3, 1, 2, 0], [0, 1, 3, 2]] // distinct: no constant_ranking flag
    for (const [i, task] of tasks.entries()) {
      const label = makeLabel(task, w.address, { ranking: rankings[i] })
      const { signature } = await signLabel(w, 31337, label)
      const r = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `bulk-task-${task.taskId}`, label, signature })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const q = (await rc.call('GET', `/api/campaigns/${id}/quality`)).body
    assert.ok(q.spamLabels >= 5, `${q.spamLabels} of 6 instant submissions flagged too_fast`)
  } finally {
    await s.close()
  }
})

test('claim hoarding: one wallet cannot lease more than the per-wallet cap', async () => {
  const { s, id } = await goldCampaign({ prompts: 60, gold: 0, maxLeases: 10 })
  try {
    const w = wallet('hoarder')
    const c = s.client()
    await c.signIn(w)
    const first = await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 1000 })
    assert.equal(first.body.tasks.length, 10)
    const again = await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 1000 })
    assert.deepEqual(again.body.tasks.map((x: any) => x.taskId), first.body.tasks.map((x: any) => x.taskId), 'the same 10 leases, no more')
    const task = first.body.tasks[0]
    const label = makeLabel(task, w.address, { ranking: [0, 1, 2, 3] })
    const { signature } = await signLabel(w, 31337, label)
    assert.equal((await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'hoard-key-1', label, signature })).status, 201)
    assert.equal((await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 1000 })).body.tasks.length, 10, 'one submitted, one more leased')
  } finally {
    await s.close()
  }
})

test('claim hoarding: the default cap is well below 1000', async () => {
  const { s, id } = await goldCampaign({ prompts: 300, gold: 0 })
  try {
    const c = s.client()
    await c.signIn(wallet('hoarder-2'))
    const n = (await c.call('POST', `/api/campaigns/${id}/tasks/claim`, { count: 1000 })).body.tasks.length
    assert.ok(n <= 100, `default cap leased ${n}`)
  } finally {
    await s.close()
  }
})

test('stale or wrong-chain SIWE messages are refused', async () => {
  const c = t.client()
  const sessions = await count('sessions')
  const wrongChain = await c.signIn(alice, { chainId: 1 })
  assert.equal(wrongChain.status, 401)
  assert.match(wrongChain.body.error.message, /chain/)
  const stale = await c.signIn(alice, { issuedAt: new Date(clock.now() - 3 * 3600_000) })
  assert.equal(stale.status, 401)
  assert.match(stale.body.error.message, /issued/)
  const future = await c.signIn(alice, { issuedAt: new Date(clock.now() + 3 * 3600_000) })
  assert.equal(future.status, 401)
  assert.match(future.body.error.message, /issued/)
  assert.equal(await count('sessions'), sessions, 'no session created')
})

test('used nonces and expired sessions are purged', async () => {
  const clk = testClock()
  const s = await startTestServer({ now: clk.now, sessionTtlMs: 3600_000, nonceTtlMs: 600_000 })
  try {
    const n = (tbl: 'nonces' | 'sessions') => s.server.ctx.db.selectFrom(tbl).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst().then((r) => Number(r!.n))
    for (let i = 0; i < 5; i++) assert.equal((await s.client().signIn(wallet(`purge-${i}`), { issuedAt: new Date(clk.now()) })).status, 200)
    for (let i = 0; i < 5; i++) await s.client().call('GET', '/api/auth/nonce') // issued, never used
    assert.equal(await n('sessions'), 5)
    assert.equal(await n('nonces'), 10)
    clk.advance(2 * 3600_000)
    await s.client().call('GET', '/api/auth/nonce')
    assert.equal(await n('sessions'), 0, 'expired sessions purged')
    assert.equal(await n('nonces'), 1, 'used and expired nonces purged')
  } finally {
    await s.close()
  }
})
