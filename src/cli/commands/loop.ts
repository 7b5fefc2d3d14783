import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'
import { Instruct3Error } from '../../util/errors.ts'

/** Demo-size settings of one round (a few dozen prompts, K = 4, small reward-model and PPO budgets). */
export const DEMO_ROUND = {
  // 24 prompts gave the round's reward model 19 training comparisons; 48 give about 38 (sampling them
  // costs about 10 s more); PPO 6 iterations keeps the round near a minute and a half on 2 cores
  promptsPerRound: 48,
  goldPerRound: 8,
  k: 4,
  maxNewTokens: 24,
  reward: { epochs: 2, batchSize: 8, lr: 1e-3, minLr: 1e-4, warmup: 2, checkpointEvery: 25, weightDecay: 0 },
  ppo: { iterations: 6, rolloutBatch: 16, miniBatch: 8, ppoEpochs: 2, maxNewTokens: 24, maxPrompts: 256, policyLr: 2e-4, kl: { coef: 0.1, estimator: 'k1' as const } },
  syntheticVal: 64,
}

/** `instruct3 loop`: InstructGPT's collection loop with the simulated crowd, from a finished pipeline run. */
export function register(program: Command): void {
  program
    .command('loop')
    .description('feedback rounds: sample the policy into a campaign, the simulated crowd labels it over the API, export + settle on chain, RM on all labels so far, PPO; resumable')
    .option('--rounds <n>', 'rounds to run (finished rounds are skipped)', '1')
    .option('--from <dir>', 'a finished pipeline work folder (its SFT model, prompts, pretraining tokens)', join(dataDir(), 'runs', 'demo'))
    .option('--work-dir <dir>', 'where the loop lives (state, labeling database, chain state, rounds)')
    .option('--deployment <file>', 'use this chain deployment (e.g. from `instruct3 chain up`) instead of a local anvil')
    .option('--prompts-per-round <n>', 'prompts sampled into each round', String(DEMO_ROUND.promptsPerRound))
    .option('--k <n>', 'outputs per prompt (4..9)', String(DEMO_ROUND.k))
    .option('--seed <n>', 'seed', '1')
    .option('--quiet', 'no progress output')
    .action(async (o: { rounds: string; from: string; workDir?: string; deployment?: string; promptsPerRound: string; k: string; seed: string; quiet?: boolean }) => {
      const int = (v: string, field: string, min: number) => {
        const n = Number(v)
        if (!Number.isInteger(n) || n < min) throw new Instruct3Error(`must be an integer >= ${min}, got "${v}"`, { code: 'EUSAGE', details: { field } })
        return n
      }
      const { runLoopSession } = await import('../../loop/session.ts')
      const from = resolve(o.from)
      const r = await runLoopSession({
        ...DEMO_ROUND,
        pipelineDir: from,
        workDir: resolve(o.workDir ?? join(from, 'loop')),
        name: 'loop',
        rounds: int(o.rounds, '--rounds', 1),
        deploymentFile: o.deployment ? resolve(o.deployment) : undefined,
        storeDir: join(dataDir(), 'ipfs'),
        promptsPerRound: int(o.promptsPerRound, '--prompts-per-round', 1),
        k: int(o.k, '--k', 4),
        seed: int(o.seed, '--seed', 0),
        quiet: o.quiet,
      })
      for (const s of r.rounds) console.log(`round ${s.round}: ${s.labelCount} signed labels, root ${s.merkleRoot}, settled in ${s.settlement?.txHash}; RM ${JSON.stringify(s.reward?.accuracy)}; new policy ${s.ppo?.cid}`)
      console.log(`loop finished in ${(r.seconds / 60).toFixed(1)} min; report ${join(r.reportDir, 'loop.md')}`)
      console.log(`round manifest: ${r.manifest}  (check it with: instruct3 verify ${r.manifest})`)
    })
}
