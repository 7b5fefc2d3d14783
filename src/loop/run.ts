/**
 * InstructGPT's collection loop on the web3 stack (`instruct3 loop --rounds N`, and one round in the demo).
 * One round:
 *   1. a funded on-chain campaign (escrow) and a labeling campaign whose ranking tasks hold K samples
 *      of the current policy, named by its CID;
 *   2. the crowd stakes on chain and labels through the HTTP API (the simulated crowd here);
 *   3. the labeling campaign is closed and exported (batch.json + signed labels), the export added to the store;
 *   4. the oracle settles the batch: cheaters slashed, the others paid by quality, badges;
 *   5. every batch so far is verified (signatures, Merkle root, settled on chain) and a reward model is
 *      trained from the SFT model on all their comparisons; held-out accuracy is measured per origin;
 *   6. PPO from the current policy against that reward model (KL to SFT) gives the next policy;
 *   7. a round manifest (a run manifest, stage `loop-round-N`, `previous` = the round before) links the
 *      policy, the label batches (inputs `labels:<origin>:<campaign>`), the reward model and the new policy;
 *      its config holds the campaign ids, Merkle root and settlement transaction.
 * Every step's result goes to round-N/state.json as it finishes, so a killed round resumes at the step it
 * was in. Settlement is never repeated: before settling, the escrow is asked whether the root is settled.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { parseEther, parseEventLogs, type Account, type Address, type Hex } from 'viem'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { toJsonl } from '../util/jsonl.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { Store } from '../store/types.ts'
import { toCid } from '../store/blocks.ts'
import { writeManifest } from '../store/manifest.ts'
import type { Deployment } from '../chain/deployment.ts'
import { createChainContext, sendTx } from '../chain/context.ts'
import { createCampaign, getPosition, joinCampaign, type CampaignParams } from '../chain/campaign.ts'
import { readBatchManifest } from '../batch/index.ts'
import { createMembershipCheck } from '../chain/membership.ts'
import { settleBatch } from '../chain/settle.ts'
import { getBadge } from '../chain/badges.ts'
import { labelingEscrowAbi, testTokenAbi } from '../chain/generated/index.ts'
import { createLabelingServer } from '../labeling/server.ts'
import { createApiClient } from '../labeling/client.ts'
import type { ResponseSampler } from '../labeling/sampler.ts'
import { verifyLabelBatch, type VerifiedLabelBatch } from '../batch/label-input.ts'
import { settledBatchIndex, settledRootChecker } from '../batch/settled.ts'
import type { Comparison, PromptRecord, RowOrigin } from '../data/formats.ts'
import { runCrowd, type CrowdMember } from './crowd.ts'
import { checkRewardSettings, rewardConfigFrom, type RewardSettings } from '../train/reward-config.ts'
import { checkPpoSettings, defaultPpoConfig, type PpoSettingsPatch } from '../train/ppo-config.ts'

/** The round's PPO settings: the PPO trainer's own, plus how many prompts the round gives it. */
export type LoopPpoSettings = PpoSettingsPatch & { maxPrompts?: number }

export type LoopChain = {
  deployment: Deployment
  requester: Account
  oracle: Account
  /** Escrow parameters of each round's campaign (defaults: 1 token per label at full quality, stake 10, fraud above 50% gold failures). */
  params?: Partial<CampaignParams>
  /** Tokens funded per round. */
  funding?: bigint
}

export type LoopOptions = {
  /** Holds state, the labeling database, exports and one folder per round. */
  workDir: string
  name: string
  rounds: number
  /** The SFT model: the reward model's initialisation and PPO's KL reference. */
  sftDir: string
  /** The first round's policy (default: the SFT model). */
  policyDir?: string
  /** Prompts with reference answers (the crowd's hidden rule); each round takes the next `promptsPerRound`. */
  prompts: PromptRecord[]
  /** Prompts with references used only to build gold tasks. */
  goldPrompts: PromptRecord[]
  promptsPerRound: number
  goldPerRound: number
  k: number
  overlap: number
  goldEvery: number
  /** Tokens sampled per ranking output. */
  maxNewTokens: number
  crowd: CrowdMember[]
  origin: RowOrigin
  store: Store
  chain: LoopChain
  /** The round reward model's settings (the reward trainer's, checked by checkRewardSettings). */
  reward: Partial<RewardSettings>
  /** The round's PPO settings (the PPO trainer's, checked by checkPpoSettings) and how many prompts it takes. */
  ppo: LoopPpoSettings
  /** PPO prompts (chat template applied here); default: the loop's prompts. */
  ppoPrompts?: string[]
  /** Pretraining token stream for the PPO-ptx mix (optional). */
  ptxTokensFile?: string
  /** Held-out synthetic comparisons, scored by each round's reward model as the `synthetic` origin. */
  syntheticVal?: Comparison[]
  seed: number
  quiet?: boolean
  /** Test hook: gold placement's random source for the round's labeling service (default crypto randomInt). */
  goldRandom?: (max: number) => number
  /** Test hook: stop after this step's effects, before its record is written (as a kill would), to test resume. */
  crashAfter?: { round: number; step: RoundStep }
}

