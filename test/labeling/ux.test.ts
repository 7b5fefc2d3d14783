import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { makeLabel, signLabel, type ApiClient } from '../../src/labeling/client.ts'
import { contentHash } from '../../src/labeling/canonical.ts'
import { labelMessage, labelTypedData, verifyLabelSignatureViem } from '../../src/labeling/signature.ts'
import { guidelinesHash, DEFAULT_GUIDELINES } from '../../src/labeling/guidelines.ts'
import { QUIZZES } from '../../src/labeling/categories.ts'
import { activeMs, payDistribution } from '../../src/labeling/timing.ts'
import { categoryLevel } from '../../src/labeling/qualify.ts'
import { parsePrompt } from '../../src/data/formats.ts'
import { startTestServer, testClock, wallet } from './helpers.ts'

const NO_SPAM = { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 100 }
type W = ReturnType<typeof wallet>

async function signedIn(t: Awaited<ReturnType<typeof startTestServer>>, w: W, clock?: { now: () => number }): Promise<ApiClient> {
  const c = t.client()
  // SIWE messages must be issued near the server's clock (which some tests move forward).
  assert.equal((await c.signIn(w, clock ? { issuedAt: new Date(clock.now()) } : {})).status, 200)
  return c
}
async function submit(c: ApiClient, w: W, task: any, body: any, key = `k-${task.taskId}-${w.address.slice(2, 10)}`) {
  const label = makeLabel(task, w.address, body)
  const { signature } = await signLabel(w, 31337, label)
  return c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: key, label, signature })
}
const claim = async (c: ApiClient, cid: string, count = 1, kinds?: string[]) => (await c.call('POST', `/api/campaigns/${cid}/tasks/claim`, { count, ...(kinds ? { kinds } : {}) })).body.tasks

test('guidelines: default v1 shown with every task, new versions, the label records and signs the version it was made under', async () => {
  const clock = testClock()
  const req = wallet('g-req')
  const lab = wallet('g-lab')
  const t = await startTestServer({ requesters: [req.address], now: clock.now, spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'g', prompts: ['p1', 'p2', 'p3'], policy: 'x', kinds: ['demonstration'] })).body.campaign.id
    const lc = await signedIn(t, lab)
    const g1 = (await lc.call('GET', `/api/campaigns/${cid}/guidelines`)).body
    assert.equal(g1.version, 1)
    assert.equal(g1.markdown, DEFAULT_GUIDELINES)
    assert.match(g1.markdown, /Helpful[\s\S]*Truthful[\s\S]*Harmless/)
    assert.equal(g1.hash, guidelinesHash(DEFAULT_GUIDELINES))
    const [t1] = await claim(lc, cid)
    assert.deepEqual(t1.guidelines, { version: 1, hash: g1.hash })

    // Labelers cannot change guidelines; bad markdown names the field.
    assert.equal((await lc.call('POST', `/api/campaigns/${cid}/guidelines`, { markdown: '# mine' })).status, 403)
    const badMd = await rc.call('POST', `/api/campaigns/${cid}/guidelines`, { markdown: '' })
    assert.equal(badMd.status, 400)
    assert.equal(badMd.body.error.details.field, 'markdown')
    clock.advance(1000)
    const v2 = await rc.call('POST', `/api/campaigns/${cid}/guidelines`, { markdown: '# v2\nBe brief.' })
    assert.equal(v2.status, 201)
    assert.equal(v2.body.version, 2)
    assert.equal((await lc.call('GET', `/api/campaigns/${cid}/guidelines?version=1`)).body.markdown, DEFAULT_GUIDELINES)

    // t1 was served under v1: a label naming v1 is accepted (and so would be v2); a wrong hash is not.
    const wrongHash = makeLabel({ ...t1, guidelines: { version: 1, hash: v2.body.hash } }, lab.address, { response: 'an answer' })
    const s1 = await signLabel(lab, 31337, wrongHash)
    const r1 = await lc.call('POST', '/api/labels', { taskId: t1.taskId, idempotencyKey: 'wrong-hash-1', label: wrongHash, signature: s1.signature })
    assert.equal(r1.status, 422)
    assert.equal(r1.body.error.details.field, 'guidelines.hash')
    // A signature over another guidelines version than the content names does not verify.
    const label = makeLabel(t1, lab.address, { response: 'an answer under v1' })
    const forged = await lab.signTypedData(labelTypedData(31337, { ...labelMessage(label, contentHash(label)), guidelinesVersion: 2n }))
    const r2 = await lc.call('POST', '/api/labels', { taskId: t1.taskId, idempotencyKey: 'forged-version', label, signature: forged })
    assert.equal(r2.status, 400)
    assert.equal(r2.body.error.details.field, 'signature')
    assert.match(r2.body.error.message, /guidelinesVersion: 1/)
    assert.equal((await submit(lc, lab, t1, { response: 'an answer under v1' })).status, 201)

    // A task served after v2: v1 is no longer accepted, v2 is.
    const [t2] = await claim(lc, cid)
    assert.equal(t2.guidelines.version, 2)
    const old = await submit(lc, lab, { ...t2, guidelines: t1.guidelines }, { response: 'old rules' }, 'old-rules-key')
    assert.equal(old.status, 422)
    assert.equal(old.body.error.details.field, 'guidelines.version')
    assert.equal((await submit(lc, lab, t2, { response: 'new rules' })).status, 201)

    // Export: each label carries its guidelines; signatures verify with viem over the typed version.
    const ex = await rc.call('POST', `/api/campaigns/${cid}/export`, {})
    const rows = readFileSync(join(ex.body.dir, 'labels.jsonl'), 'utf8').trim().split('\n').map((s) => JSON.parse(s))
    assert.deepEqual(rows.map((r) => r.content.guidelines.version), [1, 2])
    for (const r of rows) {
      assert.ok(await verifyLabelSignatureViem(r.chainId, r.labeler, labelMessage(r.content, r.labelHash), r.signature as Hex))
      assert.equal(await verifyLabelSignatureViem(r.chainId, r.labeler, { ...labelMessage(r.content, r.labelHash), guidelinesVersion: 99n }, r.signature as Hex), false)
    }
    const batch = JSON.parse(readFileSync(join(ex.body.dir, 'batch.json'), 'utf8'))
    assert.deepEqual(batch.eip712.types.Label.at(-1), { name: 'guidelinesVersion', type: 'uint256' })
    assert.equal(batch.eip712.domain.version, '2')
  } finally {
    await t.close()
  }
})

