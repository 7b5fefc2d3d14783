import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir } from '../../util/paths.ts'

/** `generate`: sample from a model. Engine modules load lazily. */
export function register(program: Command): void {
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
