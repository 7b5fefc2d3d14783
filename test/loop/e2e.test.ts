// The feedback loop end to end at a tiny size, on the real components: a tiny SFT model from the real
// shared data, an embedded Helia store, anvil with the escrow and badge contracts, the labeling service
// over HTTP, and the simulated crowd (three careful wallets, one careless, one cheater) signing in with
// SIWE and signing every label. Round 1 is killed right after its on-chain campaign was created and
// again right after its settlement transaction, before the loop recorded either; round 2 is killed after
// its labels were in. Each rerun resumes and must neither create a second campaign nor pay anyone twice.
// Round 2 runs from round 1's PPO policy, and its reward model must rest on both rounds' labels.
// `verifyLabelLineage` walks from the last round manifest to every label and re-checks every signature
// and settled root.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, parseEther } from 'viem'
import { mergeConfig, demoConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { createStore } from '../../src/store/index.ts'
import type { HeliaStore } from '../../src/store/types.ts'
import { verifyManifest } from '../../src/store/verify.ts'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { getPosition } from '../../src/chain/campaign.ts'
import { labelingEscrowAbi } from '../../src/chain/generated/index.ts'
import { loadPrompts, type PromptRecord } from '../../src/data/formats.ts'
import { sharedDataDir } from '../../src/util/paths.ts'
import { defaultCrowd } from '../../src/loop/crowd.ts'
import { runLoop, type LoopOptions } from '../../src/loop/run.ts'
import { verifyLabelLineage } from '../../src/loop/lineage.ts'
import { TINY_BASE } from '../pipeline/tiny.ts'
import { mulberry32 } from '../../src/util/rng.ts'

const skip = !existsSync(sharedDataDir()) && 'shared data not found'
let root: string
let anvil: Anvil
let d: Deployment
let store: HeliaStore
let base: string

before(async () => {
  if (skip) return
  root = mkdtempSync(join(tmpdir(), 'instruct3-loop-e2e-'))
  base = join(root, 'base')
  const cfg = mergeConfig(demoConfig(), {
    name: 'loop-e2e',
    workDir: base,
    store: { kind: 'none' },
    ...TINY_BASE,
  })
  await runPipeline(cfg, { quiet: true, until: 'sft' })
  anvil = await startAnvil()
  d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: devAccount(0), oracle: devAccount(1).address })
  store = await createStore({ kind: 'helia', dir: join(root, 'ipfs') })
})

after(async () => {
  await store?.close()
  await anvil?.close()
  if (root) rmSync(root, { recursive: true, force: true })
})

/** Prompts whose reference answers are long enough to rank against, one per distinct prompt. */
async function promptsWithReferences(): Promise<PromptRecord[]> {
  const rows = await loadPrompts(join(base, 'fit', 'tasks', 'train', 'prompts.jsonl'))
  const seen = new Set<string>()
  return rows.filter((r) => r.reference && r.reference.split(/\s+/).length >= 4 && !seen.has(r.prompt) && seen.add(r.prompt))
}