export type RoundStep = 'chain-campaign' | 'campaign' | 'stakes' | 'labels' | 'export' | 'settle' | 'reward' | 'ppo' | 'manifest'

export type LabelerRow = {
  member: string
  kind: string
  address: Address
  labels: number
  accepted: number
  qualityBps: number
  goldFailures: number
  goldTotal: number
  /** Token units (18 decimals) as decimal strings. */
  paidNow: string
  vesting: string
  slashed: boolean
  badge: string | null
}

export type RoundState = {
  round: number
  policyDir: string
  policyCid?: string
  chainCampaignId?: string
  chainCampaignTx?: Hex
  /** The block the chain-campaign step started at (to find a campaign created before a crash). */
  chainCampaignFromBlock?: string
  campaign?: string
  stakes?: boolean
  labelsDone?: boolean
  exportDir?: string
  merkleRoot?: Hex
  labelCount?: number
  batchCid?: string
  settlement?: { txHash: Hex | null; batchIndex: number; slashed: string[]; resumed: boolean }
  labelers?: LabelerRow[]
  reward?: { dir: string; cid: string; trainComparisons: number; heldOut: number; batches: string[]; accuracy: Record<string, { accuracy: number; prompts: number }> }
  ppo?: { dir: string; cid: string; metrics: Record<string, number> }
  manifest?: string
  seconds?: Record<string, number>
}

export type LoopResult = { rounds: RoundState[]; manifest: string }

const DEFAULT_PARAMS: CampaignParams = {
  rewardPerLabel: parseEther('1'),
  requiredStake: parseEther('10'),
  qualityThresholdBps: 8000,
  immediateBps: 5000,
  bonusBps: 1000,
  // above half of its gold tasks failed: the cheater fails all, a careless labeler one now and then
  fraudGoldFailBps: 5000,
  vestingPeriod: 86400n,
  // set per campaign from the current time (createCampaign refuses a deadline in the past)
  deadline: 0n,
  settlementWindow: 7n * 86400n,
}

const sha = (x: string) => createHash('sha256').update(x).digest('hex')

/** Gold ranking items from prompts with references: the reference above three corruptions of it (tied). */
export function goldItems(rows: PromptRecord[], k: number, seed: number): Array<{ prompt: string; responses: string[]; ranking: number[] }> {
  return rows.map((r, i) => {
    const ref = r.reference!
    const words = ref.split(/\s+/)
    const other = rows[(i + 1) % rows.length].reference!
    const wrong = [
      words.slice(0, Math.max(1, Math.floor(words.length / 2))).join(' '),
      other,
      [...words].reverse().join(' '),
      'I do not know.',
      'This is unrelated to the question.',
    ]
    const items = [{ text: ref, rank: 0 }, ...wrong.slice(0, k - 1).map((t) => ({ text: t, rank: 1 }))]
    // a fixed shuffle per item, so the reference is not always first
    const order = items.map((_, j) => j).sort((a, b) => sha(`${seed}/${i}/${a}`).localeCompare(sha(`${seed}/${i}/${b}`)))
    return { prompt: r.prompt, responses: order.map((j) => items[j].text), ranking: order.map((j) => items[j].rank) }
  })
}

