// The web app's on-chain half in Chromium against a real anvil: a requester creates a campaign (prompts
// from a file the browser reads), creates and funds it on chain; two labelers see the terms, stake and
// join (one of them at phone width, on the wrong chain, by keyboard), label; the service exports and
// settles; the oracle slashes one of them for fraud; a labeler withdraws pay; the requester closes; a late labeler's join reverts with the
// contract's named error; the first labeler withdraws the stake and sees the badge. Every wallet is the
// injected test wallet (test-wallet.ts): transactions are signed by viem local accounts and sent to anvil.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatUnits, getAbiItem, parseEther, toFunctionSelector, type Hex } from 'viem'
import type { Page, BrowserContext } from 'playwright-core'
import { buildWeb } from '../../web/build.ts'
import { startAnvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx } from '../../src/chain/context.ts'
import { getCampaign, getPosition } from '../../src/chain/campaign.ts'
import { readBatchManifest } from '../../src/batch/index.ts'
import { createMembershipCheck } from '../../src/chain/membership.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { getBadge, rawCid, revokeBadge } from '../../src/chain/badges.ts'
import { signFraudProof, slashLabeler } from '../../src/chain/fraud.ts'
import { createChainReads } from '../../src/chain/app-reads.ts'
import { createRewardsLookup } from '../../src/chain/rewards.ts'
import { labelingEscrowAbi, testTokenAbi } from '../../src/chain/generated/index.ts'
import { injectTestWallet, type TestWallet } from './test-wallet.ts'
import { startTestServer } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = process.env.I3_SCREENSHOT_DIR ?? tmpdir()
const WITHDRAW = toFunctionSelector('withdraw(uint256)')
const CREATE = toFunctionSelector(getAbiItem({ abi: labelingEscrowAbi, name: 'createCampaign' }))

/** Press Tab until the element with this test id has focus (fails after `max` presses): it is reachable by keyboard. */
async function tabTo(page: Page, testid: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((id) => (document.activeElement as HTMLElement | null)?.dataset?.testid === id, testid)) return
  }
  assert.fail(`${testid} not reachable with Tab in ${max} presses`)
}

