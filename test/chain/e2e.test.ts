// End to end on a real anvil: a requester funds a campaign, three labelers stake, a batch in the
// labeling export's batch.json shape is settled by the oracle, pay and badges follow the quality
// scores, the labeler who failed the gold tasks is slashed, and the campaign closes with a refund.
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
import { closeCampaign, createCampaign, getCampaign, getPosition, joinCampaign, withdrawPay, type CampaignParams } from '../../src/chain/campaign.ts'
import { readBatchFile } from '../../src/chain/batch.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { getBadge, rawCid } from '../../src/chain/badges.ts'
import { getLabelerOnchainStatus } from '../../src/chain/status.ts'
import { testTokenAbi, labelerBadgeAbi } from '../../src/chain/generated/index.ts'
import { buildMerkleTree } from '../../src/labeling/merkle.ts'

let anvil: Anvil
let dir: string
let d: Deployment
const requester = devAccount(0)
const oracle = devAccount(1)
const labelers = [devAccount(2), devAccount(3), devAccount(4)]
const [honest, middling, cheater] = labelers.map((a) => a.address)
const E = (x: string) => parseEther(x)

const params: CampaignParams = {
  rewardPerLabel: E('1'),
  requiredStake: E('10'),
  qualityThresholdBps: 8000,
  immediateBps: 5000,
  bonusBps: 1000,
  fraudGoldFailBps: 3000,
  vestingPeriod: 7n * 86400n,
}

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