test('skip: the task returns to the pool, is never served to the skipper again, skips are rate-limited and never lower quality', async () => {
  const clock = testClock()
  const req = wallet('s-req')
  const a = wallet('s-a')
  const b = wallet('s-b')
  const t = await startTestServer({ requesters: [req.address], now: clock.now, spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 's', prompts: ['p1', 'p2', 'p3', 'p4', 'p5'], policy: 'x', kinds: ['demonstration'], skipsPerHour: 2 })).body.campaign.id
    const ac = await signedIn(t, a)
    const bc = await signedIn(t, b)
    const [t1] = await claim(ac, cid)
    const s1 = await ac.call('POST', `/api/tasks/${t1.taskId}/skip`, {})
    assert.equal(s1.status, 200)
    assert.deepEqual(s1.body, { taskId: t1.taskId, status: 'skipped', skipsLeft: 1 })
    // The slot is free at once: b gets it; a never does again; a's late label is refused.
    assert.equal((await claim(bc, cid))[0].taskId, t1.taskId)
    const late = await submit(ac, a, t1, { response: 'after skipping' })
    assert.equal(late.status, 409)
    assert.equal(late.body.error.code, 'ERELEASED')
    const [t2] = await claim(ac, cid)
    assert.notEqual(t2.taskId, t1.taskId)
    assert.equal((await ac.call('POST', `/api/tasks/${t2.taskId}/skip`, {})).status, 200)
    // Skipping a task you do not hold is a 409; the third skip within the hour is a 429.
    assert.equal((await ac.call('POST', `/api/tasks/${t2.taskId}/skip`, {})).status, 409)
    assert.equal((await ac.call('POST', `/api/tasks/abc/skip`, {})).body.error.details.field, 'taskId')
    const [t3] = await claim(ac, cid)
    const third = await ac.call('POST', `/api/tasks/${t3.taskId}/skip`, {})
    assert.equal(third.status, 429)
    assert.equal(third.body.error.code, 'ESKIPLIMIT')
    assert.match(third.body.error.message, /limit 2/)
    // Reports share the budget (otherwise reporting would be an unlimited skip).
    assert.equal((await ac.call('POST', `/api/tasks/${t3.taskId}/report`, { reason: 'broken_prompt' })).status, 429)
    // After an hour the budget is back.
    clock.advance(3600_001)
    const [t3b] = await claim(ac, cid)
    assert.equal((await ac.call('POST', `/api/tasks/${t3b.taskId}/skip`, {})).status, 200)
    // Skips never count against quality: a skipped-only labeler has no quality row at all, and
    // after one label they have the newcomer score, like anyone with one unverified label.
    const [t4] = await claim(ac, cid)
    assert.equal((await submit(ac, a, t4, { response: 'a real answer' })).status, 201)
    const q = (await rc.call('GET', `/api/campaigns/${cid}/quality`)).body
    const qa = q.labelers.find((l: any) => l.address === a.address.toLowerCase())
    assert.equal(qa.labels, 1)
    assert.equal(qa.qualityBps, 5000)
  } finally {
    await t.close()
  }
})