/** The page is no wider than its viewport (nothing to scroll sideways). */
async function assertNoSideScroll(page: Page, what: string): Promise<void> {
  const { sw, vw, wide } = await page.evaluate(() => {
    const vw = window.innerWidth
    // The outermost elements that stick out (for the failure message).
    // Elements inside a box that scrolls or clips sideways do not widen the page: leave them out.
    const clipped = (e: Element): boolean => {
      for (let p = e.parentElement; p; p = p.parentElement) if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true
      return false
    }
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !clipped(e) && e.getBoundingClientRect().right > vw + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > vw + 1))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`)
    return { sw: document.documentElement.scrollWidth, vw, wide }
  })
  assert.ok(sw <= vw, `${what}: page is ${sw}px wide in a ${vw}px viewport: ${wide.join(', ')}`)
}

/** Label every task the Label tab offers: demonstrations get a text, rankings the default order (Ctrl+Enter). */
async function labelAll(page: Page, who: string): Promise<number> {
  await page.getByTestId('tab-work').click()
  let n = 0
  for (let i = 0; i < 8; i++) {
    const which = await Promise.race([
      page.getByTestId('demo-task').waitFor().then(() => 'demo'),
      page.getByTestId('rank-task').waitFor().then(() => 'rank'),
      page.getByTestId('no-tasks').waitFor().then(() => 'none'),
    ])
    if (which === 'none') return n
    // The task chip (data-testid task-chip, "task #12 · ranking") changes when the next task replaces this one.
    const chip = await page.evaluate(() => document.querySelector('[data-testid="task-chip"]')?.textContent ?? null)
    if (which === 'demo') {
      await page.getByTestId('demo-text').fill(`${who}: a reentrancy attack re-enters a contract before its state is updated; use checks-effects-interactions.`)
      await page.getByTestId('demo-submit').click()
    } else {
      await page.getByTestId('rank-card-0').focus()
      await page.keyboard.press('Control+Enter')
    }
    n++
    await page.waitForFunction((c) => !!document.querySelector('[data-testid="no-tasks"]') || (document.querySelector('[data-testid="task-chip"]')?.textContent ?? null) !== c, chip)
    assert.match((await page.getByTestId('status').textContent()) ?? '', /Signed and stored/)
  }
  return n
}

/** Move anvil's clock forward (e.g. past a settlement window) and mine a block at the new time. */
async function advanceChainTime(rpcUrl: string, seconds: number): Promise<void> {
  for (const [method, params] of [['evm_increaseTime', [seconds]], ['evm_mine', []]] as const) {
    const r = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
    assert.equal(((await r.json()) as { error?: unknown }).error, undefined, method)
  }
}

async function connect(page: Page, url: string): Promise<void> {
  await page.goto(url + '/')
  await page.getByTestId('connect-injected').click()
  await page.getByTestId('address').waitFor()
}

test('web app on chain in Chromium: fund, stake, label, settle, withdraw, close, badge; wrong chain; decoded revert', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing`, timeout: 900_000 }, async () => {
  const webDir = await buildWeb()
  const anvil = await startAnvil()
  const requester = devAccount(0)
  const oracle = devAccount(1)
  const [alice, bob, carol] = [devAccount(2), devAccount(3), devAccount(4)]
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: requester, oracle: oracle.address })
  // The dataset "store": the CID of the three files' bytes (the test pins nothing to IPFS).
  const addToStore = async (dir: string) => rawCid(new Uint8Array(Buffer.concat(['demonstrations.jsonl', 'comparisons.jsonl', 'labels.jsonl'].map((f) => readFileSync(join(dir, f))))))
  // The positions cache is long on purpose: every page must show the chain as it is when opened (it reads
  // fresh; the cache only spares the node repeated scans), however recently the server read it last.
  const t = await startTestServer({ webDir, requesters: [requester.address], spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 10 }, chain: createChainReads(d, { cacheMs: 60_000 }), rewards: createRewardsLookup(d), membership: createMembershipCheck({ deployment: d }), addToStore })
  const oracleCtx = createChainContext({ deployment: d, account: oracle })
  const tokenOf = (a: Hex) => createChainContext({ deployment: d }).publicClient.readContract({ address: d.token!, abi: testTokenAbi, functionName: 'balanceOf', args: [a] })
  // A faucet for the labelers (the requester uses the app's "Mint test tokens" button).
  for (const l of [alice, bob, carol]) await sendTx(createChainContext({ deployment: d, account: l }), 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [l.address, parseEther('100')] })

  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
  const contexts: BrowserContext[] = []
  const pageErrors: string[] = []
  const open = async (name: string, account: typeof alice, viewport: { width: number; height: number }, startChainId?: number): Promise<{ page: Page; wallet: TestWallet }> => {
    const ctx = await browser.newContext({ viewport })
    ctx.setDefaultTimeout(180_000)
    contexts.push(ctx)
    const page = await ctx.newPage()
    page.on('pageerror', (e) => pageErrors.push(`${name}: ${e}`))
    const wallet = await injectTestWallet(page, { account, rpcUrl: anvil.rpcUrl, chainId: d.chainId, ...(startChainId ? { startChainId } : {}) })
    await connect(page, t.url)
    return { page, wallet }
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `i3-chain-${name}.png`), fullPage: true })
  // Smaller pictures of one card each, for docs/labeling.md (copied to docs/img/ by hand).
  const docShot = (page: Page, testid: string, name: string) => page.getByTestId(testid).first().screenshot({ path: join(SHOTS, `i3-doc-${name}.png`) })

  try {
    // 1. Requester: a campaign whose prompts come from a file the browser reads.
    const R = await open('requester', requester, { width: 1100, height: 1000 })
    await R.page.getByTestId('tab-dashboard').click()
    await R.page.getByLabel('Name').fill('Chain e2e: web3 explanations')
    await R.page.getByLabel('Policy checkpoint (CID)').fill('bafy-e2e-policy')
    await R.page.getByTestId('prompts-file').setInputFiles({ name: 'prompts.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"prompt": "Explain what a reentrancy attack is and how to prevent it."}\n') })
    await R.page.getByTestId('prompts-file-status').filter({ hasText: '1 prompts read from prompts.jsonl' }).waitFor()
    await R.page.getByRole('button', { name: 'Create', exact: true }).click()
    await R.page.getByTestId('create-on-chain').waitFor()
    const serviceId = (await t.server.ctx.db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow()).id

    // Bad input names the field; nothing is sent.
    await R.page.getByTestId('chain-reward').fill('one')
    await R.page.getByTestId('create-on-chain-btn').click()
    assert.match((await R.page.getByTestId('chain-form-error').textContent()) ?? '', /^Reward per label: /)
    await R.page.getByTestId('chain-reward').fill('1')
    assert.equal(await R.page.getByTestId('chain-form-error').count(), 0, 'the message goes once the field changes')
    assert.equal(R.wallet.sent.length, 0)

    // Test tokens from the local faucet button, then approve + create-and-fund, double-clicked: one of each.
    await R.page.getByTestId('mint-test-tokens').click()
    await R.page.locator('[data-testid="tx-mint-step-0"][data-status="confirmed"]').waitFor()
    await shot(R.page, 'requester-create')
    await docShot(R.page, 'requester-chain', 'requester-create')
    await R.page.getByTestId('create-on-chain-btn').dblclick()
    await R.page.getByTestId('funded-campaign').waitFor()
    assert.equal(R.wallet.sent.filter((s) => s.data.startsWith(CREATE)).length, 1, 'a double click creates one campaign')
    assert.equal(R.wallet.sent.length, 3, 'mint, approve, create')
    const onchain = await getCampaign(oracleCtx, 1n)
    assert.equal(onchain.requester, requester.address)
    assert.equal(onchain.funded, parseEther('100'))
    assert.equal(onchain.params.qualityThresholdBps, 8000)
    assert.equal(onchain.params.vestingPeriod, 7n * 86400n)
    const linked = await t.server.ctx.db.selectFrom('campaigns').select('chain_campaign_id').where('id', '=', serviceId).executeTakeFirstOrThrow()
    assert.equal(linked.chain_campaign_id, '1')
    assert.equal(await R.page.getByTestId('acct-budget').textContent(), '100 I3T')

    // 2. Alice (desktop) reads the terms, then stakes and joins: two wallet prompts, both confirmed.
    const A = await open('alice', alice, { width: 1100, height: 1000 })
    await A.page.getByTestId('tab-stake').click()
    const terms = (await A.page.getByTestId('terms-1').textContent()) ?? ''
    for (const s of ['Reward per label1 I3T', 'Required stake10 I3T', 'Quality threshold80%', 'Paid at once50%', 'Vesting period7 d']) assert.ok(terms.includes(s), `terms show "${s}": ${terms}`)
    await shot(A.page, 'labeler-terms')
    await docShot(A.page, 'chain-campaign-1', 'labeler-terms')
    await A.page.getByTestId('join-1').click()
    await A.page.getByTestId('position-1').waitFor()
    assert.equal(await A.page.getByTestId('tx-join-1-step-0').getAttribute('data-status'), 'confirmed')
    assert.equal(await A.page.getByTestId('tx-join-1-step-1').getAttribute('data-status'), 'confirmed')
    assert.equal(A.wallet.sent.length, 2, 'approve + join')
    assert.equal((await getPosition(oracleCtx, 1n, alice.address)).stake, parseEther('10'))

    // 3. Bob: a phone (390 px), his wallet on chain 1 that does not know anvil; keyboard only.
    const B = await open('bob', bob, { width: 390, height: 844 }, 1)
    await B.page.getByTestId('tab-stake').focus()
    await B.page.keyboard.press('Enter')
    await B.page.getByTestId('wrong-chain').waitFor()
    await shot(B.page, 'wrong-chain-390')
    await docShot(B.page, 'wrong-chain', 'wrong-chain-390')
    await assertNoSideScroll(B.page, 'Stake & earn at 390 px')
    await B.page.getByTestId('tab-stake').focus()
    await tabTo(B.page, 'switch-chain')
    await B.page.keyboard.press('Enter')
    await B.page.getByTestId('wrong-chain').waitFor({ state: 'detached' })
    assert.equal(B.wallet.chainId(), d.chainId)
    const switching = B.wallet.calls.filter((m) => m.startsWith('wallet_'))
    assert.deepEqual(switching, ['wallet_switchEthereumChain', 'wallet_addEthereumChain', 'wallet_switchEthereumChain'], 'switch, add (4902), switch')
    assert.deepEqual(B.wallet.added, [{ chainId: d.chainId, rpcUrls: [anvil.rpcUrl] }])
    await tabTo(B.page, 'join-1')
    await B.page.keyboard.press('Enter')
    await B.page.getByTestId('position-1').waitFor()
    await shot(B.page, 'joined-390')
    await assertNoSideScroll(B.page, 'position at 390 px')

    // 4. Both label through the Label tab (EIP-712 signed labels).
    assert.ok((await labelAll(A.page, 'alice')) >= 1)
    assert.ok((await labelAll(B.page, 'bob')) >= 1)

    // 5. The requester exports; the service (oracle) settles the export on chain.
    await R.page.getByTestId(`campaign-${serviceId}`).focus()
    await R.page.keyboard.press('Enter')
    await R.page.getByTestId('export').click()
    await R.page.getByTestId('export-result').waitFor()
    const batch = readBatchManifest(join(t.dir, 'exports', serviceId, 'batch.json'))
    assert.equal(batch.chainCampaignId, '1')
    assert.ok(batch.datasetCid)
    const report = await settleBatch(oracleCtx, 1n, batch)
    assert.equal(report.credits.length, 2)
    const q = Object.fromEntries(batch.labelers.map((l) => [l.address.toLowerCase(), l]))
    // pay = accepted × R × q / 10000, half of it claimable at once (R = 1 I3T, I = 50%)
    const claimA = (BigInt(q[alice.address.toLowerCase()].accepted) * parseEther('1') * BigInt(q[alice.address.toLowerCase()].qualityBps)) / 10000n / 2n
    assert.ok(claimA > 0n)

    // The requester's panel: settlements with root, CID and transaction; committed pay.
    await R.page.getByTestId('tab-work').click()
    await R.page.getByTestId('tab-dashboard').click()
    await R.page.getByTestId(`campaign-${serviceId}`).click()
    const row = R.page.getByTestId('settlements').locator('tbody tr').first()
    await row.waitFor()
    const rowHtml = await row.innerHTML()
    for (const v of [batch.merkleRoot, batch.datasetCid!, report.txHash!]) assert.ok(rowHtml.includes(v), `settlement row carries ${v}`)
    const c1 = await getCampaign(oracleCtx, 1n)
    assert.equal(await R.page.getByTestId('acct-committed').textContent(), `${formatUnits(c1.committed, 18)} I3T`)
    assert.equal(await R.page.getByTestId('acct-budget').textContent(), `${formatUnits(c1.budget, 18)} I3T`)
    await shot(R.page, 'requester-settled')
    await docShot(R.page, 'requester-chain', 'requester-settled')

    // The oracle proves fraud against Bob (an oracle-signed gold-failure proof, as settleBatch does for
    // a cheater) and burns his badge: his My work must say "slashed" and show no badge.
    const proof = { campaignId: 1n, labeler: bob.address, goldFailures: 4, goldTotal: 5, evidenceCid: batch.datasetCid! }
    await slashLabeler(oracleCtx, proof, await signFraudProof(oracle, d, proof))
    assert.ok(await revokeBadge(oracleCtx, bob.address))

    // 6. Alice's My work: claimable, vesting with its unlock, badge; a double-clicked Withdraw sends once.
    await A.page.getByTestId('tab-mine').click()
    await A.page.getByTestId('chain-work').waitFor()
    await A.page.getByTestId('position-1').getByTestId('pos-claimable').filter({ hasText: `${formatUnits(claimA, 18)} I3T` }).waitFor()
    assert.match((await A.page.getByTestId('position-1').getByTestId('pos-vesting').textContent()) ?? '', /unlocks /)
    const before = await tokenOf(alice.address)
    await A.page.getByTestId('withdraw-1').dblclick()
    await A.page.locator('[data-testid="tx-withdraw-1-step-0"][data-status="confirmed"]').waitFor()
    assert.equal(A.wallet.sent.filter((s) => s.data.startsWith(WITHDRAW)).length, 1, 'a double click withdraws once')
    assert.equal((await tokenOf(alice.address)) - before, claimA)
    await A.page.getByTestId('position-1').getByTestId('pos-claimable').filter({ hasText: '0 I3T' }).waitFor()
    await shot(A.page, 'labeler-mywork')
    await docShot(A.page, 'position-1', 'labeler-withdrawn')
    await assertNoSideScroll(A.page, 'My work at 1100 px')

    // 7. Carol opens the campaign while it is open; the requester closes it; her join then reverts by name.
    const C = await open('carol', carol, { width: 1100, height: 900 })
    await C.page.getByTestId('tab-stake').click()
    await C.page.getByTestId('join-1').waitFor()
    await R.page.getByTestId('fund-amount').focus()
    await tabTo(R.page, 'close-chain-btn', 5)
    await R.page.keyboard.press('Enter')
    await R.page.locator('[data-testid="tx-close-step-0"][data-status="confirmed"]').waitFor()
    assert.equal((await getCampaign(oracleCtx, 1n)).open, false)
    await shot(R.page, 'requester-closed')
    await C.page.getByTestId('join-1').click()
    await C.page.locator('[data-testid="tx-join-1-step-1"][data-status="reverted"]').waitFor()
    const revert = (await C.page.getByTestId('tx-join-1-error').textContent()) ?? ''
    assert.match(revert, /^CampaignNotOpen\(1\): the campaign is closed/)
    assert.equal((await getPosition(oracleCtx, 1n, carol.address)).joined, false)
    await shot(C.page, 'revert-decoded')
    await docShot(C.page, 'chain-campaign-1', 'revert-decoded')

    // 8. The stake stays locked through the settlement window (1 day); after it Alice takes it back,
    //    the requester refunds the unspent budget, and Alice sees her badge with the dataset it certifies.
    await A.page.getByTestId('tab-stake').click()
    await A.page.getByTestId('position-1').getByTestId('pos-stake').filter({ hasText: 'after the settlement window' }).waitFor()
    assert.equal(await A.page.getByTestId('withdraw-stake-1').count(), 0, 'no Withdraw stake during the settlement window')
    await advanceChainTime(anvil.rpcUrl, 86400 + 1)
    await A.page.getByTestId('refresh-chain').click()
    await A.page.getByTestId('withdraw-stake-1').waitFor()
    const stakeBefore = await tokenOf(alice.address)
    await A.page.getByTestId('withdraw-stake-1').click()
    await A.page.locator('[data-testid="tx-withdraw-stake-1-step-0"][data-status="confirmed"]').waitFor()
    assert.equal((await tokenOf(alice.address)) - stakeBefore, parseEther('10'))
    const badge = await getBadge(oracleCtx, alice.address)
    assert.ok(badge && badge.level >= 1)
    await A.page.getByTestId('badge-level').filter({ hasText: `${badge.levelName} · level ${badge.level}` }).waitFor()
    assert.ok(((await A.page.getByTestId('badge-datasets').textContent()) ?? '').includes(batch.datasetCid!))
    assert.equal(await A.page.getByTestId('badge-uri').textContent().then((s) => s?.includes(badge.tokenURI)), true)
    await A.page.getByTestId('position-1').getByTestId('pos-stake').filter({ hasText: '0 I3T' }).waitFor()
    await shot(A.page, 'labeler-badge')
    await docShot(A.page, 'badge-card', 'badge')

    const budgetLeft = (await getCampaign(oracleCtx, 1n)).budget
    assert.ok(budgetLeft > 0n)
    const reqBefore = await tokenOf(requester.address)
    await R.page.getByTestId('tab-work').click()
    await R.page.getByTestId('tab-dashboard').click()
    await R.page.getByTestId(`campaign-${serviceId}`).click()
    await R.page.getByTestId('refund-btn').click()
    await R.page.locator('[data-testid="tx-refund-step-0"][data-status="confirmed"]').waitFor()
    assert.equal((await tokenOf(requester.address)) - reqBefore, budgetLeft)
    await R.page.getByTestId('acct-budget').filter({ hasText: /^0 I3T$/ }).waitFor()
    await shot(R.page, 'requester-refunded')
    await R.page.setViewportSize({ width: 390, height: 844 })
    await shot(R.page, 'requester-390')
    await assertNoSideScroll(R.page, 'Dashboard at 390 px')

    // Bob's My work at phone width: no sideways scrolling.
    await B.page.getByTestId('tab-mine').click()
    await B.page.getByTestId('chain-work').waitFor()
    await B.page.getByTestId('position-1').getByTestId('pos-status').filter({ hasText: 'slashed (proven fraud)' }).waitFor()
    await B.page.getByTestId('position-1').getByTestId('pos-stake').filter({ hasText: /^0 I3T/ }).waitFor()
    await B.page.getByTestId('no-badge').waitFor()
    assert.equal(await B.page.getByTestId('withdraw-stake-1').count(), 0, 'a slashed stake offers no Withdraw stake')
    await shot(B.page, 'mywork-390')
    await assertNoSideScroll(B.page, 'My work at 390 px')
    assert.deepEqual(pageErrors, [])
  } finally {
    for (const c of contexts) await c.close().catch(() => {})
    await browser.close().catch(() => {})
    await t.close()
    await anvil.close()
  }
})
