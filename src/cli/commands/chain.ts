import type { Command } from 'commander'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
// Type-only: viem and the chain modules load inside the actions (see chainLib), so that registering
// these commands (every CLI start, `--version` included) stays cheap.
import type { Account, Address } from 'viem'
import type { ChainContext } from '../../chain/context.ts'
import type { Deployment } from '../../chain/deployment.ts'
import { Instruct3Error } from '../../util/errors.ts'
import { dataDir } from '../../util/paths.ts'
import { createProgress } from '../../util/progress.ts'

/** viem's helpers, the chain area's API, the batch manifest module and the contracts' ABIs, imported on first use (`--help` stays fast). */
const chainLib = async () => ({
  ...(await import('viem')),
  ...(await import('../../chain/index.ts')),
  ...(await import('../../batch/index.ts')),
  ...(await import('../../chain/generated/index.ts')),
})
type ChainLib = Awaited<ReturnType<typeof chainLib>>

type Role = 'requester' | 'oracle' | 'labeler'
type ChainOpts = { dataDir?: string; deployment?: string; rpc?: string; key?: string; devAccount?: string; json?: boolean }

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)
const usage = (msg: string, field: string) => new Instruct3Error(msg, { code: 'EUSAGE', details: { field } })

async function deploymentFile(o: ChainOpts): Promise<string> {
  return o.deployment ?? (await chainLib()).deploymentPath(o.dataDir)
}

/**
 * The signing account: --key, else $INSTRUCT3_CHAIN_KEY, else --dev-account N, else on a local anvil
 * (chain 31337) the dev account of the role (0 requester, 1 oracle; labelers must choose).
 */
async function accountFor(o: ChainOpts, d: Deployment, role: Role): Promise<Account> {
  const { accountFromKey, DEV_ROLES, devAccount } = await chainLib()
  if (o.key) return accountFromKey(o.key, 'key')
  if (process.env.INSTRUCT3_CHAIN_KEY) return accountFromKey(process.env.INSTRUCT3_CHAIN_KEY, 'INSTRUCT3_CHAIN_KEY')
  if (o.devAccount !== undefined) {
    const n = Number(o.devAccount)
    if (!Number.isInteger(n) || n < 0) throw usage('--dev-account must be a non-negative integer', 'dev-account')
    return devAccount(n)
  }
  if (d.chainId === 31337 && role !== 'labeler') return devAccount(role === 'oracle' ? DEV_ROLES.oracle : DEV_ROLES.requester)
  throw usage(`no key for the ${role}: pass --key 0x…, set INSTRUCT3_CHAIN_KEY, or --dev-account N on a local anvil`, 'key')
}

async function contextFor(cmd: Command, role: Role | null): Promise<ChainContext> {
  const { createChainContext, readDeployment } = await chainLib()
  const o = cmd.optsWithGlobals<ChainOpts>()
  const deployment = readDeployment(await deploymentFile(o))
  return createChainContext({ deployment, rpcUrl: o.rpc, account: role ? await accountFor(o, deployment, role) : undefined })
}

function parseId(s: string): bigint {
  if (!/^\d+$/.test(s)) throw usage(`campaign id must be a positive integer, got "${s}"`, 'id')
  return BigInt(s)
}

function parseBps(s: string, field: string): number {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw usage(`--${field} must be basis points 0..10000, got "${s}"`, field)
  return n
}

function parseDuration(s: string, field: string): bigint {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s)
  if (!m) throw usage(`--${field} must be a duration like 3600, 90m, 12h or 7d, got "${s}"`, field)
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }
  return BigInt(m[1]) * BigInt(unit[m[2] ?? 's'])
}

async function decimalsOf(ctx: ChainContext, token: Address): Promise<number> {
  const { erc20Abi } = await chainLib()
  return ctx.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' })
}

async function parseTokens(s: string, decimals: number, field: string): Promise<bigint> {
  const { checkAmount, parseUnits } = await chainLib()
  if (!/^\d+(\.\d+)?$/.test(s)) throw usage(`${field} must be a token amount like 100 or 0.5, got "${s}"`, field)
  return checkAmount(parseUnits(s, decimals), field)
}

