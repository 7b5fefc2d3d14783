import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { buildWeb } from '../../web/build.ts'
import { contentHash } from '../../src/labeling/canonical.ts'
import { labelMessage, verifyLabelSignatureViem } from '../../src/labeling/signature.ts'
import { QUIZZES } from '../../src/labeling/categories.ts'
import { startTestServer, wallet, launchChromium, CHROMIUM } from './helpers.ts'

const SCREENSHOT_DIR = process.env.I3_SCREENSHOT_DIR ?? tmpdir()

/**
 * A labeler's walk-through in Chromium: a governance campaign refuses them until they pass its
 * quiz; the task shows the guidelines beside it; they skip one task, report another, rank a third,
 * then write a prompt in a prompt-writing campaign; My work shows the category they hold and their
 * effective pay. Then the requester (same browser, other wallet) sees the report and the pay
 * distribution on the dashboard. Screenshots: i3-ux-qualify.png, i3-ux-task-guidelines.png,
 * i3-ux-report.png, i3-ux-prompt.png, i3-ux-mywork.png, i3-ux-leaderboard.png, i3-ux-dashboard.png.
 */
test('labeler walk-through in Chromium: qualification quiz, guidelines beside the task, skip, report, prompt writing, pay', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`, timeout: 600_000 }, async () => {
  const webDir = await buildWeb()
  const req = wallet('ux-e2e-requester')
  const lab = wallet('ux-e2e-labeler')
  // Heartbeats every 300 ms (instead of 15 s) so the walk-through sees the app send them.
  const t = await startTestServer({ webDir, requesters: [req.address], heartbeat: { intervalMs: 300, minGapMs: 100 }, spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 3 } })
  const { ctx, profile } = await launchChromium(1280)
  try {
    const rc = t.client()
    await rc.signIn(req)
    // Created first, listed second: the prompt-writing campaign.
    const pc = await rc.call('POST', '/api/campaigns', { name: 'Write web3 prompts', policy: 'bafy-e2e', kinds: ['prompt'], promptTasks: 1, rewardPerLabel: 0.3 })
    assert.equal(pc.status, 201, JSON.stringify(pc.body))
    const gov = await rc.call('POST', '/api/campaigns', {
      name: 'Governance answers',
      policy: 'bafy-e2e',
      kinds: ['ranking'],
      category: 'governance',
      prompts: ['Why do DAOs use timelocks?', 'What is a quorum?', 'Explain vote delegation to a new token holder.'],
      goldEvery: 100,
      rewardPerLabel: 0.4,
      targetHourly: 12,
    })
    assert.equal(gov.status, 201, JSON.stringify(gov.body))
    const govId = gov.body.campaign.id
    const promptId = pc.body.campaign.id

    // The test wallet: EIP-1193 in the page, backed by viem local accounts in Node (switchable).
    let current = lab
    const page = ctx.pages()[0] ?? (await ctx.newPage())
    await page.exposeFunction('__i3wallet', async (method: string, paramsJson: string) => {
      const params = JSON.parse(paramsJson) as any[]
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') return JSON.stringify([current.address])
      if (method === 'personal_sign') return JSON.stringify(await current.signMessage({ message: { raw: params[0] as Hex } }))
      if (method === 'eth_signTypedData_v4') {
        const td = JSON.parse(params[1])
        const { EIP712Domain: _, ...types } = td.types
        return JSON.stringify(await current.signTypedData({ domain: td.domain, types, primaryType: td.primaryType, message: { ...td.message, taskId: BigInt(td.message.taskId), guidelinesVersion: BigInt(td.message.guidelinesVersion) } }))
      }
      throw new Error(`unsupported method ${method}`)
    })
    await page.addInitScript(() => {
      ;(window as any).ethereum = { request: async ({ method, params }: { method: string; params?: unknown[] }) => JSON.parse(await (window as any).__i3wallet(method, JSON.stringify(params ?? []))) }
    })
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(String(e)))
    const status = async () => (await page.getByTestId('status').textContent()) ?? ''

    await page.goto(t.url + '/')
    await page.getByTestId('connect-injected').click()
    await page.getByTestId('address').waitFor()

    // 1. Qualification: the governance campaign is selected first and offers its quiz.
    assert.equal(await page.getByTestId('campaign').inputValue(), govId)
    await page.getByTestId('qualify').waitFor()
    await page.getByTestId('quiz-start').click()
    await page.getByTestId('quiz-q-3').waitFor()
    for (const [i, q] of QUIZZES.governance.entries()) await page.getByTestId(`quiz-q-${i}-o-${q.answer}`).check()
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-qualify.png'), fullPage: true })
    await page.getByTestId('quiz-submit').click()

    // 2. The first task, with the guidelines beside it (version 1, the default text).
    await page.getByTestId('rank-task').waitFor()
    await page.getByTestId('guidelines').getByRole('heading', { name: 'Truthful' }).waitFor()
    assert.equal(await page.getByTestId('guidelines-version').textContent(), 'v1')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-task-guidelines.png'), fullPage: true })
    const firstTask = await page.getByTestId('rank-task').locator('.prompt .text').textContent()

    // 3. Skip it: a different task comes.
    await page.getByTestId('skip').click()
    await page.getByText(/Skipped task #\d+/).waitFor()
    assert.match(await status(), /5 skips\/reports left this hour/)
    await page.waitForFunction((prev) => document.querySelector('[data-testid="rank-task"] .prompt .text')?.textContent !== prev, firstTask)

    // 4. Report the next one (outputs identical, with a note).
    await page.getByTestId('report-open').click()
    await page.getByTestId('report-reason').selectOption('outputs_identical')
    await page.getByTestId('report-note').fill('outputs B and C say the same thing')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-report.png'), fullPage: true })
    await page.getByTestId('report-send').click()
    await page.getByText(/Reported task #\d+/).waitFor()

    // 5. Rank the third and last task; then nothing is left.
    await page.getByTestId('rank-submit').click()
    await page.getByTestId('no-tasks').waitFor()
    assert.match(await status(), /Signed and stored/)

    // 6. Prompt writing in the other campaign.
    await page.getByTestId('campaign').selectOption(promptId)
    await page.getByTestId('prompt-task').waitFor()
    const style = await page.getByTestId('prompt-style').textContent()
    assert.ok(['plain', 'few-shot', 'user-based'].includes(style ?? ''), `style chip: ${style}`)
    const written = 'I hold 200 UNI and a delegate asked me to delegate to them. What exactly can they do with my votes, and can I take them back?'
    await page.getByTestId('prompt-text').fill(written)
    // The app reports activity while the labeler types (a beat after input, none while idle).
    const promptTaskId = Number(/task #(\d+)/.exec((await page.getByText(/task #\d+ · prompt/).textContent()) ?? '')?.[1])
    const beats = async () =>
      (await t.server.ctx.db.selectFrom('activity as v').innerJoin('assignments as a', 'a.id', 'v.assignment_id').select('v.at').where('a.task_id', '=', promptTaskId).where('a.labeler', '=', lab.address.toLowerCase()).execute()).length
    // Keep "typing" (End key presses are input events) until a beat is stored, at most 20 s.
    for (const deadline = Date.now() + 20_000; (await beats()) === 0 && Date.now() < deadline; ) await page.getByTestId('prompt-text').press('End')
    assert.ok((await beats()) >= 1, 'a heartbeat was stored for the prompt task')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-prompt.png'), fullPage: true })
    await page.getByTestId('prompt-submit').click()
    await page.getByText(/Signed and stored/).waitFor()

    // 7. My work: the category held and the effective pay per campaign.
    await page.getByTestId('tab-mine').click()
    await page.getByTestId('my-pay').waitFor()
    await page.getByTestId('categories-held').getByText('✓ Governance').waitFor()
    assert.equal(await page.getByTestId('my-rate').count(), 2, 'one pay row per campaign worked in')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-mywork.png'), fullPage: true })
    // Opt in to a display name; the leaderboard shows it (no quality before an export).
    await page.getByTestId('profile-name').fill('Ada of the DAO')
    await page.getByTestId('profile-show').check()
    await page.getByTestId('profile-save').click()
    await page.getByText('Saved.').waitFor()
    await page.getByTestId('tab-board').click()
    await page.getByTestId('leaderboard').getByText('Ada of the DAO').waitFor()
    await page.getByText('Quality is shown once the campaign is exported.').waitFor()
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-leaderboard.png'), fullPage: true })

    // 8. The requester's dashboard: the report and the pay distribution against the target.
    await page.getByRole('button', { name: 'Sign out' }).click()
    current = req
    await page.getByTestId('connect-injected').click()
    await page.getByTestId('tab-dashboard').click()
    await page.getByText('Governance answers').first().click()
    await page.getByTestId('reports').getByText('outputs identical ×1').waitFor()
    await page.getByTestId('target-status').waitFor()
    await page.getByTestId('reports').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-dashboard.png'), fullPage: true })
    assert.deepEqual(pageErrors, [])

    // What was stored: the ranking and the prompt, each naming and signing guidelines v1.
    const rows = await t.server.ctx.db.selectFrom('labels').selectAll().where('labeler', '=', lab.address.toLowerCase()).orderBy('id').execute()
    assert.deepEqual(rows.map((r) => r.kind), ['ranking', 'prompt'])
    for (const r of rows) {
      const content = JSON.parse(r.content)
      assert.equal(contentHash(content), r.label_hash)
      assert.equal(content.guidelines.version, 1)
      assert.ok(await verifyLabelSignatureViem(31337, lab.address, labelMessage(content, r.label_hash as Hex), r.signature as Hex))
    }
    assert.equal(JSON.parse(rows[1].content).prompt, written)
    const statuses = await t.server.ctx.db.selectFrom('assignments').select('status').where('campaign_id', '=', govId).where('labeler', '=', lab.address.toLowerCase()).orderBy('id').execute()
    assert.deepEqual(statuses.map((s) => s.status), ['skipped', 'reported', 'submitted'])
    const reports = (await rc.call('GET', `/api/campaigns/${govId}/reports`)).body
    assert.deepEqual(reports.byReason, { outputs_identical: 1 })
    assert.deepEqual(reports.tasks[0].notes, ['outputs B and C say the same thing'])
  } catch (e) {
    // Keep what the page showed when a step failed.
    await ctx.pages()[0]?.screenshot({ path: join(SCREENSHOT_DIR, 'i3-ux-failure.png'), fullPage: true }).catch(() => {})
    throw e
  } finally {
    await ctx.close()
    await t.close()
    rmSync(profile, { recursive: true, force: true })
  }
})
