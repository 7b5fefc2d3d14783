import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { makeLabel, signLabel } from '../../src/labeling/client.ts'
import { labelMessage, verifyLabelSignatureViem } from '../../src/labeling/signature.ts'
import { verifyMerkleProof } from '../../src/batch/index.ts'
import { contentHash } from '../../src/labeling/canonical.ts'
import { parseComparison, parseDemonstration } from '../../src/data/formats.ts'
import { startTestServer, testClock, wallet, PROMPTS } from './helpers.ts'

test('campaign -> overlap assignment -> signed labels -> review -> quality -> export with proofs', async () => {
  const clock = testClock()
  const req = wallet('requester')
  const rev = wallet('reviewer')
  const labelers = ['l1', 'l2', 'l3', 'l4'].map(wallet)
  const addedDirs: string[][] = []
  const addToStore = async (dir: string) => {
    addedDirs.push(readdirSync(dir).sort())
    return 'bafy-test-dataset-cid'
  }
  // randomInt 0: every claim starts with the gold task while one is left, so each labeler meets gold (the
  // quality assertions below need the contrarian to fail one); production draws placement from crypto.
  const t = await startTestServer({ requesters: [req.address], reviewers: [rev.address], now: clock.now, randomInt: () => 0, addToStore, spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 10 } })
  try {
    const rc = t.client()
    assert.equal((await rc.signIn(req)).status, 200)
    const gold = [{ prompt: 'gold prompt', responses: ['best', 'good', 'meh', 'bad'], ranking: [0, 1, 2, 3] }]
    const cr = await rc.call('POST', '/api/campaigns', { name: 'test', prompts: PROMPTS.slice(0, 2), policy: 'bafy-policy-cid', k: 4, overlap: 3, goldEvery: 2, gold, leaseSeconds: 60 })
    assert.equal(cr.status, 201, JSON.stringify(cr.body))
    const cid: string = cr.body.campaign.id

    // Each labeler claims everything they can: 2 demonstrations (overlap 1) + 2 rankings (overlap 3) + gold.
    const seen = new Map<number, Set<string>>()
    const clients = []
    for (const w of labelers) {
      const c = t.client()
      assert.equal((await c.signIn(w)).status, 200)
      clients.push(c)
      const { body } = await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { count: 10 })
      for (const task of body.tasks) {
        assert.equal('gold' in task, false, 'gold tasks are unseen')
        const s = seen.get(task.taskId) ?? new Set()
        s.add(w.address)
        seen.set(task.taskId, s)
        let bodyFields
        if (task.kind === 'demonstration') bodyFields = { response: `A careful demonstration by ${w.address.slice(0, 8)} for: ${task.prompt}` }
        else {
          assert.equal(task.outputs.length, 4)
          // labeler l1 ranks in reverse (disagrees with consensus and gold)
          const r = w === labelers[0] ? [3, 2, 1, 0] : [0, 1, 2, 2]
          bodyFields = { ranking: r, likert: [6, 5, 3, 2], flags: { hallucination: [3] } }
        }
        const label = makeLabel(task, w.address, bodyFields)
        const { labelHash, signature } = await signLabel(w, 31337, label)
        const r = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `k-${task.taskId}-${w.address}`, label, signature })
        assert.equal(r.status, 201, JSON.stringify(r.body))
        assert.equal(r.body.labelHash, labelHash)
        // retry is idempotent
        const again = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `k-${task.taskId}-${w.address}`, label, signature })
        assert.equal(again.status, 200)
        assert.equal(again.body.duplicate, true)
      }
    }
    // overlap: every non-gold ranking task went to exactly 3 labelers, demonstrations to 1
    const rows = await t.server.ctx.db.selectFrom('tasks').selectAll().where('campaign_id', '=', cid).execute()
    for (const row of rows) {
      const n = seen.get(row.id)?.size ?? 0
      if (row.kind === 'ranking' && !row.gold) assert.equal(n, 3, `ranking task ${row.id}`)
      if (row.kind === 'demonstration') assert.equal(n, 1)
      if (row.gold) assert.ok(n >= 1, 'gold task was mixed in')
    }
    const labelCount = (await t.server.ctx.db.selectFrom('labels').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())!.n
    // a review task exists for each demonstration; authors cannot get their own
    const revc = t.client()
    await revc.signIn(rev)
    const rv = await revc.call('POST', `/api/campaigns/${cid}/tasks/claim`, { count: 10, kinds: ['review'] })
    assert.equal(rv.body.tasks.length, 2)
    for (const task of rv.body.tasks) {
      const label = makeLabel(task, rev.address, { target: task.target, verdict: 'approve' })
      const { signature } = await signLabel(rev, 31337, label)
      assert.equal((await revc.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `review-key-${task.taskId}`, label, signature })).status, 201)
    }
    // a labeler (not reviewer) never gets review tasks
    assert.equal((await clients[0].call('POST', `/api/campaigns/${cid}/tasks/claim`, { kinds: ['review'] })).body.tasks.length, 0)

    const q = await rc.call('GET', `/api/campaigns/${cid}/quality`)
    assert.equal(q.status, 200)
    const bad = q.body.labelers.find((x: any) => x.address === labelers[0].address.toLowerCase())
    const good = q.body.labelers.find((x: any) => x.address === labelers[1].address.toLowerCase())
    assert.ok(good.qualityBps > bad.qualityBps, `reputation: agreeing labeler ${good.qualityBps} > contrarian ${bad.qualityBps}`)
    assert.equal(bad.goldFailures, 1)
    assert.equal(good.goldFailures, 0)

    const ex = await rc.call('POST', `/api/campaigns/${cid}/export`, {})
    assert.equal(ex.status, 200, JSON.stringify(ex.body))
    const batch = JSON.parse(readFileSync(join(ex.body.dir, 'batch.json'), 'utf8'))
    assert.equal(batch.labelCount, Number(labelCount) + 2)
    assert.equal(batch.datasetCid, 'bafy-test-dataset-cid')
    assert.deepEqual(addedDirs, [['comparisons.jsonl', 'demonstrations.jsonl', 'labels.jsonl', 'prompts.jsonl']], 'the store gets the dataset files, batch.json records their CID')
    for (const l of batch.labels) assert.ok(verifyMerkleProof(l.proof, batch.merkleRoot, l.labelHash))
    const labels = readFileSync(join(ex.body.dir, 'labels.jsonl'), 'utf8').trim().split('\n').map((s) => JSON.parse(s))
    for (const l of labels) {
      assert.equal(contentHash(l.content), l.labelHash)
      assert.ok(await verifyLabelSignatureViem(l.chainId, l.labeler, labelMessage(l.content, l.labelHash), l.signature as Hex), 'export signatures verify with viem')
    }
    const comps = readFileSync(join(ex.body.dir, 'comparisons.jsonl'), 'utf8').trim().split('\n').map((s, i) => parseComparison(JSON.parse(s), { file: 'comparisons.jsonl', line: i + 1 }))
    assert.equal(comps.length, 2)
    // two labelers tie outputs 2 and 3 (abstain on that pair), the reversed one puts 3 above 2: 3 wins the pair
    for (const c of comps) assert.deepEqual(c.ranking, [0, 1, 3, 2], 'Copeland consensus of 2 agreeing + 1 reversed')
    assert.ok(comps.every((c) => c.flags?.hallucination === true && c.likert?.length === 4))
    const demos = readFileSync(join(ex.body.dir, 'demonstrations.jsonl'), 'utf8').trim().split('\n').map((s) => parseDemonstration(JSON.parse(s)))
    assert.equal(demos.length, 2)
    assert.ok(demos.every((d) => d.signature && d.labeler))
  } finally {
    await t.close()
  }
})

