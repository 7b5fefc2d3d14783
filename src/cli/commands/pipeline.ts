import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'

/** The whole recipe: `pipeline`, `demo`, one `stage` as a job runs it, and `reproduce`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run a small pipeline end to end on embedded defaults (pretrain -> SFT -> RM -> PPO + DPO -> eval -> report)')
    .option('--work-dir <dir>', 'where the run lives', join(dataDir(), 'runs', 'demo'))
    .option('--no-store', 'do not add artifacts and manifests to the embedded IPFS store')
    .option('--no-loop', 'skip the feedback round (simulated crowd, local chain) after the pipeline')
    .option('--quiet', 'no progress output')
    .action(async (o: { workDir: string; store: boolean; loop: boolean; quiet?: boolean }) => {
      const { demoConfig } = await import('../../pipeline/config.ts')
      const cfg = demoConfig()
      cfg.workDir = resolve(o.workDir)
      if (!o.store) cfg.store = { kind: 'none' }
      const r = await runAndPrint(cfg, { quiet: o.quiet })
      if (!o.loop || cfg.store.kind === 'none') return
      // one round of the feedback loop from the SFT model: the simulated crowd labels its samples
      const { runLoopSession } = await import('../../loop/session.ts')
      const { DEMO_ROUND } = await import('./loop.ts')
      const { appendFileSync } = await import('node:fs')
      const loop = await runLoopSession({ ...DEMO_ROUND, pipelineDir: cfg.workDir, workDir: join(cfg.workDir, 'loop'), name: 'demo', rounds: 1, storeDir: cfg.store.dir ?? join(dataDir(), 'ipfs'), seed: cfg.seed, quiet: o.quiet })
      appendFileSync(r.reportFile, '\n' + loop.markdown.replace('](labeler_pay.png)', '](../loop/report/labeler_pay.png)') + '\n')
      const s = loop.rounds[0]
      console.log(`feedback round (simulated crowd): ${s.labelCount} signed labels, settled in ${s.settlement?.txHash}; RM on the crowd's rankings: ${Object.entries(s.reward?.accuracy ?? {}).map(([k, v]) => `${k} ${v.accuracy.toFixed(3)}`).join(', ')}; ${loop.seconds.toFixed(0)} s`)
      console.log(`round manifest: ${loop.manifest}  (check it with: instruct3 verify ${loop.manifest})`)
    })

  program
    .command('pipeline')
    .description('run the pipeline from a JSON config; finished stages with the same inputs and config are skipped, interrupted ones resume')
    .requiredOption('--config <file>', 'pipeline config (JSON; "extends": "demo" starts from the demo config)')
    .option('--until <stage>', 'stop after this stage')
    .option('--force <stages...>', 're-run these stages and all after them')
    .option('--runner <kind>', 'inprocess (default: resumable, skips finished stages) | local (each stage a job in a child process) | bacalhau')
    .option('--bacalhau-api <url>', 'Bacalhau orchestrator API (with --runner bacalhau)')
    .option('--ipfs-api <url>', 'Kubo RPC API that the Bacalhau nodes use (with --runner bacalhau)')
    .option('--seeds <n>', 'run under n seeds (seed, seed+1, ...; each in <workDir>/seed-<s>) and write the evaluation over seeds to <workDir>/seeds.md (in-process runner)')
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; until?: string; force?: string[]; runner?: string; bacalhauApi?: string; ipfsApi?: string; seeds?: string; quiet?: boolean }) => {
      const { loadPipelineConfig } = await import('../../pipeline/config.ts')
      const cfg = loadPipelineConfig(resolve(o.config))
      if (o.runner && !['inprocess', 'local', 'bacalhau'].includes(o.runner)) {
        const { Instruct3Error } = await import('../../util/errors.ts')
        throw new Instruct3Error(`unknown runner "${o.runner}" (inprocess, local or bacalhau)`, { code: 'ECONFIG', details: { field: '--runner' } })
      }
      if (o.seeds !== undefined) {
        const { Instruct3Error } = await import('../../util/errors.ts')
        if (o.runner && o.runner !== 'inprocess') throw new Instruct3Error('--seeds runs in process only', { code: 'ECONFIG', details: { field: '--seeds' } })
        const { runSeeds } = await import('../../pipeline/seeds.ts')
        const r = await runSeeds(cfg, Number(o.seeds), { quiet: o.quiet, until: o.until, force: o.force })
        console.log(`pipeline "${cfg.name}" over ${o.seeds} seeds: ${r.seconds.map((s) => (s / 60).toFixed(1)).join(', ')} min; summary: ${r.summaryFile}`)
        return
      }
      // the Bacalhau nodes read inputs from and publish to this Kubo node, so our store is it too
      if (o.ipfsApi) cfg.store = { kind: 'kubo', apiUrl: o.ipfsApi }
      if (o.runner === 'local' || o.runner === 'bacalhau') {
        const { runPipelineAsJobs } = await import('../../pipeline/jobs.ts')
        const r = await runPipelineAsJobs(cfg, { runner: o.runner, bacalhauApi: o.bacalhauApi, quiet: o.quiet, until: o.until, force: o.force })
        printResult(cfg, r)
        return
      }
      await runAndPrint(cfg, { quiet: o.quiet, until: o.until, force: o.force })
    })

  program
    .command('reproduce')
    .description('re-run one recorded stage with the same config and input CIDs, and compare its output CIDs (equal = bitwise identical)')
    .argument('<cid>', 'a run manifest, or a pipeline manifest with --stage')
    .option('--stage <name>', 'the stage to re-run, when <cid> is a pipeline manifest')
    .option('--keep', 'keep the re-run folder')
    .option('--quiet', 'no progress output')
    .action(async (cid: string, o: { stage?: string; keep?: boolean; quiet?: boolean }) => {
      const { defaultStore } = await import('../../store/index.ts')
      const { reproduceStage } = await import('../../pipeline/reproduce.ts')
      const store = await defaultStore()
      try {
        const r = await reproduceStage(store, cid, o)
        for (const x of r.outputs) console.log(`${x.same ? 'same     ' : 'DIFFERENT'} ${x.name}: recorded ${x.recorded ?? '-'} reproduced ${x.reproduced ?? '-'}`)
        console.log(r.identical ? `stage ${r.stage}: bitwise reproducible` : `stage ${r.stage}: outputs differ`)
        if (!r.identical) process.exitCode = 1
      } finally {
        await store.close()
      }
    })

  program
    .command('stage')
    .description('run one pipeline stage as a job does: earlier stages\' folders under --inputs, results in --out')
    .argument('<name>', 'stage: data, pretrain or base, fit, sft, samples, reward, judge, reward-hh, ppo, dpo, eval')
    .requiredOption('--config <file>', 'pipeline config (JSON)')
    .requiredOption('--inputs <dir>', 'folder holding the earlier stages\' outputs (<dir>/<stage>/stage.json) and shared-data/')
    .requiredOption('--out <dir>', 'this stage\'s output folder')
    .option('--quiet', 'no progress output')
    .action(async (name: string, o: { config: string; inputs: string; out: string; quiet?: boolean }) => {
      const { loadPipelineConfig } = await import('../../pipeline/config.ts')
      const { runStageJob } = await import('../../pipeline/jobs.ts')
      const rec = await runStageJob(name, loadPipelineConfig(resolve(o.config)), resolve(o.inputs), resolve(o.out), o.quiet)
      console.log(`stage ${name}: done in ${rec.seconds.toFixed(1)} s ${JSON.stringify(rec.metrics)}`)
    })
}

async function runAndPrint(cfg: import('../../pipeline/config.ts').PipelineConfig, opts: { quiet?: boolean; until?: string; force?: string[] }) {
  const { runPipeline } = await import('../../pipeline/run.ts')
  return printResult(cfg, await runPipeline(cfg, opts))
}

function printResult(cfg: import('../../pipeline/config.ts').PipelineConfig, r: import('../../pipeline/run.ts').PipelineResult) {
  console.log(`pipeline "${cfg.name}" finished in ${(r.seconds / 60).toFixed(1)} min`)
  console.log(`report: ${r.reportFile}`)
  if (r.manifest) console.log(`pipeline manifest: ${r.manifest}  (check it with: instruct3 verify ${r.manifest})`)
  return r
}
