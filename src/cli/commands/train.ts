import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'
import { defaultLoopConfig } from '../../train/loop-config.ts'
import { defaultPretrainConfig as pre } from '../../train/pretrain-config.ts'
import { defaultSftConfig as sft } from '../../train/sft-config.ts'
import { defaultRewardConfig as rm } from '../../train/reward-config.ts'

/** An option's default: the trainer's (commander takes strings). */
const d = (v: unknown) => String(v)

/** The training steps one at a time: `pretrain`, `sft`, `reward`, and `eval` of their models. Engine modules load lazily. */
export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pretrain a base GPT on the web3 corpus (resumes from <out>/checkpoint after a kill)')
    .option('--corpus <dir>', 'corpus folder from `instruct3 corpus build`', join(dataDir(), 'corpus'))
    .option('--out <dir>', 'run folder (model/, metrics.jsonl, tokenizer/)', join(dataDir(), 'runs', 'pretrain'))
    .option('--tokenizer <dir>', 'use this tokenizer instead of training one')
    .option('--vocab-size <n>', 'BPE vocabulary size when training a tokenizer', d(pre.tokenizer.vocabSize))
    .option('--ctx <n>', 'context length', d(pre.model.nCtx))
    .option('--d <n>', 'model width (n_embd)', d(pre.model.nEmbd))
    .option('--layers <n>', 'transformer blocks', d(pre.model.nLayer))
    .option('--heads <n>', 'attention heads', d(pre.model.nHead))
    .option('--dropout <p>', 'dropout', d(pre.model.dropout))
    .option('--batch <n>', 'sequences per micro-batch', d(pre.batchSize))
    .option('--grad-accum <n>', 'micro-batches per step', d(defaultLoopConfig.gradAccum))
    .option('--steps <n>', 'optimizer steps', d(pre.loop.steps))
    .option('--lr <x>', 'peak learning rate', d(pre.loop.lr))
    .option('--min-lr <x>', 'final learning rate', d(pre.loop.minLr))
    .option('--warmup <n>', 'warmup steps', d(pre.loop.warmup))
    .option('--eval-every <n>', 'evaluate every N steps', d(pre.loop.evalEvery))
    .option('--checkpoint-every <n>', 'resumable checkpoint every N steps', d(pre.loop.checkpointEvery))
    .option('--seed <n>', 'random seed', d(defaultLoopConfig.seed))
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { pretrain } = await import('../../train/pretrain.ts')
      const n = (k: string) => Number(o[k])
      const r = await pretrain({
        corpusDir: resolve(String(o.corpus)),
        outDir: resolve(String(o.out)),
        tokenizer: { dir: o.tokenizer ? resolve(String(o.tokenizer)) : undefined, vocabSize: n('vocabSize') },
        model: { nCtx: n('ctx'), nEmbd: n('d'), nLayer: n('layers'), nHead: n('heads'), dropout: n('dropout') },
        batchSize: n('batch'),
        loop: {
          steps: n('steps'), gradAccum: n('gradAccum'), lr: n('lr'), minLr: n('minLr'), warmup: n('warmup'),
          evalEvery: n('evalEvery'), checkpointEvery: n('checkpointEvery'), seed: n('seed'),
        },
        evalBatches: pre.evalBatches,
        quiet: Boolean(o.quiet),
      })
      if (r.resumedFrom !== null) console.log(`resumed from step ${r.resumedFrom}`)
      console.log(`pretrain: eval loss ${r.finalEval['eval/loss']?.toFixed(4)} (ppl ${r.finalEval['eval/ppl']?.toFixed(1)}) -> ${r.modelDir}`)
    })

  program
    .command('sft')
    .description('supervised fine-tuning on demonstrations (loss on response tokens, packing)')
    .requiredOption('--base <dir>', 'pretrained model folder')
    .requiredOption('--train <file>', 'demonstrations JSONL')
    .option('--val <file>', 'validation demonstrations JSONL')
    .requiredOption('--out <dir>', 'run folder')
    .option('--epochs <n>', 'epochs', d(sft.epochs))
    .option('--batch <n>', 'rows per micro-batch', d(sft.batchSize))
    .option('--lr <x>', 'peak learning rate', d(sft.loop.lr))
    .option('--no-packing', 'one example per row instead of packing')
    .option('--reward-model <dir>', 'pick the final checkpoint by this reward model on validation prompts')
    .option('--seed <n>', 'random seed', d(defaultLoopConfig.seed))
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { trainSft, defaultSftConfig } = await import('../../train/sft.ts')
      const { demonstrationRows } = await import('../../pipeline/load.ts')
      const r = await trainSft({
        ...defaultSftConfig,
        base: resolve(String(o.base)),
        train: await demonstrationRows(resolve(String(o.train))),
        val: o.val ? await demonstrationRows(resolve(String(o.val))) : undefined,
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
    .option('--mode <m>', 'listwise | pairwise', rm.mode)
    .option('--epochs <n>', 'epochs', d(rm.epochs))
    .option('--batch <n>', 'comparisons per micro-batch', d(rm.batchSize))
    .option('--lr <x>', 'peak learning rate', d(rm.loop.lr))
    .option('--seed <n>', 'random seed', d(defaultLoopConfig.seed))
    .option('--quiet', 'no progress output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { trainReward, defaultRewardConfig } = await import('../../train/reward.ts')
      const { comparisonRows, demonstrationRows } = await import('../../pipeline/load.ts')
      const r = await trainReward({
        ...defaultRewardConfig,
        base: resolve(String(o.base)),
        train: await comparisonRows(resolve(String(o.train))),
        val: o.val ? await comparisonRows(resolve(String(o.val))) : undefined,
        demonstrations: o.demonstrations ? await demonstrationRows(resolve(String(o.demonstrations))) : undefined,
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
