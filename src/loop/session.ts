/**
 * The loop on the embedded defaults, from a finished pipeline run (`instruct3 loop`, and the demo's round):
 * its SFT model starts the loop, its fitted task prompts (with their reference answers) feed the rounds,
 * its held-out synthetic comparisons are scored next to the crowd's, and its pretraining tokens give
 * PPO its ptx mix. The chain is a deployment file when one is given, else a local anvil whose state is
 * kept in the loop folder (so a killed loop resumes on the same chain), with the contracts deployed once.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startAnvil, type Anvil } from '../chain/anvil.ts'
import { devAccount } from '../chain/client.ts'
import { createChainClients } from '../chain/client.ts'
import { deployContracts } from '../chain/deploy.ts'
import { readDeployment, writeDeployment, type Deployment } from '../chain/deployment.ts'
import { createStore } from '../store/index.ts'
import { loadComparisons, loadPrompts, type PromptRecord } from '../data/formats.ts'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { defaultCrowd } from './crowd.ts'
import { runLoop, type LoopOptions, type LoopResult } from './run.ts'
import { loopReportMarkdown } from './report.ts'

export type LoopSessionOptions = {
  /** The pipeline's work folder (sft/, fit/, pretrain/ and samples/ inside). */
  pipelineDir: string
  workDir: string
  name: string
  rounds: number
  /** A deployment JSON to use instead of a local anvil. */
  deploymentFile?: string
  storeDir: string
  promptsPerRound: number
  goldPerRound: number
  k: number
  maxNewTokens: number
  reward: LoopOptions['reward']
  ppo: LoopOptions['ppo']
  /** Held-out synthetic comparisons scored next to the crowd's (0: none). */
  syntheticVal: number
  seed: number
  quiet?: boolean
}

export type LoopSessionResult = LoopResult & { markdown: string; reportDir: string; seconds: number }

/** Prompts whose reference answers have a few words to be close to, one per distinct prompt. */
export function promptsWithReferences(rows: PromptRecord[]): PromptRecord[] {
  const seen = new Set<string>()
  return rows.filter((r) => r.reference && r.reference.split(/\s+/).length >= 3 && !seen.has(r.prompt) && seen.add(r.prompt))
}

export async function runLoopSession(o: LoopSessionOptions): Promise<LoopSessionResult> {
  const t0 = performance.now()
  mkdirSync(o.workDir, { recursive: true })
  let anvil: Anvil | undefined
  let d: Deployment
  if (o.deploymentFile) d = readDeployment(o.deploymentFile)
  else {
    const chainDir = join(o.workDir, 'chain')
    mkdirSync(chainDir, { recursive: true })
    anvil = await startAnvil({ statePath: join(chainDir, 'anvil-state.json') })
    const file = join(chainDir, 'deployment.json')
    let reuse: Deployment | undefined
    if (existsSync(file)) {
      const old = readDeployment(file)
      const code = await createChainClients({ rpcUrl: anvil.rpcUrl, chainId: old.chainId }).publicClient.getCode({ address: old.escrow })
      if (code && code !== '0x') reuse = { ...old, rpcUrl: anvil.rpcUrl }
    }
    d = reuse ?? (await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: devAccount(0), oracle: devAccount(1).address }))
    writeDeployment(d, file)
  }
  const store = await createStore({ kind: 'helia', dir: o.storeDir })
  try {
    const tasks = join(o.pipelineDir, 'fit', 'tasks')
    const all = promptsWithReferences(await loadPrompts(join(tasks, 'train', 'prompts.jsonl')))
    const goldN = o.goldPerRound
    const prompts = all.slice(goldN)
    const synthetic = o.syntheticVal > 0 ? (await loadComparisons(existsSync(join(o.pipelineDir, 'samples', 'comparisons.val.jsonl')) ? join(o.pipelineDir, 'samples', 'comparisons.val.jsonl') : join(tasks, 'val', 'comparisons.jsonl'))).slice(0, o.syntheticVal).map((c) => ({ ...c, origin: 'synthetic' as const })) : []
    const tokens = join(o.pipelineDir, 'pretrain', 'train.tokens.i32')
    const r = await runLoop({
      workDir: o.workDir,
      name: o.name,
      rounds: o.rounds,
      sftDir: join(o.pipelineDir, 'sft', 'model'),
      prompts,
      goldPrompts: all.slice(0, goldN),
      promptsPerRound: o.promptsPerRound,
      goldPerRound: goldN,
      k: o.k,
      overlap: 3,
      goldEvery: 2,
      maxNewTokens: o.maxNewTokens,
      crowd: defaultCrowd([2, 3, 4, 5, 6].map((i) => devAccount(i))),
      origin: 'simulated-labeler',
      store,
      chain: { deployment: d, requester: devAccount(0), oracle: devAccount(1) },
      reward: o.reward,
      ppo: o.ppo,
      ppoPrompts: prompts.map((p) => p.prompt),
      ...(existsSync(tokens) ? { ptxTokensFile: tokens } : {}),
      syntheticVal: synthetic,
      seed: o.seed,
      quiet: o.quiet,
    })
    const reportDir = join(o.workDir, 'report')
    const markdown = loopReportMarkdown(r.rounds, reportDir, { simulated: true, manifest: r.manifest })
    writeFileAtomicSync(join(reportDir, 'loop.md'), `# Feedback loop: ${o.name}\n\n${markdown}\n`)
    return { ...r, markdown, reportDir, seconds: (performance.now() - t0) / 1000 }
  } finally {
    await store.close()
    await anvil?.close()
  }
}
