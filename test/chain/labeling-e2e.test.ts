// The whole loop through the real labeling service: three labelers (anvil dev wallets) sign in
// over SIWE and label a ranking campaign through the HTTP API (one ranks against consensus and
// fails the gold task), the requester exports the batch, the oracle settles batch.json on anvil,
// and pay, slashing and badges follow the exported quality scores; the service's /api/me/stats
// then shows each labeler's on-chain earnings and badge.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, parseEther } from 'viem'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { createCampaign, getPosition, joinCampaign } from '../../src/chain/campaign.ts'
import { readBatchManifest } from '../../src/batch/index.ts'
import { createMembershipCheck } from '../../src/chain/membership.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { getBadge } from '../../src/chain/badges.ts'
import { createRewardsLookup } from '../../src/chain/rewards.ts'
import { labelerBadgeAbi, testTokenAbi } from '../../src/chain/generated/index.ts'
import { createLabelingServer, type LabelingServer } from '../../src/labeling/server.ts'
import { createApiClient, makeLabel, signLabel } from '../../src/labeling/client.ts'

let anvil: Anvil
let d: Deployment
let dir: string
let server: LabelingServer
let url: string
const requester = devAccount(0)
const oracle = devAccount(1)
const labelers = [devAccount(2), devAccount(3), devAccount(4)]
const cheater = labelers[2]
const unstaked = devAccount(5)

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'instruct3-chain-labeling-'))
  anvil = await startAnvil()
  d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: requester, oracle: oracle.address })
  server = await createLabelingServer({
    db: join(dir, 'labels.sqlite'),
    logger: false,
    rateLimit: false,
    // every claim starts with the gold task while one is left, so the cheater surely meets (and fails) gold
    randomInt: () => 0,
    exportDir: join(dir, 'exports'),
    requesters: [requester.address],
    spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 10 },
    rewards: createRewardsLookup(d),
    membership: createMembershipCheck({ deployment: d }),
  })
  url = (await server.listen(0)).url
})