/** A batch.json as the labeling export writes it: per-label hashes with Merkle proofs, per-labeler scores. */
function writeBatch(name: string, rows: Array<{ labeler: Address; labels: number; accepted: number; qualityBps: number; goldFailures: number; goldTotal: number }>, datasetCid: string, chainCampaignId: bigint): string {
  const labels = rows.flatMap((r) =>
    Array.from({ length: r.labels }, (_, i) => ({ labelHash: keccak256(toHex(JSON.stringify({ batch: name, labeler: r.labeler, i }))), labeler: r.labeler, kind: 'ranking' })),
  )
  const tree = buildMerkleTree(labels.map((l) => l.labelHash))
  const manifest = {
    version: 1,
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

test('campaign: fund, stake, settle by quality, slash the cheater, badges, appreciation, close', async () => {
  const req = ctxOf(requester)
  await mint(req, requester.address, E('1000'))
  for (const l of labelers) await mint(req, l.address, E('100'))
  const { campaignId } = await createCampaign(req, { token: d.token!, oracle: oracle.address, params, funding: E('1000') })
  assert.equal(campaignId, 1n)
  for (const l of labelers) await joinCampaign(ctxOf(l), campaignId)
  assert.equal((await getCampaign(req, campaignId)).stakes, E('30'))

  const datasetCid = await rawCid(new TextEncoder().encode('labels of batch 1'))
  const file = writeBatch('b1', [
    { labeler: honest, labels: 12, accepted: 12, qualityBps: 9500, goldFailures: 0, goldTotal: 3 },
    { labeler: middling, labels: 10, accepted: 8, qualityBps: 7000, goldFailures: 0, goldTotal: 3 },
    { labeler: cheater, labels: 10, accepted: 2, qualityBps: 3000, goldFailures: 4, goldTotal: 5 },
  ], datasetCid, campaignId)
  const report = await settleBatch(ctxOf(oracle), campaignId, readBatchFile(file))

  // the cheater failed 4/5 gold tasks (> 30%): slashed, not paid, no badge
  assert.deepEqual(report.slashed.map((s) => [s.labeler, s.fromStake, s.evidenceCid]), [[cheater, E('10'), datasetCid]])
  const cp = await getPosition(req, campaignId, cheater)
  assert.equal(cp.slashed, true)
  assert.equal(cp.stake, 0n)
  assert.equal(cp.claimable + cp.vesting, 0n)
  assert.equal(await getBadge(req, cheater), null)

  // pay = accepted x reward x quality; half at once, half vesting
  assert.equal(report.batchIndex, 1)
  const hp = await getPosition(req, campaignId, honest)
  assert.equal(hp.claimable, E('5.7'))
  assert.equal(hp.vesting, E('5.7'))
  const mp = await getPosition(req, campaignId, middling)
  assert.equal(mp.claimable, E('2.8'))
  assert.equal(mp.vesting, E('2.8'))
  assert.ok(hp.claimable > mp.claimable, 'higher quality, more pay')
  // budget: 1000 - 11.4 - 5.6 + 10 slashed
  assert.equal((await getCampaign(req, campaignId)).budget, E('993'))

  // badges: 12 accepted at 95% -> Bronze (2); 8 accepted -> Contributor (1)
  const hb = await getBadge(req, honest)
  const mb = await getBadge(req, middling)
  assert.equal(hb?.level, 2)
  assert.equal(mb?.level, 1)
  assert.match(hb!.tokenURI, /^ipfs:\/\/b/)
  assert.deepEqual(report.badges.find((b) => b.labeler === honest)?.metadata?.datasets, [datasetCid])
  assert.equal(await req.publicClient.readContract({ address: d.badge, abi: labelerBadgeAbi, functionName: 'locked', args: [hb!.tokenId] }), true)
  // soulbound: the honest labeler cannot hand the badge to anyone
  await assert.rejects(
    sendTx(ctxOf(labelers[0]), 'LabelerBadge.transferFrom', { address: d.badge, abi: labelerBadgeAbi, functionName: 'transferFrom', args: [honest, middling, hb!.tokenId] }),
    /Soulbound/,
  )

  // replaying the same batch is refused by the contract, by name
  await assert.rejects(settleBatch(ctxOf(oracle), campaignId, readBatchFile(file), { badges: false }), /BatchAlreadySettled/)
  // only the oracle settles
  await assert.rejects(settleBatch(ctxOf(requester), campaignId, readBatchFile(file), { badges: false }), /WrongOracle/)

  // the immediate half is withdrawable, the vesting half is locked
  const before = await balance(honest)
  await withdrawPay(ctxOf(labelers[0]), campaignId)
  assert.equal((await balance(honest)) - before, E('5.7'))
  await assert.rejects(withdrawPay(ctxOf(labelers[0]), campaignId), /StillLocked/)

  // a later batch where the honest labeler stays above the threshold: vesting stake appreciates 10%
  const file2 = writeBatch('b2', [{ labeler: honest, labels: 1, accepted: 1, qualityBps: 10_000, goldFailures: 0, goldTotal: 1 }], datasetCid, campaignId)
  const r2 = await settleBatch(ctxOf(oracle), campaignId, readBatchFile(file2))
  assert.equal(r2.credits[0].bonus, E('0.57'))
  assert.equal((await getPosition(req, campaignId, honest)).vesting, E('5.7') + E('0.57') + E('0.5'))
  assert.equal(r2.badges[0].action, 'upgraded')

  const status = await getLabelerOnchainStatus(honest, { deployment: d })
  assert.equal(status.badge?.level, 2)
  assert.equal(status.totalAccepted, 13)
  assert.equal(status.earnings[d.token!], (E('11.4') + E('0.57') + E('1')).toString())
  assert.equal(status.vestingStake[d.token!], (E('5.7') + E('0.57') + E('0.5')).toString())

  // close: unspent budget back to the requester; everything else stays for the labelers
  const reqBefore = await balance(requester.address)
  const { refunded } = await closeCampaign(req, campaignId)
  assert.equal((await balance(requester.address)) - reqBefore, refunded)
  const c = await getCampaign(req, campaignId)
  assert.equal(await balance(d.escrow), c.budget + c.committed + c.stakes)
  assert.equal(c.funded + c.stakedIn, (await balance(d.escrow)) + c.paidOut + c.refunded + c.stakeReturned)
})