test('expired leases return tasks to the pool; the late labeler is refused', async () => {
  const clock = testClock()
  const req = wallet('requester')
  const t = await startTestServer({ requesters: [req.address], now: clock.now })
  try {
    const rc = t.client()
    await rc.signIn(req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'lease', prompts: ['only prompt'], policy: 'ckpt/policy', kinds: ['demonstration'], leaseSeconds: 30 })).body.campaign.id
    const a = t.client()
    const b = t.client()
    const wa = wallet('la')
    await a.signIn(wa)
    await b.signIn(wallet('lb'))
    const [task] = (await a.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks
    assert.ok(task)
    assert.equal((await b.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks.length, 0, 'slot is leased')
    clock.advance(31_000)
    const got = (await b.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks
    assert.equal(got.length, 1)
    assert.equal(got[0].taskId, task.taskId)
    const label = makeLabel(task, wa.address, { response: 'late answer' })
    const { signature } = await signLabel(wa, 31337, label)
    const r = await a.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'late-key-1', label, signature })
    assert.equal(r.status, 409)
    assert.match(r.body.error.message, /lease .* expired/)
  } finally {
    await t.close()
  }
})

test('rate limits answer 429 with Retry-After; requests are logged as JSON lines', async () => {
  const lines: string[] = []
  const { createJsonLogger } = await import('../../src/labeling/log.ts')
  const t = await startTestServer({ rateLimit: { perSecond: 1, burst: 3 }, logger: createJsonLogger({ write: (s: string) => lines.push(s) }) })
  try {
    const c = t.client()
    const codes: number[] = []
    for (let i = 0; i < 5; i++) codes.push((await c.call('GET', '/api/campaigns')).status)
    assert.deepEqual(codes.slice(0, 3), [401, 401, 401])
    assert.equal(codes[4], 429)
    const res = await fetch(t.url + '/api/campaigns')
    assert.equal(res.status, 429)
    assert.ok(Number(res.headers.get('retry-after')) >= 1)
    assert.match((await res.json()).error.message, /too many requests/)
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
    assert.ok(logged.length >= 5)
    assert.ok(logged.every((l) => l.level === 'info' && l.method === 'GET' && typeof l.ms === 'number' && typeof l.status === 'number' && l.time))
  } finally {
    await t.close()
  }
})

