import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'

/** The InstructGPT steps as commands (`sft`, `reward`, `dpo`, `ppo`, `eval`) and the whole `pipeline` / `demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run a small pipeline end to end on embedded defaults (pretrain -> SFT -> RM -> PPO + DPO -> eval -> report)')
    .option('--work-dir <dir>', 'where the run lives', join(dataDir(), 'runs', 'demo'))
    .option('--no-store', 'do not add artifacts and manifests to the embedded IPFS store')
    .option('--quiet', 'no progress output')
    .action(async (o: { workDir: string; store: boolean; quiet?: boolean }) => {
      const { demoConfig } = await import('../../pipeline/config.ts')
      const cfg = demoConfig()
      cfg.workDir = resolve(o.workDir)
      if (!o.store) cfg.store = { kind: 'none' }
      await runAndPrint(cfg, { quiet: o.quiet })
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
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; until?: string; force?: string[]; runner?: string; bacalhauApi?: string; ipfsApi?: string; quiet?: boolean }) => {
      const { loadPipelineConfig } = await import('../../pipeline/config.ts')
      const cfg = loadPipelineConfig(resolve(o.config))
      if (o.runner && !['inprocess', 'local', 'bacalhau'].includes(o.runner)) {
        const { Instruct3Error } = await import('../../util/errors.ts')
        throw new Instruct3Error(`unknown runner "${o.runner}" (inprocess, local or bacalhau)`, { code: 'ECONFIG', details: { field: '--runner' } })
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
    .argument('<name>', 'stage: data, pretrain, sft, reward, judge, reward-hh, ppo, dpo, eval')
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

  program
    .command('sft')
    .description('supervised fine-tuning on demonstrations (loss on response tokens, packing)')
    .requiredOption('--base <dir>', 'pretrained model folder')
    .requiredOption('--train <file>', 'demonstrations JSONL')
    .option('--val <file>', 'validation demonstrations JSONL')
    .requiredOption('--out <dir>', 'run folder')
    .option('--epochs <n>', 'epochs', '2')
    .option('--batch <n>', 'rows per micro-batch', '16')
    .option('--lr <x>', 'peak learning rate', '5e-4')
    .option('--no-packing', 'one example per row instead of packing')
    .option('--reward-model <dir>', 'pick the final checkpoint by this reward model on validation prompts')
    .option('--seed <n>', 'random seed', '1')
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { trainSft, defaultSftConfig } = await import('../../train/sft.ts')
      const r = await trainSft({
        ...defaultSftConfig,
        base: resolve(String(o.base)),
        train: resolve(String(o.train)),
        val: o.val ? resolve(String(o.val)) : undefined,
        outDir: resolve(String(o.out)),
        epochs: Number(o.epochs),
        batchSize: Number(o.batch),
        packing: Boolean(o.packing),
        rewardModel: o.rewardModel ? resolve(String(o.rewardModel)) : undefined,
        loop: { ...defaultSftConfig.loop, lr: Number(o.lr), minLr: Number(o.lr) / 10, seed: Number(o.seed) },
        quiet: Boolean(o.quiet),
      })
      console.log(`sft: eval loss ${r.finalEval['eval/loss']?.toFixed(4) ?? 'n/a'}${r.selected ? `, selected step ${r.selected.step} (reward ${r.selected.value.toFixed(3)})` : ''} -> ${r.modelDir}`)
    })

  program
    .command('reward')
    .description("train a reward model on comparisons (InstructGPT's K-wise loss, or pairwise)")
    .requiredOption('--base <dir>', 'initial model (the SFT model)')
    .requiredOption('--train <file>', 'comparisons JSONL (K responses + ranking, or chosen/rejected)')
    .option('--val <file>', 'held-out comparisons')
    .option('--demonstrations <file>', 'set the bias so these score mean 0')
    .requiredOption('--out <dir>', 'run folder')
    .option('--mode <m>', 'listwise | pairwise', 'listwise')
    .option('--epochs <n>', 'epochs', '2')
    .option('--batch <n>', 'comparisons per micro-batch', '4')
    .option('--lr <x>', 'peak learning rate', '3e-4')
    .option('--seed <n>', 'random seed', '1')
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { trainReward, defaultRewardConfig } = await import('../../train/reward.ts')
      const r = await trainReward({
        ...defaultRewardConfig,
        base: resolve(String(o.base)),
        train: resolve(String(o.train)),
        val: o.val ? resolve(String(o.val)) : undefined,
        demonstrations: o.demonstrations ? resolve(String(o.demonstrations)) : undefined,
        outDir: resolve(String(o.out)),
        mode: o.mode === 'pairwise' ? 'pairwise' : 'listwise',
        epochs: Number(o.epochs),
        batchSize: Number(o.batch),
        loop: { ...defaultRewardConfig.loop, lr: Number(o.lr), minLr: Number(o.lr) / 10, seed: Number(o.seed) },
        quiet: Boolean(o.quiet),
      })
      console.log(`reward: eval accuracy ${r.finalEval['eval/accuracy']?.toFixed(3) ?? 'n/a'}, margin ${r.finalEval['eval/margin']?.toFixed(3) ?? 'n/a'}, bias ${r.bias.toFixed(3)} -> ${r.modelDir}`)
    })

  program
    .command('eval')
    .description('evaluate policies and reward models: RM accuracy, win rate vs SFT by a judge RM, KL to SFT, length, perplexity, SWC accuracy')
    .option('--judge <dir>', 'reward model not used to train the policies (needed to evaluate policies)')
    .option('--sft <dir>', 'the SFT model (reference for win rate and KL)')
    .option('--policy <name=dir...>', 'more policies, e.g. ppo=runs/demo/ppo/model')
    .option('--reward-model <name=dir...>', 'reward models to score on --comparisons')
    .option('--comparisons <file>', 'held-out comparisons for reward-model accuracy (needed with --reward-model)')
    .option('--prompts <file>', 'held-out prompts JSONL (SWC-naming rows with references are scored exactly; needed to evaluate policies)')
    .option('--held-out-text <file>', 'held-out corpus JSONL for perplexity')
    .option('--max-prompts <n>', 'prompts to sample', '320')
    .option('--samples <n>', 'samples per prompt and policy (paired across policies)', '4')
    .option('--resamples <n>', 'bootstrap resamples per 95% interval', '2000')
    .option('--missing-eos-penalty <x>', 'subtracted from the judge reward of responses without EOS', '0')
    .option('--max-new <n>', 'new tokens per response', '48')
    .option('--out <file>', 'write the report JSON here')
    .option('--seed <n>', 'random seed', '1')
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const { evaluate } = await import('../../pipeline/evaluate.ts')
      const { formatInterval } = await import('../../pipeline/bootstrap.ts')
      const { Instruct3Error } = await import('../../util/errors.ts')
      const pairs = (v: unknown) => Object.fromEntries(((v as string[]) ?? []).map((s) => { const i = s.indexOf('='); return [s.slice(0, i), resolve(s.slice(i + 1))] }))
      const rms = pairs(o.rewardModel)
      const policies: Record<string, string> = { ...(o.sft ? { sft: resolve(String(o.sft)) } : {}), ...pairs(o.policy) }
      // each option is required only by what uses it
      const need = (ok: boolean, option: string, why: string) => {
        if (!ok) throw new Instruct3Error(`${option} is needed ${why}`, { code: 'ECONFIG', details: { field: option } })
      }
      need(Object.keys(policies).length > 0 || Object.keys(rms).length > 0, '--sft, --policy or --reward-model', 'to have something to evaluate')
      need(Object.keys(rms).length === 0 || Boolean(o.comparisons), '--comparisons', 'to score --reward-model')
      need(Object.keys(policies).length === 0 || Boolean(o.judge), '--judge', 'to evaluate policies')
      need(Object.keys(policies).length === 0 || Boolean(o.prompts), '--prompts', 'to evaluate policies')
      const report = await evaluate({
        policies,
        judge: o.judge ? resolve(String(o.judge)) : undefined,
        rewardModels: Object.fromEntries(Object.entries(rms).map(([k, dir]) => [k, { dir, data: resolve(String(o.comparisons)) }])),
        prompts: o.prompts ? resolve(String(o.prompts)) : undefined,
        swcPrompts: o.prompts ? resolve(String(o.prompts)) : undefined,
        heldOutText: o.heldOutText ? resolve(String(o.heldOutText)) : undefined,
        maxPrompts: Number(o.maxPrompts),
        maxNewTokens: Number(o.maxNew),
        samplesPerPrompt: Number(o.samples),
        resamples: Number(o.resamples),
        missingEosPenalty: Number(o.missingEosPenalty),
        seed: Number(o.seed),
        quiet: Boolean(o.quiet),
      })
      const text = JSON.stringify(report, null, 2)
      if (o.out) {
        const { writeFileAtomicSync } = await import('../../util/atomic.ts')
        writeFileAtomicSync(resolve(String(o.out)), text + '\n')
      }
      for (const r of report.rewardModels) console.log(`rm ${r.name}: accuracy ${r.accuracy.toFixed(3)} margin ${r.margin.toFixed(3)} (${r.pairs} pairs)`)
      for (const p of report.policies)
        console.log(
          `policy ${p.name}: judge reward ${formatInterval(p.summary.judgeReward, 3)}` +
            (p.summary.rougeL ? `, ROUGE-L ${formatInterval(p.summary.rougeL, 3)}` : '') +
            (p.vsSft ? `, win rate vs sft ${formatInterval(p.vsSft.winRate, 3)} (length-controlled ${formatInterval(p.vsSft.lengthControlledWinRate, 3)})` : '') +
            (p.vsSft?.rougeLDifference ? `, ROUGE-L - sft ${formatInterval(p.vsSft.rougeLDifference, 3)}` : '') +
            (p.klToSftInterval ? `, KL ${formatInterval(p.klToSftInterval, 2)}` : '') +
            `, length ${p.responseLength.toFixed(1)}` +
            (p.swcAccuracy !== undefined ? `, SWC ${p.swcAccuracy.toFixed(3)}` : '') +
            (p.perplexity !== undefined ? `, ppl ${p.perplexity.toFixed(1)}` : ''),
        )
    })
}

async function runAndPrint(cfg: import('../../pipeline/config.ts').PipelineConfig, opts: { quiet?: boolean; until?: string; force?: string[] }) {
  const { runPipeline } = await import('../../pipeline/run.ts')
  printResult(cfg, await runPipeline(cfg, opts))
}

function printResult(cfg: import('../../pipeline/config.ts').PipelineConfig, r: import('../../pipeline/run.ts').PipelineResult) {
  console.log(`pipeline "${cfg.name}" finished in ${(r.seconds / 60).toFixed(1)} min`)
  console.log(`report: ${r.reportFile}`)
  if (r.manifest) console.log(`pipeline manifest: ${r.manifest}  (check it with: instruct3 verify ${r.manifest})`)
}