/** Run (or resume) `rounds` rounds. */
export async function runLoop(opts: LoopOptions): Promise<LoopResult> {
  const log = (m: string) => {
    if (!opts.quiet) process.stderr.write(`loop: ${m}\n`)
  }
  mkdirSync(opts.workDir, { recursive: true })
  const d = opts.chain.deployment
  const params: CampaignParams = { ...DEFAULT_PARAMS, ...opts.chain.params }
  const reqCtx = createChainContext({ deployment: d, account: opts.chain.requester })
  const oracleCtx = createChainContext({ deployment: d, account: opts.chain.oracle })

  // the labeling service, in process; ranking outputs sampled from the campaign's policy CID
  const policyDirs = new Map<string, string>()
  const samplerFor = async (policy: string): Promise<ResponseSampler> => {
    const dir = policyDirs.get(policy) ?? join(opts.workDir, 'policies', policy)
    if (!existsSync(dir)) await opts.store.get(policy, dir)
    const { createPolicySampler } = await import('../labeling/policy-sampler.ts')
    return createPolicySampler(dir, { maxNewTokens: opts.maxNewTokens, seed: opts.seed })
  }
  const server = await createLabelingServer({
    db: join(opts.workDir, 'labels.sqlite'),
    chainId: d.chainId,
    samplerFor,
    requesters: [opts.chain.requester.address],
    logger: false,
    rateLimit: false,
    exportDir: join(opts.workDir, 'exports'),
    addToStore: async (dir) => (await opts.store.addDirectory(dir, { pin: true })).toString(),
    // tasks of the round's on-chain campaign go only to wallets that staked in it
    membership: createMembershipCheck({ deployment: d }),
    // the simulated crowd labels in milliseconds: the too-fast flags are for people
    spam: { minMsDemonstration: 0, minMsRanking: 0, minMsReview: 0, constantRun: 1000 },
    ...(opts.goldRandom ? { randomInt: opts.goldRandom } : {}),
  })
  const { url } = await server.listen(0)
  const requesterApi = createApiClient(url)
  const si = await requesterApi.signIn(opts.chain.requester as never, { chainId: d.chainId })
  if (si.status !== 200) throw new Error(`requester sign-in failed: ${JSON.stringify(si.body)}`)

  const references = new Map<string, string>()
  for (const p of [...opts.prompts, ...opts.goldPrompts]) if (p.reference) references.set(p.prompt, p.reference)

  const states: RoundState[] = []
  let policyDir = opts.policyDir ?? opts.sftDir
  let previous: string | undefined
  try {
    const sftCid = (await opts.store.addDirectory(opts.sftDir, { pin: true })).toString()
    for (let round = 1; round <= opts.rounds; round++) {
      const dir = join(opts.workDir, `round-${round}`)
      mkdirSync(dir, { recursive: true })
      const stateFile = join(dir, 'state.json')
      const st: RoundState = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : { round, policyDir, seconds: {} }
      const save = () => writeFileAtomicSync(stateFile, JSON.stringify(st, null, 2) + '\n')
      const step = async (name: RoundStep, done: boolean, fn: () => Promise<void>) => {
        if (done) {
          log(`round ${round}: ${name} done before (resumed)`)
          return
        }
        const t0 = performance.now()
        log(`round ${round}: ${name}`)
        await fn()
        // the test hook stops here as a kill would: the step's effects happened, its record was not written
        if (opts.crashAfter?.round === round && opts.crashAfter.step === name) throw new Error(`crash injected in round ${round} after step ${name}, before its record`)
        st.seconds = { ...st.seconds, [name]: (performance.now() - t0) / 1000 }
        save()
      }
      if (st.policyDir !== policyDir) throw new Instruct3Error(`round ${round} was started from policy ${st.policyDir}, not ${policyDir}`, { code: 'ELOOP', details: { file: stateFile, field: 'policyDir' } })
      st.policyCid ??= (await opts.store.addDirectory(policyDir, { pin: true })).toString()
      policyDirs.set(st.policyCid, policyDir)
      const first = ((round - 1) * opts.promptsPerRound) % Math.max(1, opts.prompts.length)
      const prompts = Array.from({ length: Math.min(opts.promptsPerRound, opts.prompts.length) }, (_, i) => opts.prompts[(first + i) % opts.prompts.length])
      const gold = goldItems(opts.goldPrompts.slice(0, opts.goldPerRound), opts.k, opts.seed + round)

      await step('chain-campaign', Boolean(st.chainCampaignId), async () => {
        // a campaign created before a crash, but not recorded, is adopted rather than funded twice: the block
        // the step started at is written down first, and the requester's CampaignCreated events after it
        // that no earlier round uses are this round's
        if (st.chainCampaignFromBlock !== undefined) {
          const created = await reqCtx.publicClient.getContractEvents({ address: d.escrow, abi: labelingEscrowAbi, eventName: 'CampaignCreated', args: { requester: opts.chain.requester.address }, fromBlock: BigInt(st.chainCampaignFromBlock) })
          const taken = new Set(states.map((x) => x.chainCampaignId))
          const mine = created.find((e) => !taken.has(String((e.args as { campaignId?: bigint }).campaignId)))
          if (mine) {
            st.chainCampaignId = String((mine.args as { campaignId: bigint }).campaignId)
            st.chainCampaignTx = mine.transactionHash
            return
          }
        }
        const block = await reqCtx.publicClient.getBlock()
        st.chainCampaignFromBlock = block.number.toString()
        save()
        const funding = opts.chain.funding ?? parseEther('1000')
        await sendTx(reqCtx, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [opts.chain.requester.address, funding] })
        const deadline = params.deadline || block.timestamp + 30n * 86400n
        const c = await createCampaign(reqCtx, { token: d.token!, oracle: d.oracle, params: { ...params, deadline }, funding })
        st.chainCampaignId = c.campaignId.toString()
        st.chainCampaignTx = c.txHash
      })
      const chainId = BigInt(st.chainCampaignId!)

      await step('campaign', Boolean(st.campaign), async () => {
        const name = `${opts.name} round ${round}`
        // a campaign created before a crash (but not recorded) is found by name, not made twice
        const list = await requesterApi.call<{ campaigns: Array<{ id: string; name: string }> }>('GET', '/api/campaigns')
        const existing = list.body.campaigns.find((c) => c.name === name)
        if (existing) st.campaign = existing.id
        else {
          const r = await requesterApi.call('POST', '/api/campaigns', {
            name,
            prompts: prompts.map((p) => p.prompt),
            policy: st.policyCid,
            kinds: ['ranking'],
            k: opts.k,
            overlap: opts.overlap,
            goldEvery: opts.goldEvery,
            gold,
            leaseSeconds: 3600,
            chainCampaignId: st.chainCampaignId,
          })
          if (r.status !== 201) throw new Error(`campaign creation failed (${r.status}): ${JSON.stringify(r.body)}`)
          st.campaign = r.body.campaign.id
        }
      })

      await step('stakes', Boolean(st.stakes), async () => {
        for (const m of opts.crowd) {
          const ctx = createChainContext({ deployment: d, account: m.signer as unknown as Account })
          if ((await getPosition(ctx, chainId, m.signer.address)).joined) continue
          await sendTx(ctx, 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [m.signer.address, params.requiredStake] })
          await joinCampaign(ctx, chainId)
        }
        st.stakes = true
      })

      await step('labels', Boolean(st.labelsDone), async () => {
        // closed before a crash: the labels are in; the crowd would only be refused
        const cur = await requesterApi.call<{ campaign: { status: string } }>('GET', `/api/campaigns/${st.campaign}`)
        if (cur.body.campaign?.status === 'closed') {
          st.labelsDone = true
          return
        }
        const r = await runCrowd({ url, campaign: st.campaign!, chainId: d.chainId, members: opts.crowd, references, seed: opts.seed + round, onProgress: (m) => log(`round ${round}: ${m}`) })
        log(`round ${round}: crowd submitted ${r.map((x) => `${x.member} ${x.submitted}`).join(', ')}`)
        const close = await requesterApi.call('POST', `/api/campaigns/${st.campaign}/close`, {})
        if (close.status !== 200) throw new Error(`closing the campaign failed: ${JSON.stringify(close.body)}`)
        st.labelsDone = true
      })

      await step('export', Boolean(st.batchCid), async () => {
        const ex = await requesterApi.call('POST', `/api/campaigns/${st.campaign}/export`, {})
        if (ex.status !== 200) throw new Error(`export failed (${ex.status}): ${JSON.stringify(ex.body)}`)
        const to = join(dir, 'batch')
        rmSync(to, { recursive: true, force: true })
        cpSync(ex.body.dir, to, { recursive: true })
        st.exportDir = to
        st.merkleRoot = ex.body.merkleRoot
        st.labelCount = ex.body.labelCount
        st.batchCid = (await opts.store.addDirectory(to, { pin: true })).toString()
      })

      await step('settle', Boolean(st.settlement), async () => {
        const batch = readBatchManifest(join(st.exportDir!, 'batch.json'))
        const index = await settledBatchIndex(d, chainId, batch.merkleRoot)
        if (index > 0) {
          // settled before a crash: read the transaction back from the chain, never settle again
          const logs = await oracleCtx.publicClient.getContractEvents({ address: d.escrow, abi: labelingEscrowAbi, eventName: 'BatchSettled', args: { campaignId: chainId }, fromBlock: 0n })
          const tx = logs.find((l) => (l.args as { merkleRoot?: Hex }).merkleRoot === batch.merkleRoot)?.transactionHash ?? null
          st.settlement = { txHash: tx, batchIndex: index, slashed: [], resumed: true }
        } else {
          const r = await settleBatch(oracleCtx, chainId, batch, { addBytes: (b) => opts.store.addBytes(b, { pin: true }) })
          st.settlement = { txHash: r.txHash, batchIndex: r.batchIndex ?? 0, slashed: r.slashed.map((s) => s.labeler), resumed: false }
        }
        st.labelers = await labelerRows(reqCtx, chainId, batch.labelers, opts.crowd, st.exportDir!)
      })

      await step('reward', Boolean(st.reward), async () => {
        // every batch so far, verified again (signatures, root, settled on chain) before it trains anything
        const batches: VerifiedLabelBatch[] = []
        for (const s of [...states, st]) {
          batches.push(await verifyLabelBatch(s.exportDir!, { origin: opts.origin, campaign: s.campaign, settled: settledRootChecker(d), fraudGoldFailBps: params.fraudGoldFailBps }))
        }
        const rows = batches.flatMap((b) => b.comparisons)
        const heldOut = rows.filter((r) => parseInt(sha(r.id!).slice(0, 8), 16) % 5 === 0)
        const train = rows.filter((r) => !heldOut.includes(r))
        if (train.length === 0) throw new Instruct3Error('no comparisons to train the reward model on', { code: 'ELOOP', details: { file: st.exportDir } })
        const rdir = join(dir, 'reward')
        mkdirSync(rdir, { recursive: true })
        writeFileAtomicSync(join(rdir, 'comparisons.train.jsonl'), toJsonl(train))
        const evalRows = [...heldOut, ...(opts.syntheticVal ?? []).map((c) => ({ ...c, origin: c.origin ?? ('synthetic' as const) }))]
        writeFileAtomicSync(join(rdir, 'comparisons.heldout.jsonl'), toJsonl(evalRows))
        const { trainReward, evaluateReward, defaultRewardConfig } = await import('../train/reward.ts')
        const { loop, ...settings } = { ...defaultRewardConfig, ...rewardConfigFrom(checkRewardSettings(opts.reward, 'loop.reward')) }
        const r = await trainReward({
          ...settings,
          // no validation split here: the held-out rows are scored below, by origin
          loop: { seed: opts.seed, ...loop, evalEvery: 0 },
          base: opts.sftDir,
          train: { rows: train, file: join(rdir, 'comparisons.train.jsonl') },
          outDir: rdir,
          quiet: true,
        })
        const ev = evalRows.length ? await evaluateReward(r.modelDir, evalRows) : undefined
        st.reward = {
          dir: r.modelDir,
          cid: (await opts.store.addDirectory(r.modelDir, { pin: true })).toString(),
          trainComparisons: train.length,
          heldOut: heldOut.length,
          batches: [...states, st].map((s) => s.batchCid!),
          accuracy: Object.fromEntries((ev?.byOrigin ?? []).map((o) => [o.origin, { accuracy: o.accuracy, prompts: o.prompts }])),
        }
      })

      await step('ppo', Boolean(st.ppo), async () => {
        const { trainPpo } = await import('../train/ppo.ts')
        const { loadTokenizer, formatPrompt } = await import('../tokenizer/index.ts')
        const { loadCheckpoint } = await import('../model/checkpoint.ts')
        const { maxPrompts, ...ppoPatch } = opts.ppo
        const user = checkPpoSettings(ppoPatch, 'loop.ppo')
        const maxNew = user.maxNewTokens ?? defaultPpoConfig.maxNewTokens
        const tok = loadTokenizer(policyDir)
        const nCtx = loadCheckpoint(policyDir).config.nCtx
        const texts = opts.ppoPrompts ?? opts.prompts.map((p) => p.prompt)
        const ids = texts.map((t) => formatPrompt(tok, t)).filter((x) => x.length + maxNew <= nCtx).slice(0, maxPrompts ?? 256)
        let ptxTokens: Int32Array | undefined
        if (opts.ptxTokensFile) {
          const b = readFileSync(opts.ptxTokensFile)
          ptxTokens = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
        }
        const pdir = join(dir, 'ppo')
        const r = await trainPpo({ ...user, policyDir, refDir: opts.sftDir, reward: { modelDir: st.reward!.dir }, prompts: ids, ptxTokens, outDir: pdir, maxNewTokens: maxNew, seed: opts.seed + round, quiet: true })
        const last = (r.history[r.history.length - 1] ?? {}) as Record<string, unknown>
        const first = (r.history[0] ?? {}) as Record<string, unknown>
        const num = (row: Record<string, unknown>, k: string) => (typeof row[k] === 'number' ? (row[k] as number) : NaN)
        st.ppo = {
          dir: r.modelDir,
          cid: (await opts.store.addDirectory(r.modelDir, { pin: true })).toString(),
          metrics: { first_score: num(first, 'objective/scores'), last_score: num(last, 'objective/scores'), last_kl: num(last, 'objective/kl'), iterations: r.history.length },
        }
      })

      await step('manifest', Boolean(st.manifest), async () => {
        const inputs: Record<string, ReturnType<typeof toCid>> = { policy: toCid(st.policyCid!), sft: toCid(sftCid) }
        for (const s of [...states, st]) inputs[`labels:${opts.origin}:${s.campaign}`] = toCid(s.batchCid!)
        const metrics: Record<string, number> = { labels: st.labelCount ?? 0, reward_train_comparisons: st.reward!.trainComparisons, reward_heldout: st.reward!.heldOut, ...Object.fromEntries(Object.entries(st.ppo!.metrics).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => [`ppo_${k}`, v])) }
        for (const [o, a] of Object.entries(st.reward!.accuracy)) if (Number.isFinite(a.accuracy)) metrics[`rm_accuracy_${o}`] = a.accuracy
        const now = new Date().toISOString()
        const cid = await writeManifest(opts.store, {
          stage: `loop-round-${round}`,
          config: {
            round,
            loop: opts.name,
            origin: opts.origin,
            labelingCampaign: st.campaign!,
            chain: { chainId: d.chainId, escrow: d.escrow, campaignId: st.chainCampaignId!, merkleRoot: st.merkleRoot!, settlementTx: st.settlement!.txHash, batchIndex: st.settlement!.batchIndex },
            crowd: opts.crowd.map((m) => ({ name: m.name, kind: m.kind, address: m.signer.address })),
          },
          inputs,
          outputs: { batch: toCid(st.batchCid!), reward: toCid(st.reward!.cid), policy: toCid(st.ppo!.cid) },
          metrics,
          startedAt: now,
          finishedAt: now,
          ...(previous ? { previous: toCid(previous) } : {}),
        })
        st.manifest = cid.toString()
        writeFileAtomicSync(join(opts.workDir, 'loop-manifest.cid'), st.manifest + '\n')
      })
      log(`round ${round}: manifest ${st.manifest}`)
      states.push(st)
      previous = st.manifest
      policyDir = st.ppo!.dir
    }
  } finally {
    await server.close()
  }
  return { rounds: states, manifest: previous! }
}

