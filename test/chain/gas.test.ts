// Gas of one settlement of a batch of 100 labelers on a real anvil (transaction gasUsed, so it
// includes the 21k base cost and calldata). Numbers are printed and recorded in docs/chain.md.
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
import { parseBatch } from '../../src/chain/batch.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { testTokenAbi } from '../../src/chain/generated/index.ts'
import { buildMerkleTree } from '../../src/labeling/merkle.ts'

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
  const hashes = rows.flatMap((r) => Array.from({ length: r.accepted }, (_, i) => keccak256(toHex(`${name}/${r.address}/${i}`))))
  const tree = buildMerkleTree(hashes)
  return parseBatch({
    version: 1,
    campaignId: name,
    chainCampaignId: null,
    merkleRoot: tree.root,
    labelCount: hashes.length,
    labels: hashes.map((h, i) => ({ labelHash: h, labeler: rows[0].address, kind: 'ranking', proof: tree.proofs[i] })),
    labelers: rows.map((r) => ({ ...r, goldFailures: 0, goldTotal: 0 })),
    datasetCid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
  })
}

test('settling a batch of 100 labelers fits in ~3M gas', { timeout: 120_000 }, async () => {
  const req = createChainContext({ deployment: d, account: devAccount(0) })
  await sendTx(req, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [devAccount(0).address, parseEther('100000')] })
  const { campaignId } = await createCampaign(req, {
    token: d.token!,
    oracle: devAccount(1).address,
    params: { rewardPerLabel: parseEther('1'), requiredStake: parseEther('1'), qualityThresholdBps: 8000, immediateBps: 5000, bonusBps: 1000, fraudGoldFailBps: 3000, vestingPeriod: 86400n },
    funding: parseEther('100000'),
  })
  const accounts = Array.from({ length: 100 }, () => privateKeyToAccount(generatePrivateKey()))
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
  const later = await settleBatch(oracle, campaignId, batch('g2', rows), { badges: false })
  assert.equal(first.credits.length, 100)
  assert.ok(later.credits.some((c) => c.bonus > 0n), 'the later batch pays appreciation bonuses')
  console.log(`settle(100 labelers) gasUsed: first batch ${first.gasUsed}, later batch ${later.gasUsed} (${Number(later.gasUsed) / 100} per labeler)`)
  assert.ok(first.gasUsed < 3_500_000n, `first ${first.gasUsed}`)
  assert.ok(later.gasUsed < 3_500_000n, `later ${later.gasUsed}`)
})