test('skip cannot dodge gold: a skipped gold task is followed by a make-up gold task', async () => {
  const req = wallet('sg-req')
  const a = wallet('sg-a')
  const t = await startTestServer({ requesters: [req.address], spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const gold = [0, 1, 2, 3, 4].map((i) => ({ prompt: `gold ${i}`, responses: ['a', 'b', 'c', 'd'], ranking: [0, 1, 2, 3] }))
    const prompts = Array.from({ length: 14 }, (_, i) => `prompt ${i}`)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'sg', prompts, policy: 'x', kinds: ['ranking'], goldEvery: 2, gold, skipsPerHour: 50 })).body.campaign.id
    const goldIds = new Set((await t.server.ctx.db.selectFrom('tasks').select('id').where('campaign_id', '=', cid).where('gold', 'is not', null).execute()).map((r) => r.id))
    const ac = await signedIn(t, a)
    const served: number[] = []
    const answers: any[] = []
    // Skip every task as it comes. Gold is drawn at random (1 in 2 here); after a skipped gold task
    // the next task is gold for sure while unseen gold is left.
    for (let i = 0; i < 12; i++) {
      const [task] = await claim(ac, cid)
      served.push(task.taskId)
      const r = await ac.call('POST', `/api/tasks/${task.taskId}/skip`, {})
      assert.equal(r.status, 200)
      answers.push(Object.keys(r.body).sort().join())
    }
    const isGold = served.map((id) => goldIds.has(id))
    const first = isGold.indexOf(true)
    assert.ok(first >= 0, `a gold task came within 12 claims (probability 1 - 2^-12): ${isGold}`)
    // From the first gold on, every task is gold until the 5 gold tasks are used up.
    assert.deepEqual(isGold.slice(first, first + 5), [true, true, true, true, true], `served ${served} gold ${isGold}`)
    const made = await t.server.ctx.db.selectFrom('assignments').select(['task_id', 'gold_makeup']).where('labeler', '=', a.address.toLowerCase()).orderBy('id').execute()
    assert.deepEqual(made.slice(first, first + 5).map((m) => m.gold_makeup), [0, 1, 1, 1, 1], 'the first gold was a random draw, the next four make-ups')
    // The skip answer has the same shape for gold and ordinary tasks.
    assert.equal(new Set(answers).size, 1)
  } finally {
    await t.close()
  }
})