/** Mint local TestToken to the signer when asked (--mint), so local demos need no faucet. */
async function maybeMint(ctx: ChainContext, token: Address, amount: bigint, mint: boolean | undefined): Promise<void> {
  if (!mint) return
  const { getAddress, sendTx, testTokenAbi } = await chainLib()
  if (!ctx.deployment.token || getAddress(token) !== ctx.deployment.token) throw usage('--mint works only with the local TestToken', 'mint')
  await sendTx(ctx, 'TestToken.mint', { address: token, abi: testTokenAbi, functionName: 'mint', args: [ctx.account!.address, amount] })
}

function chainOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'instruct3 data directory (default: $INSTRUCT3_HOME or ./.instruct3)')
    .option('--deployment <file>', 'deployment JSON (default: <data-dir>/chain/deployment.json)')
    .option('--rpc <url>', 'JSON-RPC endpoint (default: the one in the deployment)')
    .option('--key <hex>', 'private key that signs (default: $INSTRUCT3_CHAIN_KEY; on anvil the role\'s dev account)')
    .option('--dev-account <n>', 'sign with anvil dev account N (0 requester, 1 oracle, 2.. labelers)')
    .option('--json', 'print JSON')
}

export function register(program: Command): void {
  const chain = chainOptions(program.command('chain').description('local chain and contracts: anvil, LabelingEscrow, LabelerBadge, TestToken'))

  chain
    .command('up')
    .description('start anvil, deploy the contracts (or reuse them from saved state), write the deployment JSON, run until Ctrl-C')
    .option('--port <n>', 'RPC port on 127.0.0.1 (0 = any free port)', '8545')
    .option('--fresh', 'discard saved chain state and deploy anew')
    .option('--no-persist', 'do not keep chain state between runs')
    .action(async (o: { port: string; fresh?: boolean; persist: boolean }, cmd: Command) => {
      const { createChainClients, deployContracts, DEV_ROLES, devAccount, readDeployment, startAnvil, writeDeployment } = await chainLib()
      const g = cmd.optsWithGlobals<ChainOpts>()
      const port = Number(o.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--port must be 0..65535, got "${o.port}"`, 'port')
      const dir = join(dataDir(g.dataDir), 'chain')
      mkdirSync(dir, { recursive: true })
      const statePath = join(dir, 'anvil-state.json')
      const file = await deploymentFile(g)
      if (o.fresh || !o.persist) rmSync(statePath, { force: true })
      const anvil = await startAnvil({ port, statePath: o.persist ? statePath : undefined })
      try {
        let d: Deployment | null = null
        if (!o.fresh && o.persist && existsSync(file)) {
          const old = readDeployment(file)
          const code = await createChainClients({ rpcUrl: anvil.rpcUrl, chainId: old.chainId }).publicClient.getCode({ address: old.escrow })
          if (code && code !== '0x') d = { ...old, rpcUrl: anvil.rpcUrl }
        }
        const reused = d !== null
        d ??= await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: devAccount(DEV_ROLES.deployer), oracle: devAccount(DEV_ROLES.oracle).address })
        writeDeployment(d, file)
        if (g.json) console.log(json({ ...d, reused, deploymentFile: file }))
        else {
          console.log(`anvil ${anvil.rpcUrl} (chain ${d.chainId}, pid ${anvil.pid})`)
          console.log(`LabelingEscrow ${d.escrow}${reused ? ' (reused)' : ''}`)
          console.log(`LabelerBadge   ${d.badge}`)
          console.log(`TestToken      ${d.token}`)
          console.log(`requester/owner dev account 0 ${devAccount(0).address}; oracle dev account 1 ${d.oracle}; labelers: dev accounts 2..9`)
          console.log(`deployment written to ${file}`)
        }
        console.log('chain ready (Ctrl-C to stop)')
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      } finally {
        await anvil.close()
      }
    })

  chain
    .command('deploy')
    .description('deploy the contracts to the node at --rpc with --key (the oracle gets the badge issuer role)')
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint')
    .option('--oracle <address>', 'the labeling service\'s address (default: the deployer)')
    .option('--no-test-token', 'do not deploy TestToken')
    .action(async (o: { rpc: string; oracle?: string; testToken: boolean }, cmd: Command) => {
      const { accountFromKey, deployContracts, isAddress, writeDeployment } = await chainLib()
      const g = cmd.optsWithGlobals<ChainOpts>()
      const deployer = g.key ? accountFromKey(g.key) : process.env.INSTRUCT3_CHAIN_KEY ? accountFromKey(process.env.INSTRUCT3_CHAIN_KEY) : null
      if (!deployer) throw usage('deploy needs --key or $INSTRUCT3_CHAIN_KEY', 'key')
      if (o.oracle && !isAddress(o.oracle)) throw usage('--oracle must be an address', 'oracle')
      const d = await deployContracts({ rpcUrl: o.rpc, deployer, oracle: (o.oracle as Address) ?? deployer.address, testToken: o.testToken })
      const file = await deploymentFile(g)
      writeDeployment(d, file)
      console.log(g.json ? json(d) : `deployed: escrow ${d.escrow}, badge ${d.badge}, token ${d.token ?? '-'}; written to ${file}`)
    })

  chain
    .command('status [labeler]')
    .description('without an address: the deployment; with one: the labeler\'s earnings, vesting stake and badge')
    .action(async (labeler: string | undefined, _o: unknown, cmd: Command) => {
      const { campaignCount, getLabelerOnchainStatus, isAddress } = await chainLib()
      const ctx = await contextFor(cmd, null)
      if (labeler === undefined) {
        console.log(json({ ...ctx.deployment, campaigns: await campaignCount(ctx), block: await ctx.publicClient.getBlockNumber() }))
        return
      }
      if (!isAddress(labeler)) throw usage(`not an address: "${labeler}"`, 'labeler')
      console.log(json(await getLabelerOnchainStatus(labeler, ctx)))
    })

  const campaign = chainOptions(program.command('campaign').description('escrowed labeling campaigns on chain: create, fund, join, settle, slash, close, status'))

  campaign
    .command('create')
    .description('open a campaign (signer = requester) and deposit its budget')
    .requiredOption('--reward <tokens>', 'reward per accepted label at full quality')
    .requiredOption('--fund <tokens>', 'initial budget')
    .option('--stake <tokens>', 'stake a labeler must lock to join', '10')
    .option('--threshold <bps>', 'quality at or above which a vesting deposit earns the bonus', '8000')
    .option('--immediate <bps>', 'share of each payment claimable at once (the rest vests)', '5000')
    .option('--bonus <bps>', 'bonus on a vesting deposit kept locked for the whole vesting period at quality (reserved from the budget at deposit)', '1000')
    .option('--fraud-limit <bps>', 'gold-task failure rate above which the oracle may slash', '3000')
    .option('--vesting <duration>', 'vesting period (3600, 90m, 12h, 7d)', '7d')
    .option('--deadline <duration>', 'time from now after which anyone may close the campaign (at most 730d)', '30d')
    .option('--settlement-window <duration>', 'time after close during which the oracle can still settle and slash (1d to 30d); stakes unlock after it', '3d')
    .option('--token <address>', 'ERC-20 to pay in (default: the deployment\'s TestToken)')
    .option('--oracle <address>', 'who settles (default: the deployment\'s oracle)')
    .option('--mint', 'mint the budget first (local TestToken only)')
    .action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { createCampaign, formatUnits, isAddress } = await chainLib()
      const ctx = await contextFor(cmd, 'requester')
      const token = (o.token as string | undefined) ?? ctx.deployment.token
      if (!token || !isAddress(token)) throw usage('--token must be an ERC-20 address (no TestToken in this deployment)', 'token')
      const oracle = (o.oracle as string | undefined) ?? ctx.deployment.oracle
      if (!isAddress(oracle)) throw usage('--oracle must be an address', 'oracle')
      const dec = await decimalsOf(ctx, token)
      const funding = await parseTokens(String(o.fund), dec, 'fund')
      const params = {
        rewardPerLabel: await parseTokens(String(o.reward), dec, 'reward'),
        requiredStake: await parseTokens(String(o.stake), dec, 'stake'),
        qualityThresholdBps: parseBps(String(o.threshold), 'threshold'),
        immediateBps: parseBps(String(o.immediate), 'immediate'),
        bonusBps: parseBps(String(o.bonus), 'bonus'),
        fraudGoldFailBps: parseBps(String(o.fraudLimit), 'fraud-limit'),
        vestingPeriod: parseDuration(String(o.vesting), 'vesting'),
        // The deadline is absolute on chain; count it from the chain's clock (anvil may be warped).
        deadline: (await ctx.publicClient.getBlock()).timestamp + parseDuration(String(o.deadline), 'deadline'),
        settlementWindow: parseDuration(String(o.settlementWindow), 'settlement-window'),
      }
      await maybeMint(ctx, token, funding, o.mint as boolean | undefined)
      const { campaignId, txHash } = await createCampaign(ctx, { token, oracle, params, funding })
      console.log(cmd.optsWithGlobals<ChainOpts>().json ? json({ campaignId, txHash, params, funding }) : `campaign ${campaignId} created (tx ${txHash}); budget ${formatUnits(funding, dec)}`)
    })

  campaign
    .command('fund <id> <tokens>')
    .description('add budget to an open campaign (signer = its requester)')
    .option('--mint', 'mint the amount first (local TestToken only)')
    .action(async (id: string, amount: string, o: { mint?: boolean }, cmd: Command) => {
      const { fundCampaign, getCampaign } = await chainLib()
      const ctx = await contextFor(cmd, 'requester')
      const c = await getCampaign(ctx, parseId(id))
      const value = await parseTokens(amount, await decimalsOf(ctx, c.token), 'tokens')
      await maybeMint(ctx, c.token, value, o.mint)
      const tx = await fundCampaign(ctx, c.id, value)
      console.log(`campaign ${c.id} funded with ${amount} (tx ${tx})`)
    })

  campaign
    .command('join <id>')
    .description('stake to join a campaign as a labeler (signer = the labeler: --key or --dev-account)')
    .option('--stake <tokens>', 'amount to stake (default: the required stake)')
    .option('--mint', 'mint the stake first (local TestToken only)')
    .action(async (id: string, o: { stake?: string; mint?: boolean }, cmd: Command) => {
      const { getCampaign, joinCampaign } = await chainLib()
      const ctx = await contextFor(cmd, 'labeler')
      const c = await getCampaign(ctx, parseId(id))
      const stake = o.stake ? await parseTokens(o.stake, await decimalsOf(ctx, c.token), 'stake') : c.params.requiredStake
      await maybeMint(ctx, c.token, stake, o.mint)
      const tx = await joinCampaign(ctx, c.id, stake)
      console.log(`${ctx.account!.address} joined campaign ${c.id} (tx ${tx})`)
    })

  campaign
    .command('settle <id> <batch>')
    .description('settle a labeling export\'s batch.json (signer = the oracle): slash proven cheaters, pay labels not yet paid by quality (in pages of 200 labelers), mint/upgrade badges; settling the same or an older export again pays nothing')
    .option('--dataset-cid <cid>', 'dataset CID to record (default: the batch\'s datasetCid)')
    .option('--no-badges', 'do not mint or upgrade badges')
    .option('--metadata-dir <dir>', 'write badge metadata JSON files here, named by CID (default: <data-dir>/chain/badges)')
    .action(async (id: string, file: string, o: { datasetCid?: string; badges: boolean; metadataDir?: string }, cmd: Command) => {
      const { readBatchManifest, settleBatch } = await chainLib()
      const g = cmd.optsWithGlobals<ChainOpts>()
      const ctx = await contextFor(cmd, 'oracle')
      const batch = readBatchManifest(file)
      const metaDir = o.metadataDir ?? join(dataDir(g.dataDir), 'chain', 'badges')
      const steps = createProgress({ label: 'settle', total: batch.labelers.length * (o.badges ? 2 : 1), unit: 'steps', quiet: g.json })
      const r = await settleBatch(ctx, parseId(id), batch, {
        datasetCid: o.datasetCid,
        badges: o.badges,
        // The metadata is kept by CID so it can be pinned (`instruct3 store add`) where the URI points.
        onMetadata: (cid, text) => {
          mkdirSync(metaDir, { recursive: true })
          writeFileSync(join(metaDir, `${cid}.json`), text)
        },
        onStep: () => steps.tick(),
      })
      steps.done()
      if (g.json) return console.log(json(r))
      console.log(`batch ${r.batchIndex ?? '-'} settled in ${r.pages.length} transaction(s) (gas ${r.gasUsed}); root ${r.merkleRoot}; dataset ${r.datasetCid || '-'}`)
      for (const c of r.credits) console.log(`  ${c.labeler} ${c.accepted} new accepted labels, quality ${c.qualityBps} bps: immediate ${c.immediate}, vested ${c.vested}, bonus reserved ${c.bonusReserved}`)
      for (const s of r.slashed) console.log(`  SLASHED ${s.labeler}: ${s.goldFailures}/${s.goldTotal} gold failures; stake ${s.fromStake} + vesting ${s.fromVesting} + bonus reserve ${s.fromBonusReserve} back to the campaign (evidence ${s.evidenceCid})`)
      for (const k of r.skipped) console.log(`  skipped ${k.labeler}: ${k.reason === 'not-joined' ? 'never joined the campaign on chain (not paid)' : k.reason === 'slashed' ? 'slashed earlier' : 'no labels beyond those already paid'}`)
      for (const b of r.badges) console.log(`  badge ${b.labeler}: ${b.action}, level ${b.level} ${b.tokenURI ?? ''}`)
    })

  campaign
    .command('slash <id> <labeler>')
    .description('slash a labeler with a fraud proof signed by the oracle (signer = the oracle)')
    .requiredOption('--gold-failures <n>', 'gold tasks failed')
    .requiredOption('--gold-total <n>', 'gold tasks answered')
    .requiredOption('--evidence <cid>', 'CID of the evidence (the exported labels)')
    .action(async (id: string, labeler: string, o: { goldFailures: string; goldTotal: string; evidence: string }, cmd: Command) => {
      const { getAddress, isAddress, signFraudProof, slashLabeler } = await chainLib()
      const ctx = await contextFor(cmd, 'oracle')
      if (!isAddress(labeler)) throw usage(`not an address: "${labeler}"`, 'labeler')
      const goldFailures = Number(o.goldFailures)
      const goldTotal = Number(o.goldTotal)
      if (!Number.isInteger(goldFailures) || !Number.isInteger(goldTotal) || goldFailures < 0 || goldTotal < 0) throw usage('gold counts must be non-negative integers', 'gold-failures')
      const proof = { campaignId: parseId(id), labeler: getAddress(labeler), goldFailures, goldTotal, evidenceCid: o.evidence }
      const r = await slashLabeler(ctx, proof, await signFraudProof(ctx.account!, ctx.deployment, proof))
      console.log(`slashed ${labeler}: stake ${r.fromStake}, vesting ${r.fromVesting}, bonus reserve ${r.fromBonusReserve} (tx ${r.txHash})`)
    })

  campaign
    .command('withdraw <id>')
    .description('withdraw claimable pay (and matured vesting stake with its bonus); --stake takes back the join stake once the campaign is closed and its settlement window is over. Works while the escrow is paused')
    .option('--stake', 'withdraw the join stake instead')
    .action(async (id: string, o: { stake?: boolean }, cmd: Command) => {
      const { withdrawPay, withdrawStake } = await chainLib()
      const ctx = await contextFor(cmd, 'labeler')
      const amount = o.stake ? await withdrawStake(ctx, parseId(id)) : await withdrawPay(ctx, parseId(id))
      console.log(`withdrew ${amount}`)
    })

  campaign
    .command('close <id>')
    .description('close a campaign (signer = its requester; anyone after the deadline). The oracle can still settle and slash until the settlement window ends; then stakes unlock and `campaign refund` returns the unspent budget')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { closeCampaign } = await chainLib()
      const ctx = await contextFor(cmd, 'requester')
      const r = await closeCampaign(ctx, parseId(id))
      console.log(`campaign ${id} closed; settlement window ends at ${new Date(Number(r.settlementEndsAt) * 1000).toISOString()} (tx ${r.txHash})`)
    })

  campaign
    .command('refund <id>')
    .description('after the settlement window, send the unspent budget to the requester (any signer may trigger it)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { refundCampaign } = await chainLib()
      const ctx = await contextFor(cmd, 'requester')
      const r = await refundCampaign(ctx, parseId(id))
      console.log(`campaign ${id}: refunded ${r.refunded} to the requester (tx ${r.txHash})`)
    })

  campaign
    .command('status <id>')
    .description('a campaign\'s parameters and accounting, and the positions of --labeler addresses')
    .option('--labeler <address...>', 'labelers to show')
    .action(async (id: string, o: { labeler?: string[] }, cmd: Command) => {
      const { getAddress, getCampaign, getPosition, isAddress } = await chainLib()
      const ctx = await contextFor(cmd, null)
      const c = await getCampaign(ctx, parseId(id))
      const positions: Record<string, unknown> = {}
      for (const l of o.labeler ?? []) {
        if (!isAddress(l)) throw usage(`not an address: "${l}"`, 'labeler')
        positions[getAddress(l)] = await getPosition(ctx, c.id, l)
      }
      console.log(json({ ...c, positions }))
    })
}
