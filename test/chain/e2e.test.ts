// End to end on a real anvil: a requester funds a campaign, labelers stake, two successive exports
// of the campaign (batch.json, cumulative counts) are settled one after the other and each label is
// paid once; pay and badges follow the quality scores, the labeler who failed the gold tasks is
// slashed, a wallet that never staked is skipped, and the campaign closes, settles in its window,
// refunds and returns the stakes.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { erc20Abi, keccak256, parseEther, toHex, type Address } from 'viem'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx, type ChainContext } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { closeCampaign, createCampaign, getCampaign, getPosition, joinCampaign, refundCampaign, withdrawPay, withdrawStake, type CampaignParams } from '../../src/chain/campaign.ts'
import { readBatchManifest } from '../../src/batch/index.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { getBadge, rawCid } from '../../src/chain/badges.ts'
import { getLabelerOnchainStatus } from '../../src/chain/status.ts'
import { testTokenAbi, labelerBadgeAbi, labelingEscrowAbi } from '../../src/chain/generated/index.ts'
import { buildMerkleTree } from '../../src/batch/index.ts'

let anvil: Anvil
let dir: string
let d: Deployment
const requester = devAccount(0)
const oracle = devAccount(1)
const labelers = [devAccount(2), devAccount(3), devAccount(4), devAccount(5)]
const [honest, middling, cheater, latecomer] = labelers.map((a) => a.address)
const unstaked = devAccount(6).address
const E = (x: string) => parseEther(x)

const DAY = 86400n
const params = (now: bigint): CampaignParams => ({
  rewardPerLabel: E('1'),
  requiredStake: E('10'),
  qualityThresholdBps: 8000,
  immediateBps: 5000,
  bonusBps: 1000,
  fraudGoldFailBps: 3000,
  vestingPeriod: 7n * DAY,
  deadline: now + 30n * DAY,
  settlementWindow: 3n * DAY,
})

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'instruct3-chain-e2e-'))
  anvil = await startAnvil()
  d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: requester, oracle: oracle.address })
})

after(async () => {
  await anvil?.close()
  rmSync(dir, { recursive: true, force: true })
})

const ctxOf = (account = requester): ChainContext => createChainContext({ deployment: d, account })
const balance = (who: Address) => ctxOf().publicClient.readContract({ address: d.token!, abi: erc20Abi, functionName: 'balanceOf', args: [who] })
const mint = (ctx: ChainContext, to: Address, amount: bigint) =>
  sendTx(ctx, 'TestToken.mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [to, amount] })

const warp = async (seconds: bigint) => {
  await ctxOf().publicClient.request({ method: 'evm_increaseTime', params: [toHex(seconds)] } as never)
  await ctxOf().publicClient.request({ method: 'evm_mine', params: [] } as never)
}

/**
 * A batch.json as the labeling export writes it: every label of the campaign so far (a labeler's
 * i-th label has the same hash in every export), Merkle proofs, cumulative per-labeler counts.
 */
function writeBatch(name: string, rows: Array<{ labeler: Address; labels: number; accepted: number; qualityBps: number; goldFailures: number; goldTotal: number }>, datasetCid: string, chainCampaignId: bigint): string {
  const labels = rows.flatMap((r) =>
    Array.from({ length: r.labels }, (_, i) => ({ labelHash: keccak256(toHex(JSON.stringify({ labeler: r.labeler, i }))), labeler: r.labeler, kind: 'ranking', accepted: i < r.accepted })),
  )
  const tree = buildMerkleTree(labels.map((l) => l.labelHash))
  const manifest = {
    version: 2,
    campaignId: `svc-${name}`,
    chainCampaignId: chainCampaignId.toString(),
    createdAt: new Date().toISOString(),
    merkleRoot: tree.root,
    labelCount: labels.length,
    labels: labels.map((l, i) => ({ ...l, proof: tree.proofs[i] })),
    labelers: rows.map((r) => ({ address: r.labeler, accepted: r.accepted, qualityBps: r.qualityBps, goldFailures: r.goldFailures, goldTotal: r.goldTotal })),
    datasetCid,
  }
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(manifest, null, 2))
  return file
}