test('report: reasons checked, the task leaves the reporter, the requester sees reports grouped by task', async () => {
  const req = wallet('r-req')
  const a = wallet('r-a')
  const b = wallet('r-b')
  const t = await startTestServer({ requesters: [req.address], spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'r', prompts: ['broken ???', 'fine prompt'], policy: 'x', kinds: ['ranking'], goldEvery: 100 })).body.campaign.id
    const ac = await signedIn(t, a)
    const bc = await signedIn(t, b)
    const [ta] = await claim(ac, cid)
    const [tb] = await claim(bc, cid)
    assert.equal(ta.taskId, tb.taskId)
    const bad1 = await ac.call('POST', `/api/tasks/${ta.taskId}/report`, { reason: 'boring' })
    assert.equal(bad1.status, 400)
    assert.equal(bad1.body.error.details.field, 'reason')
    const bad2 = await ac.call('POST', `/api/tasks/${ta.taskId}/report`, { reason: 'other' })
    assert.equal(bad2.body.error.details.field, 'note')
    const bad3 = await ac.call('POST', `/api/tasks/${ta.taskId}/report`, { reason: 'broken_prompt', extra: 1 })
    assert.equal(bad3.body.error.details.field, 'extra')
    assert.equal((await ac.call('POST', `/api/tasks/${ta.taskId}/report`, { reason: 'broken_prompt', note: 'the prompt is only question marks' })).body.status, 'reported')
    assert.equal((await bc.call('POST', `/api/tasks/${tb.taskId}/report`, { reason: 'outputs_identical' })).status, 200)
    assert.equal((await ac.call('GET', `/api/campaigns/${cid}/reports`)).status, 403, 'reports are for the requester')
    const rep = (await rc.call('GET', `/api/campaigns/${cid}/reports`)).body
    assert.equal(rep.total, 2)
    assert.deepEqual(rep.byReason, { broken_prompt: 1, outputs_identical: 1 })
    assert.equal(rep.tasks.length, 1)
    assert.equal(rep.tasks[0].taskId, ta.taskId)
    assert.equal(rep.tasks[0].prompt, 'broken ???')
    assert.deepEqual(rep.tasks[0].notes, ['the prompt is only question marks'])
    assert.equal((await claim(ac, cid))[0].taskId === ta.taskId, false, 'a reported task is not served to its reporter again')
  } finally {
    await t.close()
  }
})

test('qualification: category tasks only for labelers who passed the gold quiz; cooldown after a fail; one grading per attempt', async () => {
  const clock = testClock()
  const req = wallet('q-req')
  const a = wallet('q-a')
  const t = await startTestServer({ requesters: [req.address], now: clock.now, spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const badCat = await rc.call('POST', '/api/campaigns', { name: 'q', prompts: ['p'], policy: 'x', category: 'memes' })
    assert.equal(badCat.status, 400)
    assert.equal(badCat.body.error.details.field, 'category')
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'gov', prompts: ['Explain this proposal'], policy: 'x', kinds: ['demonstration'], category: 'governance' })).body.campaign.id
    const ac = await signedIn(t, a)
    const refused = await ac.call('POST', `/api/campaigns/${cid}/tasks/claim`, {})
    assert.equal(refused.status, 403)
    assert.equal(refused.body.error.code, 'EUNQUALIFIED')
    assert.equal(refused.body.error.details.field, 'category')

    const cats = (await ac.call('GET', '/api/categories')).body.categories
    assert.deepEqual(cats.filter((c: any) => c.qualified).map((c: any) => c.id), ['general'])
    const quiz = (await ac.call('POST', '/api/qualifications/governance/quiz', {})).body
    assert.equal(quiz.questions.length, 4)
    assert.ok(quiz.questions.every((q: any) => !('answer' in q)), 'answers never leave the server')
    const right = QUIZZES.governance.map((q) => q.answer)
    const wrong = right.map((x) => (x + 1) % 4)
    const shape = await ac.call('POST', '/api/qualifications/governance/answers', { attempt: quiz.attempt, answers: [0, 1] })
    assert.equal(shape.body.error.details.field, 'answers')
    const fail = (await ac.call('POST', '/api/qualifications/governance/answers', { attempt: quiz.attempt, answers: wrong })).body
    assert.equal(fail.passed, false)
    assert.equal(fail.score, 0)
    const again = await ac.call('POST', '/api/qualifications/governance/answers', { attempt: quiz.attempt, answers: right })
    assert.equal(again.status, 409, 'an attempt is graded once')
    const cool = await ac.call('POST', '/api/qualifications/governance/quiz', {})
    assert.equal(cool.status, 429)
    assert.equal(cool.body.error.code, 'EQUIZCOOLDOWN')
    clock.advance(3600_000)
    const quiz2 = (await ac.call('POST', '/api/qualifications/governance/quiz', {})).body
    // Another labeler cannot answer my attempt.
    const other = await signedIn(t, wallet('q-other'), clock)
    assert.equal((await other.call('POST', '/api/qualifications/governance/answers', { attempt: quiz2.attempt, answers: right })).status, 409)
    const pass = (await ac.call('POST', '/api/qualifications/governance/answers', { attempt: quiz2.attempt, answers: [...right.slice(0, 3), wrong[3]] })).body
    assert.deepEqual(pass, { category: 'governance', score: 3, of: 4, passed: true })
    const [task] = await claim(ac, cid)
    assert.equal(task.category, 'governance')
    const mine = (await ac.call('GET', '/api/me/qualifications')).body.qualifications
    assert.deepEqual(mine.map((q: any) => [q.category, q.levelName]), [['governance', 'qualified']])
    assert.equal((await ac.call('POST', '/api/qualifications/general/quiz', {})).body.error.details.field, 'category')
    assert.equal((await ac.call('POST', '/api/qualifications/governance/quiz', {})).status, 409, 'already qualified')
  } finally {
    await t.close()
  }
})