/** Per labeler of a settled batch: the batch's quality numbers and what the escrow holds for them now. */
async function labelerRows(ctx: ReturnType<typeof createChainContext>, id: bigint, rows: Array<{ address: Address; accepted: number; qualityBps: number; goldFailures: number; goldTotal: number }>, crowd: CrowdMember[], exportDir: string): Promise<LabelerRow[]> {
  const labels = readFileSync(join(exportDir, 'labels.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { labeler: string })
  const out: LabelerRow[] = []
  for (const r of rows) {
    const p = await getPosition(ctx, id, r.address)
    const badge = await getBadge(ctx, r.address)
    const m = crowd.find((c) => c.signer.address.toLowerCase() === r.address.toLowerCase())
    out.push({
      member: m?.name ?? r.address,
      kind: m?.kind ?? 'unknown',
      address: r.address,
      labels: labels.filter((l) => l.labeler.toLowerCase() === r.address.toLowerCase()).length,
      accepted: r.accepted,
      qualityBps: r.qualityBps,
      goldFailures: r.goldFailures,
      goldTotal: r.goldTotal,
      paidNow: (p.claimable + p.withdrawn).toString(),
      vesting: p.vesting.toString(),
      slashed: p.slashed,
      badge: badge ? `${badge.levelName} (level ${badge.level})` : null,
    })
  }
  return out
}

/** Whether a path is a folder (for CLI inputs that may be a folder or a CID). */
export const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory()
