import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { buildWeb } from '../../web/build.ts'
import { contentHash } from '../../src/labeling/canonical.ts'
import { labelMessage, verifyLabelSignatureViem } from '../../src/labeling/signature.ts'
import { startTestServer, wallet, launchChromium, CHROMIUM } from './helpers.ts'

export const SCREENSHOT_DIR = process.env.I3_SCREENSHOT_DIR ?? tmpdir()

test('web app in Chromium: wallet sign-in, demonstration, keyboard ranking, signed labels stored', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`, timeout: 150_000 }, async () => {
  const webDir = await buildWeb()
  const w = wallet('e2e')
  const t = await startTestServer({ webDir, requesters: [w.address], spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 3 } })
  const { ctx, profile } = await launchChromium(1100)
  try {
    // Campaign: one prompt -> a demonstration task, then a ranking task with 4 deterministic outputs.
    const rc = t.client()
    await rc.signIn(w)
    const cr = await rc.call('POST', '/api/campaigns', { name: 'e2e web3 questions', prompts: ['Explain what a reentrancy attack is and how to prevent it.'], policy: 'bafy-e2e-policy', k: 4, goldEvery: 100 })
    assert.equal(cr.status, 201)
    const cid = cr.body.campaign.id

    // The test wallet: an EIP-1193 provider in the page, backed by a viem local account in Node.
    const page = ctx.pages()[0] ?? (await ctx.newPage())
    const calls: string[] = []
    await page.exposeFunction('__i3wallet', async (method: string, paramsJson: string) => {
      calls.push(method)
      const params = JSON.parse(paramsJson) as any[]
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return JSON.stringify([w.address])
        case 'eth_chainId':
          return JSON.stringify('0x7a69')
        case 'personal_sign':
          return JSON.stringify(await w.signMessage({ message: { raw: params[0] as Hex } }))
        case 'eth_signTypedData_v4': {
          const td = JSON.parse(params[1])
          const { EIP712Domain: _, ...types } = td.types
          return JSON.stringify(await w.signTypedData({ domain: td.domain, types, primaryType: td.primaryType, message: { ...td.message, taskId: BigInt(td.message.taskId) } }))
        }
        default:
          throw new Error(`unsupported method ${method}`)
      }
    })
    await page.addInitScript(() => {
      ;(window as any).ethereum = {
        isInstruct3TestWallet: true,
        request: async ({ method, params }: { method: string; params?: unknown[] }) => JSON.parse(await (window as any).__i3wallet(method, JSON.stringify(params ?? []))),
      }
    })
    const consoleErrors: string[] = []
    page.on('pageerror', (e) => consoleErrors.push(String(e)))

    await page.goto(t.url + '/')
    await page.getByTestId('connect-injected').click()
    await page.getByTestId('address').waitFor()
    assert.match((await page.getByTestId('address').textContent()) ?? '', new RegExp(w.address.slice(0, 6), 'i'))

    // Demonstration
    await page.getByTestId('demo-task').waitFor()
    const demoText = 'A reentrancy attack calls back into a contract before its state is updated. Prevent it with checks-effects-interactions and a reentrancy guard.'
    await page.getByTestId('demo-text').fill(demoText)
    await page.getByTestId('demo-submit').click()
    await page.getByTestId('rank-task').waitFor()
    assert.match((await page.getByTestId('status').textContent()) ?? '', /Signed and stored/)

    // Ranking with the keyboard: move output A below B, tie the last two, score A with 6.
    await page.getByTestId('rank-card-0').focus()
    await page.keyboard.press('6')
    await page.keyboard.press('Shift+ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('t')
    assert.equal(await page.getByTestId('ranking-preview').textContent(), 'ranking [1, 0, 2, 2]')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-web-rank.png'), fullPage: true })
    await page.getByTestId('rank-card-3').focus()
    await page.keyboard.press('Control+Enter')
    await page.getByTestId('no-tasks').waitFor()
    assert.match((await page.getByTestId('status').textContent()) ?? '', /Signed and stored/)

    // My work and the dashboard render with the new labels.
    await page.getByTestId('tab-mine').click()
    await page.getByTestId('my-work').waitFor()
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-web-mywork.png') })
    await page.getByTestId('tab-dashboard').click()
    await page.getByText('e2e web3 questions').first().click()
    await page.getByTestId('export').click()
    await page.getByTestId('export-result').waitFor()
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'i3-web-dashboard.png'), fullPage: true })
    assert.deepEqual(consoleErrors, [])
    assert.ok(calls.includes('personal_sign') && calls.includes('eth_signTypedData_v4'))

    // What was stored: two labels by the test wallet, content hash and EIP-712 signature check out.
    const rows = await t.server.ctx.db.selectFrom('labels').selectAll().where('campaign_id', '=', cid).orderBy('id').execute()
    assert.equal(rows.length, 2)
    for (const r of rows) {
      assert.equal(r.labeler, w.address.toLowerCase())
      const content = JSON.parse(r.content)
      assert.equal(contentHash(content), r.label_hash)
      assert.ok(await verifyLabelSignatureViem(31337, w.address, labelMessage(JSON.parse(r.content), r.label_hash as Hex), r.signature as Hex), 'signature verifies with viem')
    }
    assert.equal(JSON.parse(rows[0].content).response, demoText)
    const rank = JSON.parse(rows[1].content)
    assert.deepEqual(rank.ranking, [1, 0, 2, 2])
    assert.equal(rank.likert[0], 6)
  } finally {
    await ctx.close()
    await t.close()
    rmSync(profile, { recursive: true, force: true })
  }
})