test('time on task: idle gaps over 60 s excluded, arithmetic by hand; effective pay per hour and the requester’s distribution vs target', async () => {
  // Pure arithmetic: start 0, beats 10, 20, 30 s, idle, beat 200 s, end 210 s -> 30 + 10 = 40 s.
  assert.equal(activeMs(0, [10_000, 20_000, 30_000, 200_000], 210_000), 40_000)
  assert.equal(activeMs(0, [], 60_000), 60_000, 'a gap of exactly 60 s counts')
  assert.equal(activeMs(0, [], 60_001), 0, 'a longer gap is idle')
  assert.equal(activeMs(0, [-5, 500_000], 50_000), 50_000, 'beats outside the task are ignored')
  assert.deepEqual(payDistribution([10, 30, 20], 15), { labelers: 3, min: 10, p25: 15, median: 20, p75: 25, max: 30, target: 15, atOrAboveTarget: 2, targetMet: true })
  assert.equal(payDistribution([10, 12], 15).targetMet, false)

  const clock = testClock()
  const t0 = clock.now()
  const req = wallet('t-req')
  const a = wallet('t-a')
  const b = wallet('t-b')
  const t = await startTestServer({ requesters: [req.address], now: clock.now, spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 't', prompts: ['p1', 'p2'], policy: 'x', kinds: ['demonstration'], rewardPerLabel: 0.5, targetHourly: 20, currency: 'USDC', leaseSeconds: 3600 })).body.campaign.id
    const ac = await signedIn(t, a)
    const bc = await signedIn(t, b)
    const [ta] = await claim(ac, cid)
    const [tb] = await claim(bc, cid)
    // a: beats at +10, +20, +30 s (and one 2 s later that is dropped), idle, +200 s, submits at +210 s: 40 s active.
    for (const dt of [10_000, 10_000, 10_000]) {
      clock.advance(dt)
      assert.deepEqual((await ac.call('POST', `/api/tasks/${ta.taskId}/activity`, {})).body, { recorded: true })
    }
    clock.advance(2000)
    assert.deepEqual((await ac.call('POST', `/api/tasks/${ta.taskId}/activity`, {})).body, { recorded: false }, 'at most one beat per 5 s')
    clock.advance(168_000)
    await ac.call('POST', `/api/tasks/${ta.taskId}/activity`, {})
    // b: only heartbeats every 50 s, submits at +300 s (the clock is shared: b started at 0 too).
    clock.advance(10_000) // now +210 s
    assert.equal((await submit(ac, a, ta, { response: 'answer from a' })).status, 201)
    assert.equal((await bc.call('POST', `/api/tasks/${ta.taskId}/activity`, {})).status, 409, 'heartbeats only for your own leased task')
    for (const at of [250_000, 300_000]) {
      clock.advance(at - (clock.now() - t0))
      await bc.call('POST', `/api/tasks/${tb.taskId}/activity`, {})
    }
    // b: beats at 250 and 300 (gaps 0->250 idle, 250->300 = 50 s), submits at 330 s (30 s): 80 s active.
    clock.advance(30_000)
    assert.equal((await submit(bc, b, tb, { response: 'answer from b' })).status, 201)

    const pay = (await rc.call('GET', `/api/campaigns/${cid}/pay`)).body
    const row = (w: W) => pay.rows.find((r: any) => r.address === w.address.toLowerCase())
    assert.equal(row(a).activeMs, 40_000)
    assert.equal(row(b).activeMs, 80_000)
    assert.equal(row(a).perHour, 0.5 / (40 / 3600)) // 45 USDC/h
    assert.equal(row(b).perHour, 0.5 / (80 / 3600)) // 22.5 USDC/h
    assert.equal(row(a).meetsTarget, true)
    assert.equal(pay.distribution.median, (45 + 22.5) / 2)
    assert.equal(pay.distribution.targetMet, true)
    assert.equal(pay.distribution.atOrAboveTarget, 2)
    assert.equal(pay.currency, 'USDC')
    assert.equal((await ac.call('GET', `/api/campaigns/${cid}/pay`)).status, 403, 'the distribution is the requester’s')
    const mine = (await ac.call('GET', '/api/me/pay')).body.campaigns
    assert.equal(mine.length, 1)
    assert.equal(mine[0].perHour, 45)
    assert.equal(mine[0].basis, 'provisional', 'before an export a labeler sees submitted labels, never live accepted counts (gold would show)')
    assert.equal(row(a).basis, 'live')
    assert.equal(mine[0].targetHourly, 20)
    const badPay = await rc.call('POST', '/api/campaigns', { name: 'bad', prompts: ['p'], policy: 'x', rewardPerLabel: -1 })
    assert.equal(badPay.body.error.details.field, 'rewardPerLabel')
  } finally {
    await t.close()
  }
})

