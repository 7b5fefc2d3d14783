// Test helper: two real label exports. A local anvil with the contracts, the labeling service over HTTP,
// two on-chain campaigns staked by the simulated crowd, campaign A labeled, exported and settled,
// campaign B labeled and exported but not settled. Ranking outputs come from the deterministic sampler.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { createCampaign, joinCampaign } from '../../src/chain/campaign.ts'
import { settleBatch } from '../../src/chain/settle.ts'
import { testTokenAbi } from '../../src/chain/generated/index.ts'
import { readBatchManifest } from '../../src/batch/index.ts'
import { createApiClient } from '../../src/labeling/client.ts'
import { createLabelingServer, type LabelingServer } from '../../src/labeling/server.ts'
import { defaultCrowd, runCrowd } from '../../src/loop/crowd.ts'
import { goldItems } from '../../src/loop/run.ts'

export type TwoExports = {
  anvil: Anvil
  d: Deployment
  server: LabelingServer
  crowd: ReturnType<typeof defaultCrowd>
  A: { dir: string; campaign: string; chainId: bigint }
  B: { dir: string; campaign: string; chainId: bigint }
  close(): Promise<void>
}

export async function twoExports(dir: string): Promise<TwoExports> {
  const crowd = defaultCrowd([2, 3, 4, 5, 6].map((i) => devAccount(i)))
  const anvil = await startAnvil()
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: devAccount(0), oracle: devAccount(1).address })
  const server = await createLabelingServer({
    db: join(dir, 'labels.sqlite'),
    logger: false,
    rateLimit: false,
    exportDir: join(dir, 'exports'),
    requesters: [devAccount(0).address],
    spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 1000 },
  })
  const url = (await server.listen(0)).url
  const req = createChainContext({ deployment: d, account: devAccount(0) })
  const api = createApiClient(url)
  assert.equal((await api.signIn(devAccount(0))).status, 200)
  const rows = Array.from({ length: 20 }, (_, i) => ({ prompt: `Explain transaction ${i} of the test block.`, reference: `It transfers ${i} tokens from the sender to the pool and pays the fee.` }))
  const references = new Map(rows.map((r) => [r.prompt, r.reference]))
  const block = await req.publicClient.getBlock()
  const out: Record<string, { dir: string; campaign: string; chainId: bigint }> = {}
  for (const [name, slice] of [['A', rows.slice(0, 8)], ['B', rows.slice(8, 16)]] as const) {
    await sendTx(req, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [devAccount(0).address, parseEther('100')] })
    const params = { rewardPerLabel: parseEther('1'), requiredStake: parseEther('1'), qualityThresholdBps: 8000, immediateBps: 5000, bonusBps: 1000, fraudGoldFailBps: 5000, vestingPeriod: 86400n, deadline: block.timestamp + 86400n * 30n, settlementWindow: 86400n }
    const { campaignId } = await createCampaign(req, { token: d.token!, oracle: d.oracle, params, funding: parseEther('100') })
    for (const m of crowd) {
      const ctx = createChainContext({ deployment: d, account: m.signer as never })
      await sendTx(ctx, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [m.signer.address, parseEther('1')] })
      await joinCampaign(ctx, campaignId)
    }
    const cr = await api.call('POST', '/api/campaigns', { name, prompts: slice.map((r) => r.prompt), policy: 'deterministic', kinds: ['ranking'], k: 4, overlap: 3, goldEvery: 2, gold: goldItems(rows.slice(16, 20), 4, 1), chainCampaignId: campaignId.toString() })
    assert.equal(cr.status, 201, JSON.stringify(cr.body))
    await runCrowd({ url, campaign: cr.body.campaign.id, chainId: 31337, members: crowd, references, seed: 1 })
    const ex = await api.call('POST', `/api/campaigns/${cr.body.campaign.id}/export`, {})
    assert.equal(ex.status, 200, JSON.stringify(ex.body))
    out[name] = { dir: ex.body.dir, campaign: cr.body.campaign.id, chainId: campaignId }
  }
  await settleBatch(createChainContext({ deployment: d, account: devAccount(1) }), out.A.chainId, readBatchManifest(join(out.A.dir, 'batch.json')), { badges: false })
  return {
    anvil,
    d,
    server,
    crowd,
    A: out.A,
    B: out.B,
    async close() {
      await server.close()
      await anvil.close()
    },
  }
}
