import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'

/** `pretrain` and `generate`: the GPT engine's commands. Engine modules load lazily. */
export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pretrain a base GPT on the web3 corpus (resumes from <out>/checkpoint after a kill)')
    .option('--corpus <dir>', 'corpus folder from `instruct3 corpus build`', join(dataDir(), 'corpus'))
    .option('--out <dir>', 'run folder (model/, metrics.jsonl, tokenizer/)', join(dataDir(), 'runs', 'pretrain'))
    .option('--tokenizer <dir>', 'use this tokenizer instead of training one')
    .option('--vocab-size <n>', 'BPE vocabulary size when training a tokenizer', '4096')
    .option('--ctx <n>', 'context length', '128')
    .option('--d <n>', 'model width (n_embd)', '128')
    .option('--layers <n>', 'transformer blocks', '4')
    .option('--heads <n>', 'attention heads', '4')
    .option('--dropout <p>', 'dropout', '0')
    .option('--batch <n>', 'sequences per micro-batch', '16')
    .option('--grad-accum <n>', 'micro-batches per step', '1')
    .option('--steps <n>', 'optimizer steps', '500')
    .option('--lr <x>', 'peak learning rate', '2e-3')
    .option('--min-lr <x>', 'final learning rate', '2e-4')
    .option('--warmup <n>', 'warmup steps', '50')
    .option('--eval-every <n>', 'evaluate every N steps', '100')
    .option('--checkpoint-every <n>', 'resumable checkpoint every N steps', '100')
    .option('--seed <n>', 'random seed', '1')
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
        evalBatches: 8,
        quiet: Boolean(o.quiet),
      })
      if (r.resumedFrom !== null) console.log(`resumed from step ${r.resumedFrom}`)
      console.log(`pretrain: eval loss ${r.finalEval['eval/loss']?.toFixed(4)} (ppl ${r.finalEval['eval/ppl']?.toFixed(1)}) -> ${r.modelDir}`)
    })

  program
    .command('generate')
    .description('sample continuations from a model (batched, KV cache)')
    .requiredOption('--model <dir>', 'model folder (ours or a Hugging Face GPT-2 folder with a tokenizer)')
    .option('--prompt <text...>', 'prompt(s); several prompts are generated as one batch')
    .option('--chat', 'wrap each prompt in the chat template (instruction-following models)')
    .option('--max-new <n>', 'new tokens per prompt', '64')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '0.8')
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', '0')
    .option('--top-p <p>', 'nucleus sampling threshold', '1')
    .option('--seed <n>', 'random seed', '0')
    .option('--json', 'print JSON lines')
    .action(async (o: { model: string; prompt?: string[]; chat?: boolean; maxNew: string; temperature: string; topK: string; topP: string; seed: string; json?: boolean }) => {
      const { loadPolicy } = await import('../../model/policy.ts')
      const policy = await loadPolicy(resolve(o.model))
      const prompts = o.prompt?.length ? o.prompt : ['']
      const t0 = performance.now()
      const outs = policy.complete(prompts, {
        chat: Boolean(o.chat),
        maxNewTokens: Number(o.maxNew),
        temperature: Number(o.temperature),
        topK: Number(o.topK),
        topP: Number(o.topP),
        seed: Number(o.seed),
      })
      const dt = (performance.now() - t0) / 1000
      const ntok = outs.reduce((a, r) => a + r.tokens.length, 0)
      for (const [i, r] of outs.entries()) {
        if (o.json) console.log(JSON.stringify({ prompt: prompts[i], completion: r.text, tokens: r.tokens.length, finished: r.finished }))
        else console.log(`--- [${i}] ${prompts[i]}\n${r.text}`)
      }
      process.stderr.write(`generate: ${ntok} tokens in ${dt.toFixed(2)} s (${(ntok / dt).toFixed(0)} tok/s)\n`)
      policy.dispose()
    })
}