test('prompt writing: plain / few-shot / user-based tasks, reviewed like demonstrations, exported as prompts.jsonl, taken by the next campaign', async () => {
  const req = wallet('p-req')
  const a = wallet('p-a')
  const rev = wallet('p-rev')
  const t = await startTestServer({ requesters: [req.address], reviewers: [rev.address], spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cr = await rc.call('POST', '/api/campaigns', { name: 'write prompts', policy: 'x', kinds: ['prompt'], promptTasks: 1, category: 'general' })
    assert.equal(cr.status, 201, JSON.stringify(cr.body))
    const cid = cr.body.campaign.id
    const ac = await signedIn(t, a)
    const tasks = await claim(ac, cid, 10)
    assert.deepEqual(tasks.map((x: any) => x.style).sort(), ['few_shot', 'plain', 'user_based'])
    assert.ok(tasks.every((x: any) => x.kind === 'prompt' && /Write a/.test(x.prompt)))
    const short = await submit(ac, a, tasks[0], { prompt: 'hi' }, 'short-prompt-1')
    assert.equal(short.status, 422)
    assert.equal(short.body.error.details.field, 'prompt')
    const wrongField = await submit(ac, a, tasks[0], { response: 'I am a prompt, honestly' }, 'wrong-field-1')
    assert.equal(wrongField.body.error.details.field, 'response')
    const written = tasks.map((x: any, i: number) => `Prompt ${i} (${x.style}): explain how a DAO timelock protects token holders, for a new delegate.`)
    for (const [i, x] of tasks.entries()) assert.equal((await submit(ac, a, x, { prompt: written[i] })).status, 201)
    // Reviewed like demonstrations: a reviewer approves two and rejects one.
    const rvc = await signedIn(t, rev)
    const reviews = await claim(rvc, cid, 10, ['review'])
    assert.equal(reviews.length, 3)
    for (const r of reviews) {
      assert.ok(written.includes(r.response), 'the reviewer sees the written prompt')
      assert.equal(r.reviewOf, 'prompt')
      const verdict = r.response === written[1] ? 'reject' : 'approve'
      assert.equal((await submit(rvc, rev, r, { target: r.target, verdict })).status, 201)
    }
    const ex = await rc.call('POST', `/api/campaigns/${cid}/export`, {})
    assert.equal(ex.body.counts.prompts, 2)
    const rows = readFileSync(join(ex.body.dir, 'prompts.jsonl'), 'utf8').trim().split('\n').map((s, i) => JSON.parse(s))
    const parsed = rows.map((r, i) => parsePrompt(r, { file: 'prompts.jsonl', line: i + 1 }))
    assert.deepEqual(parsed.map((p) => p.prompt), [written[0], written[2]])
    assert.ok(rows.every((r) => ['plain', 'few_shot', 'user_based'].includes(r.task) && r.category === 'general' && r.signature && r.labeler))
    // The next campaign takes them.
    const next = await rc.call('POST', '/api/campaigns', { name: 'next', policy: 'x', kinds: ['demonstration'], promptsFrom: cid })
    assert.equal(next.status, 201, JSON.stringify(next.body))
    const nextTasks = await t.server.ctx.db.selectFrom('tasks').select('prompt').where('campaign_id', '=', next.body.campaign.id).orderBy('id').execute()
    assert.deepEqual(nextTasks.map((x) => x.prompt), [written[0], written[2]])
    assert.equal((await rc.call('POST', '/api/campaigns', { name: 'n2', policy: 'x', promptsFrom: 'c_nope' })).body.error.details.field, 'promptsFrom')
  } finally {
    await t.close()
  }
})

test('leaderboard: shortened addresses unless a display name is opted in; quality only after export', async () => {
  const req = wallet('lb-req')
  const a = wallet('lb-a')
  const b = wallet('lb-b')
  const t = await startTestServer({ requesters: [req.address], spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const cid = (await rc.call('POST', '/api/campaigns', { name: 'lb', prompts: ['p1', 'p2', 'p3'], policy: 'x', kinds: ['demonstration'] })).body.campaign.id
    const ac = await signedIn(t, a)
    const bc = await signedIn(t, b)
    for (const x of await claim(ac, cid, 2)) await submit(ac, a, x, { response: 'answer ' + x.taskId })
    for (const x of await claim(bc, cid, 1)) await submit(bc, b, x, { response: 'answer ' + x.taskId })
    for (const [body, field] of [[{ displayName: 'x', showOnLeaderboard: true }, 'displayName'], [{ displayName: '0xdeadbeef', showOnLeaderboard: true }, 'displayName'], [{ showOnLeaderboard: 'yes' }, 'showOnLeaderboard'], [{ showOnLeaderboard: true }, 'displayName'], [{ showOnLeaderboard: true, admin: 1 }, 'admin']] as const) {
      const r = await ac.call('POST', '/api/me/profile', body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.error.details.field, field)
    }
    assert.deepEqual((await ac.call('POST', '/api/me/profile', { displayName: 'Ada of the DAO', showOnLeaderboard: true })).body, { displayName: 'Ada of the DAO', showOnLeaderboard: true })
    // b sets a name but does not opt in: shown by shortened address.
    await bc.call('POST', '/api/me/profile', { displayName: 'Bob', showOnLeaderboard: false })
    const before = (await bc.call('GET', `/api/campaigns/${cid}/leaderboard`)).body
    assert.equal(before.exported, false)
    const bAddr = b.address.toLowerCase()
    assert.deepEqual(before.rows.map((r: any) => [r.rank, r.name, r.labels, r.you]), [[1, 'Ada of the DAO', 2, false], [2, `${bAddr.slice(0, 6)}…${bAddr.slice(-4)}`, 1, true]])
    assert.ok(before.rows.every((r: any) => !('qualityBps' in r) && !('accepted' in r)), 'no quality before export')
    await rc.call('POST', `/api/campaigns/${cid}/export`, {})
    const after = (await bc.call('GET', `/api/campaigns/${cid}/leaderboard`)).body
    assert.equal(after.exported, true)
    assert.ok(after.rows.every((r: any) => typeof r.qualityBps === 'number' && typeof r.accepted === 'number'))
  } finally {
    await t.close()
  }
})

test('issue-20 routes need a session, and role-gated ones a requester', async () => {
  const t = await startTestServer({})
  try {
    const anon = t.client()
    const routes: Array<[string, string]> = [
      ['GET', '/api/categories'],
      ['GET', '/api/me/qualifications'],
      ['POST', '/api/qualifications/governance/quiz'],
      ['POST', '/api/qualifications/governance/answers'],
      ['GET', '/api/campaigns/c_x/guidelines'],
      ['POST', '/api/campaigns/c_x/guidelines'],
      ['POST', '/api/tasks/1/skip'],
      ['POST', '/api/tasks/1/report'],
      ['POST', '/api/tasks/1/activity'],
      ['GET', '/api/campaigns/c_x/reports'],
      ['GET', '/api/campaigns/c_x/pay'],
      ['GET', '/api/me/pay'],
      ['GET', '/api/campaigns/c_x/leaderboard'],
      ['GET', '/api/me/profile'],
      ['POST', '/api/me/profile'],
    ]
    for (const [m, path] of routes) assert.equal((await anon.call(m, path, m === 'POST' ? {} : undefined)).status, 401, `${m} ${path}`)
    const lab = await signedIn(t, wallet('auth-lab'))
    for (const path of ['/api/campaigns/c_x/reports', '/api/campaigns/c_x/pay']) assert.equal((await lab.call('GET', path)).status, 403, path)
    assert.equal((await lab.call('POST', '/api/campaigns/c_x/guidelines', { markdown: 'x' })).status, 403)
    assert.equal((await lab.call('GET', '/api/campaigns/c_x/guidelines')).status, 404)
    assert.equal((await lab.call('GET', '/api/campaigns/c_x/guidelines?version=0')).body.error.details.field, 'version')
    assert.equal((await lab.call('POST', '/api/qualifications/memes/quiz', {})).body.error.details.field, 'category')
    assert.equal((await lab.call('POST', '/api/tasks/99999/activity', {})).status, 409)
  } finally {
    await t.close()
  }
})

test('category level: qualified by the quiz, expert after 20 accepted labels at >= 7500 bps mean quality in exported campaigns of the category', async () => {
  assert.deepEqual(categoryLevel(false, [{ accepted: 100, qualityBps: 9000 }]), { level: 0, accepted: 100, meanQualityBps: 9000 }, 'no quiz, no level')
  assert.deepEqual(categoryLevel(true, []), { level: 1, accepted: 0, meanQualityBps: null })
  // 12 at 8000 + 8 at 7000 = 20 accepted, mean (96000 + 56000) / 20 = 7600 -> expert
  assert.deepEqual(categoryLevel(true, [{ accepted: 12, qualityBps: 8000 }, { accepted: 8, qualityBps: 7000 }]), { level: 2, accepted: 20, meanQualityBps: 7600 })
  assert.equal(categoryLevel(true, [{ accepted: 12, qualityBps: 8000 }, { accepted: 8, qualityBps: 6000 }]).level, 1, 'mean 7200 < 7500')
  assert.equal(categoryLevel(true, [{ accepted: 19, qualityBps: 9000 }]).level, 1, '19 < 20 accepted')

  // Over the API: a qualified labeler with a governance export snapshot of 25 accepted at 8000 bps is an expert in governance.
  const req = wallet('lv-req')
  const a = wallet('lv-a')
  const t = await startTestServer({ requesters: [req.address], spam: NO_SPAM })
  try {
    const rc = await signedIn(t, req)
    const gov = (await rc.call('POST', '/api/campaigns', { name: 'lv', prompts: ['p'], policy: 'x', category: 'governance' })).body.campaign.id
    const defi = (await rc.call('POST', '/api/campaigns', { name: 'lv2', prompts: ['p'], policy: 'x', category: 'defi' })).body.campaign.id
    const ac = await signedIn(t, a)
    const quiz = (await ac.call('POST', '/api/qualifications/governance/quiz', {})).body
    await ac.call('POST', '/api/qualifications/governance/answers', { attempt: quiz.attempt, answers: QUIZZES.governance.map((q) => q.answer) })
    assert.deepEqual((await ac.call('GET', '/api/me/qualifications')).body.qualifications.map((q: any) => [q.category, q.level, q.levelName]), [['governance', 1, 'qualified']])
    // The snapshot an export publishes (report.ts saveQualitySnapshot), written directly here instead of labeling 25 tasks.
    const snap = (campaign: string, accepted: number, qualityBps: number) => ({ campaign_id: campaign, labeler: a.address.toLowerCase(), quality: JSON.stringify({ address: a.address.toLowerCase(), accepted, qualityBps }), exported_at: Date.now() })
    await t.server.ctx.db.insertInto('labeler_quality').values([snap(gov, 25, 8000), snap(defi, 100, 9900)]).execute()
    const q = (await ac.call('GET', '/api/me/qualifications')).body.qualifications
    assert.deepEqual(q.map((x: any) => [x.category, x.level, x.levelName, x.accepted, x.meanQualityBps]), [['governance', 2, 'expert', 25, 8000]], 'defi work does not count without the defi quiz')
  } finally {
    await t.close()
  }
})
