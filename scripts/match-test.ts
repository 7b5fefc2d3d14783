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
import { loadCheckpoint } from '../src/model/checkpoint.ts'
import { createScorer, uploadParams } from '../src/model/trainable.ts'
import { tokenScore } from '../src/model/objectives.ts'
import { loadTokenizer, formatExample } from '../src/tokenizer/index.ts'
import { loadComparisons } from '../src/data/formats.ts'
import { lmBatch } from '../src/train/collate.ts'

const [dir, file] = process.argv.slice(2)
if (!dir || !file) {
  console.error('usage: node scripts/match-test.ts <model dir> <comparisons.jsonl>')
  process.exit(2)
}
const ck = loadCheckpoint(dir)
const tok = loadTokenizer(dir)
const scorer = createScorer(ck.config, tokenScore)
const params = uploadParams(ck.config, ck.params)
const T = ck.config.nCtx
const B = 16

/** Summed log-probability of each response given its prompt, in the chat template (the prompt's end kept). */
function logp(items: Array<[prompt: string, response: string]>): number[] {
  const out: number[] = []
  for (let s = 0; s < items.length; s += B) {
    const chunk = items.slice(s, s + B)
    const examples = chunk.map(([p, r]) => {
      const e = formatExample(tok, p, r)
      const from = Math.max(0, e.ids.length - (T + 1))
      return { ids: e.ids.slice(from), responseMask: e.responseMask.slice(from) }
    })
    while (examples.length < B) examples.push(examples[0])
    const b = lmBatch(examples, T, tok.padId)
    const lp = scorer.score(params, { inputs: b.inputs, targets: b.targets }).logprobs
    for (let j = 0; j < chunk.length; j++) {
      let sum = 0
      for (let t = 0; t < T; t++) sum += lp[j * T + t] * b.mask.data[j * T + t]
      out.push(sum)
    }
  }
  return out
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
