import { existsSync, statSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import type { Command } from 'commander'
import { dataDir } from '../../util/paths.ts'
import { Instruct3Error } from '../../util/errors.ts'
import { createProgress } from '../../util/progress.ts'
// Type-only: the labeling modules (hono, kysely, better-sqlite3, viem) load inside the actions, so
// that registering these commands (every CLI start, `--version` included) stays cheap.
import type { createLabelingServer } from '../../labeling/server.ts'
import type { openLabelingDb } from '../../labeling/db/connect.ts'
import type { ResponseSampler } from '../../labeling/sampler.ts'
import type { LabelingContext } from '../../labeling/context.ts'

/** A CLI option that must be a positive integer, or an error naming the option. */
function positiveInt(v: string, name: string): number {
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 1) throw new Instruct3Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`, { code: 'EUSAGE', details: { field: name } })
  return n
}

function syncMode(v: string): 'FULL' | 'NORMAL' {
  const m = String(v).toUpperCase()
  if (m !== 'FULL' && m !== 'NORMAL') throw new Instruct3Error(`--sqlite-synchronous must be FULL or NORMAL, got ${JSON.stringify(v)}`, { code: 'EUSAGE', details: { field: '--sqlite-synchronous' } })
  return m
}

const defaultDb = () => join(dataDir(), 'labeling.sqlite')
const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)]

/** A store hook for exports: adds the dataset directory to the project's content store. */
async function storeHook(storeDir?: string): Promise<(dir: string) => Promise<string>> {
  const { defaultStore } = await import('../../store/index.ts')
  return async (dir) => {
    const store = await defaultStore(storeDir)
    try {
      return (await store.addDirectory(dir, { pin: true })).toString()
    } finally {
      await store.close()
    }
  }
}

async function deterministicSampler(): Promise<ResponseSampler> {
  const { createDeterministicSampler } = await import('../../labeling/sampler.ts')
  return createDeterministicSampler()
}

/** A sampler module exports `createSampler(policy: string): ResponseSampler | Promise<ResponseSampler>`. */
async function loadSampler(mod: string | undefined, policy: string): Promise<ResponseSampler> {
  if (!mod) return deterministicSampler()
  const m = (await import(join(process.cwd(), mod))) as { createSampler?: (p: string) => ResponseSampler | Promise<ResponseSampler> }
  if (typeof m.createSampler !== 'function') throw new Instruct3Error('sampler module must export createSampler(policy)', { details: { file: mod } })
  return m.createSampler(policy)
}

/**
 * `--policy-sampler`: sample ranking outputs from the campaign's policy checkpoint folder with the
 * project's generator (src/labeling/policy-sampler.ts, wired by the model owner); a policy that is
 * not a local folder (e.g. a CID not fetched yet) falls back to the deterministic sampler.
 */
function policySamplerFor(root?: string): (policy: string) => Promise<ResponseSampler> {
  return async (policy) => {
    // On the server the policy comes from API input: only folders under the operator's --policy-root
    // are ever looked at, so a request cannot make the server open (or probe) any other path.
    if (root !== undefined) {
      const dir = resolve(root, policy)
      if (dir !== root && !dir.startsWith(root + sep)) {
        const { ApiError } = await import('../../labeling/errors.ts')
        throw new ApiError(400, 'policy must be a CID or a checkpoint folder under the server\'s policy root (label serve --policy-root)', { code: 'EBADCAMPAIGN', details: { field: 'policy' } })
      }
      policy = dir
    }
    if (!existsSync(policy) || !statSync(policy).isDirectory()) return deterministicSampler()
    const modPath = '../../labeling/policy-sampler.ts'
    const m = (await import(modPath)) as { createPolicySampler(dir: string): Promise<ResponseSampler> }
    return m.createPolicySampler(policy)
  }
}

function offlineCtx(db: Awaited<ReturnType<typeof openLabelingDb>>, sampler: ResponseSampler, chainId: number): LabelingContext {
  return { db: db.db, dialect: db.dialect, now: Date.now, chainId, sampler, requesters: new Set(), reviewers: new Set(), openRoles: false, sessionTtlMs: 0, nonceTtlMs: 0 }
}

export function register(program: Command): void {
  const label = program.command('label').description('Labeling service: signed demonstrations, rankings and reviews; quality; dataset export')

  label
    .command('serve')
    .description('Run the labeling API and web app (SIWE sign-in, campaigns, tasks, signed labels)')
    .option('--db <url>', 'SQLite file or postgres://user:pass@host/db', defaultDb())
    .option('--port <n>', 'port (0 = any free port)', '8787')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--chain-id <n>', 'EIP-712 / SIWE chain id', '31337')
    .option('--domain <host:port...>', 'SIWE domains accepted (default: 127.0.0.1:PORT and localhost:PORT)')
    .option('--requester <address>', 'address(es) with the requester role (repeat or comma-separate)', list, [])
    .option('--reviewer <address>', 'address(es) with the reviewer role', list, [])
    .option('--open-roles', 'demo only: every signed-in wallet gets every role', false)
    .option('--demo', 'demo: open roles and a sample campaign with deterministic outputs', false)
    .option('--sampler <module>', 'module exporting createSampler(policy) for ranking outputs (default: deterministic demo sampler)')
    .option('--policy-sampler', "sample ranking outputs from each campaign's policy checkpoint folder with the project's generator", false)
    .option('--policy-root <dir>', 'with --policy-sampler: campaign policies name folders under this one (nothing else on the server is opened)', join(dataDir(), 'runs'))
    .option('--export-dir <dir>', 'where dashboard exports are written', join(dataDir(), 'label-exports'))
    .option('--add-to-store', 'add dashboard exports to the content store (Helia under the data dir)', false)
    .option('--no-rate-limit', 'disable per-client rate limits')
    .option('--quiet-requests', 'do not log every request', false)
    .option('--no-build-web', 'do not build the web app (web/dist) when it is missing or older than its sources')
    .option('--sqlite-synchronous <mode>', 'SQLite durability: FULL (fsync every commit; survives power loss) or NORMAL (survives a killed process only)', 'FULL')
    .option('--max-leases <n>', 'most unexpired task leases one wallet may hold over all campaigns', '20')
    .option('--verify-threads <n>', 'worker threads verifying label signatures (0 = on the event loop; default 1 with >= 2 CPUs)')
    .option('--deployment <file>', 'chain deployment (from `instruct3 chain up`) whose escrow and badges feed "my work" earnings and badges')
    .action(async (o) => {
      const { createLabelingServer } = await import('../../labeling/server.ts')
      const { createCampaign } = await import('../../labeling/campaigns.ts')
      const sampler = await loadSampler(o.sampler, 'serve')
      // earnings, vesting stake and badges come from the chain when a deployment exists
      let rewards: Parameters<typeof createLabelingServer>[0]['rewards']
      let chain: Parameters<typeof createLabelingServer>[0]['chain']
      // and with a deployment, tasks of on-chain campaigns go only to labelers who staked in them
      let membership: Parameters<typeof createLabelingServer>[0]['membership']
      try {
        const { readDeployment } = await import('../../chain/deployment.ts')
        const { createRewardsLookup } = await import('../../chain/rewards.ts')
        const { createMembershipCheck } = await import('../../chain/membership.ts')
        const dep = o.deployment ? readDeployment(o.deployment) : readDeployment()
        rewards = createRewardsLookup(dep) as typeof rewards
        // the web app's on-chain pages read terms, positions and badges through the server (read-only)
        const { createChainReads } = await import('../../chain/app-reads.ts')
        chain = createChainReads(dep)
        membership = createMembershipCheck({ deployment: dep })
      } catch (err) {
        if (o.deployment) throw err
      }
      if (o.buildWeb !== false) {
        try {
          const { buildWeb } = await import('../../../web/build.ts')
          await buildWeb()
        } catch (err) {
          console.error(`warning: could not build the web app (${(err as Error).message}); serving the API only`)
        }
      }
      const srv = await createLabelingServer({
        db: o.db,
        sampler,
        ...(o.policySampler ? { samplerFor: policySamplerFor(resolve(o.policyRoot)) } : {}),
        chainId: Number(o.chainId),
        ...(o.domain ? { domains: o.domain } : {}),
        requesters: o.requester,
        reviewers: o.reviewer,
        openRoles: o.openRoles || o.demo,
        exportDir: o.exportDir,
        ...(o.addToStore ? { addToStore: await storeHook() } : {}),
        ...(o.rateLimit === false ? { rateLimit: false as const } : {}),
        logRequests: !o.quietRequests,
        ...(o.verifyThreads !== undefined ? { verifyThreads: Number(o.verifyThreads) } : {}),
        maxLeasesPerWallet: positiveInt(o.maxLeases, '--max-leases'),
        synchronous: syncMode(o.sqliteSynchronous),
        ...(rewards ? { rewards } : {}),
        ...(chain ? { chain } : {}),
        ...(membership ? { membership } : {}),
      })
      if (o.demo) {
        const n = await srv.ctx.db.selectFrom('campaigns').select('id').executeTakeFirst()
        if (!n)
          await createCampaign(srv.ctx, { address: '0x0000000000000000000000000000000000000000', roles: ['requester'] }, {
            name: 'demo: web3 questions',
            policy: 'demo/deterministic-sampler',
            prompts: ['Explain what a reentrancy attack is and how to prevent it.', 'Summarise EIP-1559 in two sentences.', 'What weakness does SWC-107 describe?', 'Why do DAOs put a timelock on governance actions?'],
            k: 4,
            gold: [{ prompt: 'What is a private key?', responses: ['A secret number that controls an account; whoever holds it can sign for it.', 'A password you can reset by email.', 'The public address.', 'I cannot help with that.'], ranking: [0, 2, 1, 3] }],
          })
      }
      const { url } = await srv.listen(Number(o.port), o.host)
      console.log(`labeling server at ${url} (db: ${srv.db.dialect})`)
      const stop = async () => {
        await srv.close()
        process.exit(0)
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })

  label
    .command('create')
    .description('Create a campaign from a prompts JSONL file and a policy checkpoint (path or CID)')
    .option('--prompts <file>', 'prompts JSONL ({"prompt": ...} per line; e.g. a prompt-writing campaign\'s exported prompts.jsonl); not needed for --kinds prompt')
    .requiredOption('--policy <ref>', 'policy checkpoint path or CID (outputs for ranking tasks are sampled from it)')
    .option('--name <name>', 'campaign name', 'campaign')
    .option('--db <url>', 'SQLite file or postgres://...', defaultDb())
    .option('--k <n>', 'outputs per ranking task (4..9)', '4')
    .option('--overlap <n>', 'labelers per ranking task (>= 3)', '3')
    .option('--kinds <list>', 'task kinds: demonstration,ranking,prompt', 'demonstration,ranking')
    .option('--category <c>', 'smart_contract_security | governance | defi | transactions | general (tasks only for labelers qualified in it)', 'general')
    .option('--guidelines <file>', 'guidelines markdown (default: the built-in helpful/truthful/harmless guidelines)')
    .option('--reward-per-label <x>', 'pay per accepted label, in --currency units (for effective pay per hour)')
    .option('--target-hourly <x>', 'declared target effective pay per hour')
    .option('--currency <sym>', 'unit of reward and target', 'USDC')
    .option('--skips-per-hour <n>', 'skips + reports a labeler may make per hour', '6')
    .option('--prompt-tasks <n>', 'prompt-writing tasks per style (plain, few_shot, user_based) with --kinds prompt', '2')
    .option('--gold <file>', 'gold ranking tasks JSONL ({prompt, responses, ranking})')
    .option('--sampler <module>', 'module exporting createSampler(policy)')
    .option('--policy-sampler', "sample ranking outputs from the policy checkpoint folder with the project's generator", false)
    .option('--chain-campaign-id <id>', 'on-chain campaign id, if created on chain')
    .option('--requester <address>', 'recorded as the creator', '0x0000000000000000000000000000000000000000')
    .action(async (o) => {
      const { openLabelingDb } = await import('../../labeling/db/connect.ts')
      const { createCampaign } = await import('../../labeling/campaigns.ts')
      const { readPromptsFile, readGoldFile } = await import('../../labeling/prompt-files.ts')
      // The CLI reads the local files and hands their content over; the service never opens a path it is given.
      const prompts = o.prompts ? await readPromptsFile(o.prompts) : undefined
      const guidelines = o.guidelines ? (await import('node:fs/promises')).readFile(o.guidelines, 'utf8') : undefined
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
      const gold = o.gold ? await readGoldFile(o.gold) : []
      const db = await openLabelingDb(o.db)
      try {
        const sampler = o.policySampler ? await policySamplerFor()(o.policy) : await loadSampler(o.sampler, o.policy)
        const ctx = offlineCtx(db, sampler, 31337)
        const holder: { bar?: ReturnType<typeof createProgress> } = {}
        const c = await createCampaign(
          ctx,
          { address: o.requester.toLowerCase(), roles: ['requester'] },
          {
            name: o.name, prompts, policy: o.policy, k: Number(o.k), overlap: Number(o.overlap), kinds: o.kinds.split(','), gold, chainCampaignId: o.chainCampaignId ?? null,
            // issue 20: category, guidelines, pay terms, skip budget, prompt writing
            category: o.category, guidelines: await guidelines, rewardPerLabel: num(o.rewardPerLabel), targetHourly: num(o.targetHourly), currency: o.currency,
            skipsPerHour: Number(o.skipsPerHour), promptTasks: Number(o.promptTasks),
          },
          (done, total) => (holder.bar ??= createProgress({ label: 'sampling', total, unit: 'tasks' })).set(done),
        )
        holder.bar?.done()
        console.log(c.id)
      } finally {
        await db.close()
      }
    })

  label
    .command('export')
    .description('Export a campaign: demonstrations.jsonl, comparisons.jsonl, labels.jsonl (signed) and batch.json (Merkle root + proofs)')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--out <dir>', 'output directory (written atomically; an existing non-empty one needs --force)')
    .option('--force', 'replace an existing non-empty --out directory (its contents are deleted)', false)
    .option('--db <url>', 'SQLite file or postgres://...', defaultDb())
    .option('--chain-id <n>', 'EIP-712 chain id the labels were signed for', '31337')
    .option('--add-to-store', 'add the dataset files to the content store and record the CID', false)
    .option('--store-dir <dir>', 'data dir of the content store (default: the project data dir)')
    .action(async (o) => {
      const { openLabelingDb } = await import('../../labeling/db/connect.ts')
      const { exportCampaign } = await import('../../labeling/export.ts')
      const { refuseToReplace } = await import('../../util/replace-guard.ts')
      await refuseToReplace(o.out, { force: o.force })
      const db = await openLabelingDb(o.db)
      try {
        const ctx = offlineCtx(db, await deterministicSampler(), Number(o.chainId))
        const r = await exportCampaign(ctx, o.campaign, o.out, o.addToStore ? { addToStore: await storeHook(o.storeDir) } : {})
        // Labelers see their quality (gold results included) from this export on.
        const { loadCampaignQuality, saveQualitySnapshot } = await import('../../labeling/report.ts')
        await saveQualitySnapshot(ctx, o.campaign, (await loadCampaignQuality(ctx, o.campaign)).quality)
        for (const f of r.files) console.log(f)
        console.log(`labels ${r.counts.labels}, demonstrations ${r.counts.demonstrations}, comparisons ${r.counts.comparisons}`)
        console.log(`merkleRoot ${r.manifest.merkleRoot}`)
        if (r.manifest.datasetCid) console.log(`datasetCid ${r.manifest.datasetCid}`)
      } finally {
        await db.close()
      }
    })
}