test('campaign: two exports settled one after the other pay each label once; slash, skip, badges, close, window, refund', async () => {
  const req = ctxOf(requester)
  await mint(req, requester.address, E('1000'))
  for (const l of labelers) await mint(req, l.address, E('100'))
  const now = (await req.publicClient.getBlock()).timestamp
  const { campaignId } = await createCampaign(req, { token: d.token!, oracle: oracle.address, params: params(now), funding: E('1000') })
  assert.equal(campaignId, 1n)
  for (const l of labelers.slice(0, 3)) await joinCampaign(ctxOf(l), campaignId)
  assert.equal((await getCampaign(req, campaignId)).stakes, E('30'))
  // the requester cannot settle its own campaign, nor name itself oracle of a new one
  await assert.rejects(createCampaign(req, { token: d.token!, oracle: requester.address, params: params(now), funding: 0n }), /RequesterIsOracle/)

  // ---- export 1: honest 12/12 accepted at 95%, middling 8/10 at 70%, cheater fails gold, and a
  // wallet that labelled without staking ----
  const datasetCid = await rawCid(new TextEncoder().encode('labels of export 1'))
  const file = writeBatch('e1', [
    { labeler: honest, labels: 12, accepted: 12, qualityBps: 9500, goldFailures: 0, goldTotal: 3 },
    { labeler: middling, labels: 10, accepted: 8, qualityBps: 7000, goldFailures: 0, goldTotal: 3 },
    { labeler: cheater, labels: 10, accepted: 2, qualityBps: 3000, goldFailures: 4, goldTotal: 5 },
    { labeler: unstaked, labels: 3, accepted: 3, qualityBps: 9000, goldFailures: 0, goldTotal: 1 },
  ], datasetCid, campaignId)
  const report = await settleBatch(ctxOf(oracle), campaignId, readBatchManifest(file))

  // the unstaked wallet is skipped (not paid) and reported, instead of failing the whole settlement
  assert.deepEqual(report.skipped, [{ labeler: unstaked, reason: 'not-joined' }])
  // the cheater failed 4/5 gold tasks (> 30%): slashed, not paid, no badge
  assert.deepEqual(report.slashed.map((s) => [s.labeler, s.fromStake, s.evidenceCid]), [[cheater, E('10'), datasetCid]])
  const cp = await getPosition(req, campaignId, cheater)
  assert.equal(cp.slashed, true)
  assert.equal(cp.stake, 0n)
  assert.equal(cp.claimable + cp.vesting, 0n)
  assert.equal(await getBadge(req, cheater), null)

  // pay = accepted x reward x quality; half at once, half vesting; 10% of the vesting half reserved
  // as bonus for the labeler at or above the 80% threshold
  assert.equal(report.batchIndex, 1)
  const hp = await getPosition(req, campaignId, honest)
  assert.equal(hp.claimable, E('5.7'))
  assert.equal(hp.vesting, E('5.7'))
  assert.equal(hp.bonusReserve, E('0.57'))
  assert.equal(hp.settledAccepted, 12)
  const mp = await getPosition(req, campaignId, middling)
  assert.equal(mp.claimable, E('2.8'))
  assert.equal(mp.vesting, E('2.8'))
  assert.equal(mp.bonusReserve, 0n)
  // budget: 1000 - 11.4 - 0.57 - 5.6 + 10 slashed
  assert.equal((await getCampaign(req, campaignId)).budget, E('992.43'))

  // badges: 12 accepted at 95% -> Bronze (2); 8 accepted -> Contributor (1)
  const hb = await getBadge(req, honest)
  const mb = await getBadge(req, middling)
  assert.equal(hb?.level, 2)
  assert.equal(mb?.level, 1)
  assert.match(hb!.tokenURI, /^ipfs:\/\/b/)
  assert.deepEqual(report.badges.find((b) => b.labeler === honest)?.metadata?.datasets, [datasetCid])
  assert.equal(await req.publicClient.readContract({ address: d.badge, abi: labelerBadgeAbi, functionName: 'locked', args: [hb!.tokenId] }), true)
  await assert.rejects(
    sendTx(ctxOf(labelers[0]), 'LabelerBadge.transferFrom', { address: d.badge, abi: labelerBadgeAbi, functionName: 'transferFrom', args: [honest, middling, hb!.tokenId] }),
    /Soulbound/,
  )

  // settling export 1 again pays nothing (and sends no transaction); only the oracle settles
  const again = await settleBatch(ctxOf(oracle), campaignId, readBatchManifest(file), { badges: false })
  assert.equal(again.pages.length, 0)
  assert.deepEqual(again.credits, [])
  await assert.rejects(
    sendTx(ctxOf(requester), 'LabelingEscrow.settle', { address: d.escrow, abi: labelingEscrowAbi, functionName: 'settle', args: [campaignId, readBatchManifest(file).merkleRoot, 100, '', [{ labeler: honest, accepted: 13, qualityBps: 10_000 }]] }),
    /WrongOracle/,
  )

  // the immediate half is withdrawable, the vesting half is locked
  const before = await balance(honest)
  await withdrawPay(ctxOf(labelers[0]), campaignId)
  assert.equal((await balance(honest)) - before, E('5.7'))
  await assert.rejects(withdrawPay(ctxOf(labelers[0]), campaignId), /StillLocked/)

  // ---- export 2 of the same campaign: everything of export 1 plus 3 new labels of the honest
  // labeler and 4 of a latecomer; paged one labeler per transaction ----
  await joinCampaign(ctxOf(labelers[3]), campaignId)
  const file2 = writeBatch('e2', [
    { labeler: honest, labels: 15, accepted: 15, qualityBps: 10_000, goldFailures: 0, goldTotal: 4 },
    { labeler: middling, labels: 10, accepted: 8, qualityBps: 7000, goldFailures: 0, goldTotal: 3 },
    { labeler: cheater, labels: 10, accepted: 2, qualityBps: 3000, goldFailures: 4, goldTotal: 5 },
    { labeler: latecomer, labels: 4, accepted: 4, qualityBps: 8000, goldFailures: 0, goldTotal: 1 },
  ], datasetCid, campaignId)
  const r2 = await settleBatch(ctxOf(oracle), campaignId, readBatchManifest(file2), { pageSize: 1 })
  assert.equal(r2.batchIndex, 2)
  assert.equal(r2.pages.length, 2, 'two labelers with new labels, one per page')
  assert.deepEqual(r2.credits.map((c) => [c.labeler, c.accepted]), [[honest, 3], [latecomer, 4]])
  assert.deepEqual(r2.skipped.map((k) => [k.labeler, k.reason]).sort(), [[cheater, 'slashed'], [middling, 'nothing-new']].sort())
  const hp2 = await getPosition(req, campaignId, honest)
  // 15 labels in all: 12 at 95% + 3 at 100% = 14.4 tokens, each label once
  assert.equal(hp2.withdrawn + hp2.claimable + hp2.vesting, E('14.4'))
  assert.equal(hp2.settledAccepted, 15)
  // settling export 1 after export 2 (an older export) pays nothing either
  const older = await settleBatch(ctxOf(oracle), campaignId, readBatchManifest(file), { badges: false })
  assert.equal(older.pages.length, 0)
  const hp3 = await getPosition(req, campaignId, honest)
  assert.equal(hp3.withdrawn + hp3.claimable + hp3.vesting, E('14.4'))

  const status = await getLabelerOnchainStatus(honest, { deployment: d })
  assert.equal(status.badge?.level, 2)
  assert.equal(status.totalAccepted, 15)

  // ---- close: work labelled before close still settles during the window; then stakes unlock ----
  await closeCampaign(req, campaignId)
  const file3 = writeBatch('e3', [
    { labeler: honest, labels: 15, accepted: 15, qualityBps: 10_000, goldFailures: 0, goldTotal: 4 },
    { labeler: latecomer, labels: 6, accepted: 6, qualityBps: 8000, goldFailures: 0, goldTotal: 1 },
  ], datasetCid, campaignId)
  const r3 = await settleBatch(ctxOf(oracle), campaignId, readBatchManifest(file3), { badges: false })
  assert.deepEqual(r3.credits.map((c) => [c.labeler, c.accepted]), [[latecomer, 2]])
  await assert.rejects(withdrawStake(ctxOf(labelers[0]), campaignId), /SettlementWindowOpen/)
  await assert.rejects(refundCampaign(req, campaignId), /SettlementWindowOpen/)
  await warp(3n * DAY)
  // after the window nothing more settles
  await assert.rejects(
    sendTx(ctxOf(oracle), 'LabelingEscrow.settle', { address: d.escrow, abi: labelingEscrowAbi, functionName: 'settle', args: [campaignId, readBatchManifest(file3).merkleRoot, 100, '', [{ labeler: latecomer, accepted: 7, qualityBps: 8000 }]] }),
    /SettlementOver/,
  )
  const reqBefore = await balance(requester.address)
  const { refunded } = await refundCampaign(ctxOf(labelers[1]), campaignId) // anyone may trigger it
  assert.equal((await balance(requester.address)) - reqBefore, refunded)
  await withdrawStake(ctxOf(labelers[0]), campaignId)
  const c = await getCampaign(req, campaignId)
  assert.equal(c.budget, 0n)
  assert.equal(await balance(d.escrow), c.budget + c.committed + c.stakes)
  assert.equal(c.funded + c.stakedIn, (await balance(d.escrow)) + c.paidOut + c.refunded + c.stakeReturned)
})
