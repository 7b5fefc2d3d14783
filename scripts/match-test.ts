/**
 * Does a language model match answers to their prompts? A diagnostic for the reward model's hardest
 * pairs (the right item's answer against another item's answer), run on the model it starts from.
 *
 *   node scripts/match-test.ts <model dir> <comparisons.jsonl with origins>
 *
 * For each comparison with an `other-item` answer whose own prompt is in the file, the swap test asks
 * whether the model's likelihoods pair the two answers with their own prompts:
 *   log p(A | P) + log p(B | Q) > log p(A | Q) + log p(B | P)
 * (A, P: this item's reference and prompt; B, Q: the other item's). Each answer's own fluency cancels,
 * so 0.5 means the model's likelihood carries nothing about which prompt an answer belongs to. A reward
 * model fine-tuned from this model with a few hundred comparisons of each task is unlikely to do much
 * better on those pairs. Prints the rate per task.
 */
import { loadPolicy } from '../src/model/policy.ts'
import { createScorer } from '../src/model/trainable.ts'
import { tokenScore } from '../src/model/objectives.ts'
import { formatExample } from '../src/tokenizer/index.ts'
import { loadComparisons } from '../src/data/formats.ts'
import { responseLogprobs } from '../src/pipeline/evaluate.ts'

const [dir, file] = process.argv.slice(2)
if (!dir || !file) {
  console.error('usage: node scripts/match-test.ts <model dir> <comparisons.jsonl>')
  process.exit(2)
}
const policy = await loadPolicy(dir)
const scorer = createScorer(policy.checkpoint.config, tokenScore)
const T = policy.checkpoint.config.nCtx

/** Summed log-probability of each response given its prompt, in the chat template (the prompt's end kept). */
function logp(items: Array<[prompt: string, response: string]>): number[] {
  const seqs: number[][] = []
  const prompts: number[][] = []
  for (const [p, r] of items) {
    const e = formatExample(policy.tokenizer, p, r)
    const from = Math.max(0, e.ids.length - (T + 1))
    seqs.push(e.ids.slice(from))
    prompts.push(e.ids.slice(from, e.promptLength))
  }
  return responseLogprobs(policy, scorer, seqs, prompts)
}

const rows = (await loadComparisons(file)).filter((c) => c.origins)
const promptOf = new Map(rows.map((c) => [c.responses[c.origins!.indexOf('reference')], c.prompt]))
const quads: Array<[string, string][]> = []
const tasks: string[] = []
for (const c of rows) {
  const o = c.origins!
  const other = c.responses[o.indexOf('other-item')]
  const q = promptOf.get(other)
  if (o.indexOf('other-item') < 0 || q === undefined) continue
  const a = c.responses[o.indexOf('reference')]
  quads.push([[c.prompt, a], [q, other], [q, a], [c.prompt, other]])
  tasks.push(c.task ?? '(no task)')
}
const lp = logp(quads.flat())
const byTask = new Map<string, { right: number; n: number }>()
tasks.forEach((t, i) => {
  const [pa, qb, qa, pb] = lp.slice(4 * i, 4 * i + 4)
  const e = byTask.get(t) ?? { right: 0, n: 0 }
  e.right += pa + qb > qa + pb ? 1 : 0
  e.n++
  byTask.set(t, e)
})
console.log('| task | swap test: own prompts more likely | comparisons |\n|---|---:|---:|')
for (const [t, e] of [...byTask].sort((x, y) => y[1].n - x[1].n)) console.log(`| ${t} | ${(e.right / e.n).toFixed(3)} | ${e.n} |`)
scorer.dispose()
policy.dispose()