test('reviewers never get their own work to review', async () => {
  const req = wallet('own-req')
  const r1 = wallet('own-r1')
  const r2 = wallet('own-r2')
  const t = await startTestServer({ requesters: [req.address], reviewers: [r1.address, r2.address] })
  try {
    const rc = t.client()
    await rc.signIn(req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'own', prompts: ['p1', 'p2', 'p3'], policy: 'x', kinds: ['demonstration'] })).body.campaign.id
    const hashes = new Map<string, string>()
    for (const w of [r1, r2]) {
      const c = t.client()
      await c.signIn(w)
      const [task] = (await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { kinds: ['demonstration'] })).body.tasks
      const label = makeLabel(task, w.address, { response: 'my own answer from ' + w.address })
      const { signature } = await signLabel(w, 31337, label)
      const r = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: 'own-demo-' + w.address.slice(2, 10), label, signature })
      assert.equal(r.status, 201)
      hashes.set(w.address, r.body.labelHash)
    }
    for (const [w, other] of [[r1, r2], [r2, r1]]) {
      const c = t.client()
      await c.signIn(w)
      const got = (await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { count: 10, kinds: ['review'] })).body.tasks
      assert.equal(got.length, 1)
      assert.equal(got[0].target, hashes.get(other.address), 'gets the other reviewer’s demonstration, never their own')
    }
  } finally {
    await t.close()
  }
})

test('ranking outputs come from the sampler built for the campaign policy', async () => {
  const req = wallet('sf-req')
  const policies: string[] = []
  const t = await startTestServer({
    requesters: [req.address],
    samplerFor: async (policy) => {
      policies.push(policy)
      return async (prompt, k) => Array.from({ length: k }, (_, i) => `${policy} says ${i} to ${prompt}`)
    },
  })
  try {
    const rc = t.client()
    await rc.signIn(req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'sf', prompts: ['hello'], policy: 'runs/ppo/ckpt-7', kinds: ['ranking'], k: 6 })).body.campaign.id
    const [task] = (await rc.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})).body.tasks
    assert.deepEqual(policies, ['runs/ppo/ckpt-7'])
    assert.equal(task.outputs.length, 6)
    assert.equal(task.outputs[5], 'runs/ppo/ckpt-7 says 5 to hello')
  } finally {
    await t.close()
  }
})
