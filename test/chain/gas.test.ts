// Gas of one settlement of 200 labelers (one full page, LabelingEscrow.MAX_BATCH_LABELERS) on a
// real anvil (transaction gasUsed, so it includes the 21k base cost and calldata): the first export,
// the next export (3 more labels each) and a retry of it (pays nothing). Numbers are printed and
// recorded in docs/chain.md.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256, numberToHex, parseEther, toHex, type Address } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { createCampaign, joinCampaign } from '../../src/chain/campaign.ts'
import { parseBatchManifest, buildMerkleTree } from '../../src/batch/index.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { labelingEscrowAbi, testTokenAbi } from '../../src/chain/generated/index.ts'

let anvil: Anvil
let d: Deployment
before(async () => {
  anvil = await startAnvil()
  d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: devAccount(0), oracle: devAccount(1).address })
})
after(async () => {
  await anvil?.close()
})

function batch(name: string, rows: Array<{ address: Address; accepted: number; qualityBps: number }>) {
  const hashes = rows.flatMap((r) => Array.from({ length: r.accepted }, (_, i) => keccak256(toHex(`${r.address}/${i}`))))
  const tree = buildMerkleTree(hashes)
  return parseBatchManifest({
    version: 2,
    campaignId: name,
    chainCampaignId: null,
    merkleRoot: tree.root,
    labelCount: hashes.length,
    labels: hashes.map((h, i) => ({ labelHash: h, labeler: rows[0].address, kind: 'ranking', proof: tree.proofs[i] })),
    labelers: rows.map((r) => ({ ...r, goldFailures: 0, goldTotal: 0 })),
    datasetCid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
  })
}

test('settling 200 labelers in one page fits in a third of a 30M-gas block; a retry costs little', { timeout: 300_000 }, async () => {
  const req = createChainContext({ deployment: d, account: devAccount(0) })
  await sendTx(req, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [devAccount(0).address, parseEther('100000')] })
  const { campaignId } = await createCampaign(req, {
    token: d.token!,
    oracle: devAccount(1).address,
    params: { rewardPerLabel: parseEther('1'), requiredStake: parseEther('1'), qualityThresholdBps: 8000, immediateBps: 5000, bonusBps: 1000, fraudGoldFailBps: 3000, vestingPeriod: 86400n, deadline: (await req.publicClient.getBlock()).timestamp + 30n * 86400n, settlementWindow: 86400n },
    funding: parseEther('100000'),
  })
  const accounts = Array.from({ length: 200 }, () => privateKeyToAccount(generatePrivateKey()))
  for (let i = 0; i < accounts.length; i += 25) {
    await Promise.all(
      accounts.slice(i, i + 25).map(async (a) => {
        await req.publicClient.request({ method: 'anvil_setBalance' as any, params: [a.address, numberToHex(parseEther('1'))] as any })
        const ctx = createChainContext({ deployment: d, account: a })
        await sendTx(ctx, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [a.address, parseEther('1')] })
        await joinCampaign(ctx, campaignId)
      }),
    )
  }
  const rows = accounts.map((a, i) => ({ address: a.address, accepted: 5 + (i % 10), qualityBps: 7000 + ((i * 37) % 3001) }))
  const oracle = createChainContext({ deployment: d, account: devAccount(1) })
  const first = await settleBatch(oracle, campaignId, batch('g1', rows), { badges: false })
  const next = batch('g2', rows.map((r) => ({ ...r, accepted: r.accepted + 3 })))
  const later = await settleBatch(oracle, campaignId, next, { badges: false })
  // a retry of a page the escrow has already paid (settleBatch itself would skip it): raw call
  const { receipt: retry } = await sendTx(oracle, 'LabelingEscrow.settle', {
    address: d.escrow,
    abi: labelingEscrowAbi,
    functionName: 'settle',
    args: [campaignId, next.merkleRoot, next.labelCount, next.datasetCid ?? '', next.labelers.map((l) => ({ labeler: l.address, accepted: l.accepted, qualityBps: l.qualityBps }))],
  })
  assert.equal(first.pages.length, 1)
  assert.equal(first.credits.length, 200)
  assert.equal(later.credits.length, 200)
  assert.ok(later.credits.every((c) => c.accepted === 3), 'the next export pays only the 3 new labels each')
  console.log(`settle(200 labelers, one page) gasUsed: first export ${first.gasUsed}, next export ${later.gasUsed} (${Number(later.gasUsed) / 200} per labeler), retried page ${retry.gasUsed}`)
  assert.ok(first.gasUsed < 10_000_000n, `first ${first.gasUsed}`)
  assert.ok(later.gasUsed < 10_000_000n, `later ${later.gasUsed}`)
  assert.ok(retry.gasUsed < first.gasUsed / 2n, `retry ${retry.gasUsed}`)
})