after(async () => {
  await server?.close()
  await anvil?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('label through the API, export, settle on chain: pay, slashing and badges follow quality; only staked wallets get tasks', { timeout: 120_000 }, async () => {
  // 0. on chain: fund the campaign and stake the three labelers
  const req = createChainContext({ deployment: d, account: requester })
  await sendTx(req, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [requester.address, parseEther('1000')] })
  const now = (await req.publicClient.getBlock()).timestamp
  const params = { rewardPerLabel: parseEther('1'), requiredStake: parseEther('10'), qualityThresholdBps: 8000, immediateBps: 5000, bonusBps: 1000, fraudGoldFailBps: 3000, vestingPeriod: 86400n, deadline: now + 30n * 86400n, settlementWindow: 86400n }
  const { campaignId } = await createCampaign(req, { token: d.token!, oracle: oracle.address, params, funding: parseEther('1000') })
  for (const w of labelers) {
    const ctx = createChainContext({ deployment: d, account: w })
    await sendTx(ctx, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [w.address, parseEther('10')] })
    await joinCampaign(ctx, campaignId)
  }

  // 1. the service: a ranking campaign (tied to the on-chain one) with a gold task mixed in
  const rc = createApiClient(url)
  assert.equal((await rc.signIn(requester)).status, 200)
  const gold = [{ prompt: 'gold prompt', responses: ['best', 'good', 'meh', 'bad'], ranking: [0, 1, 2, 3] }]
  const prompts = ['Explain what a reentrancy attack is.', 'Summarise EIP-1559 in two sentences.', 'What does SWC-107 describe?']
  const cr = await rc.call('POST', '/api/campaigns', { name: 'chain e2e', prompts, policy: 'bafy-policy', kinds: ['ranking'], k: 4, overlap: 3, goldEvery: 2, gold, leaseSeconds: 60, chainCampaignId: campaignId.toString() })
  assert.equal(cr.status, 201, JSON.stringify(cr.body))
  const serviceId: string = cr.body.campaign.id

  // a wallet that never staked gets no task (its work could not be paid)
  const uc = createApiClient(url)
  assert.equal((await uc.signIn(unstaked)).status, 200)
  const refused = await uc.call('POST', `/api/campaigns/${serviceId}/tasks/claim`, { count: 10 })
  assert.equal(refused.status, 403, JSON.stringify(refused.body))
  assert.equal(refused.body.error.code, 'ENOTJOINED')

  // 2. three labelers label everything they are given; the cheater ranks everything backwards
  for (const w of labelers) {
    const c = createApiClient(url)
    assert.equal((await c.signIn(w)).status, 200)
    const { body } = await c.call('POST', `/api/campaigns/${serviceId}/tasks/claim`, { count: 10 })
    assert.ok(body.tasks.length > 0)
    for (const task of body.tasks) {
      const ranking = w === cheater ? [3, 2, 1, 0] : [0, 1, 2, 2]
      const label = makeLabel(task, w.address, { ranking, likert: [6, 5, 3, 2] })
      const { signature } = await signLabel(w, 31337, label)
      const r = await c.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `k-${task.taskId}-${w.address}`, label, signature })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
  }
  const ex = await rc.call('POST', `/api/campaigns/${serviceId}/export`, {})
  assert.equal(ex.status, 200, JSON.stringify(ex.body))
  const batch = readBatchManifest(join(ex.body.dir, 'batch.json'))
  const row = (a: string) => batch.labelers.find((l) => l.address === getAddress(a))!
  assert.ok(row(cheater.address).goldFailures > 0, 'the backwards ranker failed gold')
  for (const w of labelers.slice(0, 2)) assert.ok(row(w.address).qualityBps > row(cheater.address).qualityBps)

  assert.equal(batch.chainCampaignId, campaignId.toString())
  assert.ok(!batch.labelers.some((l) => l.address === getAddress(unstaked.address)), 'no labels from the unstaked wallet')

  // 3. on chain: settle the exported batch
  const report = await settleBatch(createChainContext({ deployment: d, account: oracle }), campaignId, batch)
  console.log(`exported batch: ${batch.labelCount} labels; ${batch.labelers.map((l) => `${l.address.slice(0, 8)} accepted ${l.accepted} q ${l.qualityBps} gold ${l.goldFailures}/${l.goldTotal}`).join('; ')}; settle gas ${report.gasUsed}`)

  // the cheater: slashed, unpaid, no badge
  assert.deepEqual(report.slashed.map((s) => s.labeler), [getAddress(cheater.address)])
  const cp = await getPosition(req, campaignId, cheater.address)
  assert.equal(cp.slashed, true)
  assert.equal(cp.stake + cp.claimable + cp.vesting, 0n)
  assert.equal(await getBadge(req, cheater.address), null)

  // honest labelers: pay = accepted x reward x quality, exactly; badge level from their work
  for (const w of labelers.slice(0, 2)) {
    const { accepted, qualityBps } = row(w.address)
    const gross = (BigInt(accepted) * parseEther('1') * BigInt(qualityBps)) / 10_000n
    const p = await getPosition(req, campaignId, w.address)
    assert.equal(p.claimable + p.vesting, gross, `${w.address} paid by quality`)
    assert.equal(p.claimable, gross / 2n)
    const badge = await getBadge(req, w.address)
    const expected = await req.publicClient.readContract({ address: d.badge, abi: labelerBadgeAbi, functionName: 'levelAt', args: [BigInt(accepted), BigInt(qualityBps)] })
    assert.equal(badge?.level, expected)
    assert.ok(expected >= 1)

    // 4. the service shows the on-chain rewards to the labeler
    const c = createApiClient(url)
    await c.signIn(w)
    const stats = await c.call('GET', '/api/me/stats')
    assert.equal(stats.status, 200)
    assert.match(stats.body.earnings, /I3T \(vesting /)
    assert.deepEqual(stats.body.badges, [`${badge!.levelName} (level ${badge!.level}) ${badge!.tokenURI}`])
  }
})