test('two rounds with the simulated crowd: paid once, cheater slashed, RM on both rounds, every signature re-verified', { timeout: 900_000, skip }, async () => {
  const prompts = await promptsWithReferences()
  assert.ok(prompts.length >= 34, `${prompts.length} prompts with references`)
  const crowd = defaultCrowd([2, 3, 4, 5, 6].map((i) => devAccount(i)))
  const opts: LoopOptions = {
    workDir: join(root, 'loop'),
    name: 'loop-e2e',
    rounds: 2,
    sftDir: join(base, 'sft', 'model'),
    // 14 prompts a round: each wallet gets about 8 tasks, so the 1-in-2 gold draw misses the cheater in
    // under 1% of rounds (gold is placed at random by the service)
    prompts: prompts.slice(0, 28),
    goldPrompts: prompts.slice(28, 34),
    promptsPerRound: 14,
    goldPerRound: 6,
    k: 4,
    overlap: 3,
    goldEvery: 2,
    maxNewTokens: 8,
    crowd,
    origin: 'simulated-labeler',
    store,
    chain: { deployment: d, requester: devAccount(0), oracle: devAccount(1) },
    reward: { epochs: 1, batchSize: 2, lr: 1e-3, minLr: 1e-4, warmup: 2, checkpointEvery: 25, weightDecay: 0 },
    ppo: { iterations: 1, rolloutBatch: 4, miniBatch: 4, ppoEpochs: 1, maxNewTokens: 6, maxPrompts: 8 },
    seed: 1,
    quiet: true,
    // gold placement seeded (crypto-random by default): with it random, careful vs careless quality on 6 gold
    // tasks per round came out the wrong way in one of three full test runs here. Round 2's qualities still
    // vary a little between runs (by ~1%), from a source not yet found
    goldRandom: ((r) => (max: number) => Math.floor(r() * max))(mulberry32(7)),
  }
  // killed right after round 1's on-chain campaign was created and funded, before the loop wrote it down
  await assert.rejects(runLoop({ ...opts, crashAfter: { round: 1, step: 'chain-campaign' } }), /crash injected in round 1 after step chain-campaign/)
  // killed after round 1's settlement transaction, before the loop wrote it down
  await assert.rejects(runLoop({ ...opts, crashAfter: { round: 1, step: 'settle' } }), /crash injected in round 1 after step settle/)
  // ... and round 2 after its labels were in and the campaign closed, before the loop wrote that down
  await assert.rejects(runLoop({ ...opts, crashAfter: { round: 2, step: 'labels' } }), /crash injected in round 2 after step labels/)
  const t0 = performance.now()
  const r = await runLoop(opts)
  const seconds = (performance.now() - t0) / 1000
  const [r1, r2] = r.rounds
  console.log(`loop: the last resumed run (round 2 from its export on) took ${seconds.toFixed(0)} s, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
  for (const s of r.rounds) console.log(`round ${s.round}: ${s.labelCount} labels, root ${s.merkleRoot}, tx ${s.settlement?.txHash}; ${s.labelers!.map((l) => `${l.member} acc ${l.accepted} q ${l.qualityBps} gold ${l.goldFailures}/${l.goldTotal} paid ${l.paidNow} vest ${l.vesting} slashed ${l.slashed} badge ${l.badge}`).join('; ')}; RM ${JSON.stringify(s.reward!.accuracy)}`)

  // the resumed settlement found its root on chain and did not settle again
  assert.equal(r1.settlement!.resumed, true)
  const ctx = createChainContext({ deployment: d })
  // the campaign created before the first kill was adopted: one funded campaign per round, no orphan
  const created = await ctx.publicClient.getContractEvents({ address: d.escrow, abi: labelingEscrowAbi, eventName: 'CampaignCreated', fromBlock: 0n })
  assert.deepEqual(created.map((e) => String(e.args.campaignId)), [r1.chainCampaignId, r2.chainCampaignId])
  for (const s of r.rounds) {
    const settled = await ctx.publicClient.getContractEvents({ address: d.escrow, abi: labelingEscrowAbi, eventName: 'BatchSettled', args: { campaignId: BigInt(s.chainCampaignId!) }, fromBlock: 0n })
    assert.equal(settled.length, 1, `round ${s.round}: one settlement`)
    const credited = await ctx.publicClient.getContractEvents({ address: d.escrow, abi: labelingEscrowAbi, eventName: 'LabelerCredited', args: { campaignId: BigInt(s.chainCampaignId!) }, fromBlock: 0n })
    const batch = JSON.parse(readFileSync(join(s.exportDir!, 'batch.json'), 'utf8')) as { labelers: Array<{ address: string; accepted: number; qualityBps: number }> }
    for (const row of s.labelers!) {
      const creditsOf = credited.filter((e) => getAddress(e.args.labeler!) === getAddress(row.address))
      const p = await getPosition(ctx, BigInt(s.chainCampaignId!), row.address)
      if (row.kind === 'cheater') {
        // slashed from the exported gold results; unpaid, stake gone
        assert.equal(row.slashed, true, `round ${s.round}: cheater slashed`)
        assert.equal(creditsOf.length, 0)
        assert.equal(p.stake + p.claimable + p.vesting, 0n)
        continue
      }
      // each label paid once: one credit per labeler, equal to accepted x reward x quality exactly
      assert.equal(creditsOf.length, 1, `${row.member} credited once in round ${s.round}`)
      const b = batch.labelers.find((l) => getAddress(l.address) === getAddress(row.address))!
      assert.equal(p.claimable + p.vesting, (BigInt(b.accepted) * parseEther('1') * BigInt(b.qualityBps)) / 10_000n)
    }
    const by = (k: string) => s.labelers!.filter((l) => l.kind === k)
    const pay = (l: { paidNow: string; vesting: string }) => BigInt(l.paidNow) + BigInt(l.vesting)
    const careless = by('careless')[0]
    const carefulQ = by('careful').reduce((a, c) => a + c.qualityBps, 0) / by('careful').length
    assert.ok(carefulQ > careless.qualityBps, `round ${s.round}: careful quality ${carefulQ} > careless ${careless.qualityBps}`)
    for (const c of by('careful')) assert.ok(c.badge, `${c.member} badged`)
    const carefulPay = by('careful').map(pay)
    assert.ok(carefulPay.every((p) => p > 0n))
    assert.ok(by('careful').reduce((a, c) => a + pay(c) * 10_000n / BigInt(Math.max(1, c.accepted)), 0n) / 2n > (pay(by('careless')[0]) * 10_000n) / BigInt(Math.max(1, by('careless')[0].accepted)), 'careful paid more per label than careless')
  }

  // round 2's reward model trained on both rounds' batches; its manifest names both as inputs
  assert.deepEqual(r2.reward!.batches, [r1.batchCid, r2.batchCid])
  assert.ok(r2.reward!.trainComparisons > r1.reward!.trainComparisons, `${r2.reward!.trainComparisons} > ${r1.reward!.trainComparisons}`)
  assert.ok(r2.reward!.accuracy['simulated-labeler'] !== undefined || r2.reward!.heldOut === 0)
  const m2 = await store.getDag<{ inputs: Record<string, unknown>; previous: unknown }>(r2.manifest!)
  assert.deepEqual(Object.keys(m2.inputs).filter((k) => k.startsWith('labels:')).sort(), [`labels:simulated-labeler:${r1.campaign}`, `labels:simulated-labeler:${r2.campaign}`].sort())
  assert.equal(String(m2.previous), r1.manifest)

  // the whole chain of round manifests verifies, and the walk reaches every label's signature
  const v = await verifyManifest(store, r.manifest)
  assert.equal(v.ok, true, v.problems.join('; '))
  const lin = await verifyLabelLineage(store, r.manifest, { deployment: d })
  assert.equal(lin.ok, true, lin.problems.join('; '))
  assert.equal(lin.signaturesVerified, r1.labelCount! + r2.labelCount!)
  assert.ok(lin.batches.every((b) => b.settledOnChain))
  const last = lin.models.find((m) => m.stage === 'loop-round-2')!
  assert.equal(last.labels, r1.labelCount! + r2.labelCount!)
  assert.equal(last.labelers, 5)
})
