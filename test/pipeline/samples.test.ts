// The samples stage adds one SFT sample per comparison, ranked with the wrong answers, marked by origin,
// with the prompt refitted so every response still fits the context.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addPolicySamples } from '../../src/pipeline/samples.ts'
import { loadComparisons, comparisonPairs } from '../../src/data/formats.ts'
import { formatExample } from '../../src/tokenizer/index.ts'
import { tinyPolicy } from '../train/rl-helpers.ts'

test('addPolicySamples: one sampled response per comparison, tied with the worst, origin "sft-sample", fits the context', async (t) => {
  const { dir, tok, c, model } = await tinyPolicy(t)
  const rows = [
    { prompt: 'question number one', responses: ['good answer', 'bad reply'], ranking: [0, 1], origins: ['reference', 'other-item'] },
    { prompt: 'question number two ' + 'the answer is good '.repeat(30), responses: ['the answer is good', 'the answer', 'a bad reply here'], ranking: [0, 1, 2] },
  ]
  const to = join(dir, 'out.jsonl')
  const r = await addPolicySamples({ policyDir: model, sets: [{ rows, to }], maxNewTokens: 8, seed: 1, batchSize: 4 })
  const out = await loadComparisons(to)
  assert.equal(out.length, 2)
  assert.equal(r.comparisons, 2)
  assert.equal(r.added + r.emptyOrDuplicate, 2)
  for (const [i, o] of out.entries()) {
    const added = o.responses.length - rows[i].responses.length
    if (added === 0) continue
    assert.equal(o.origins!.at(-1), 'sft-sample')
    assert.equal(o.ranking.at(-1), Math.max(...rows[i].ranking), 'tied with the worst answer')
    assert.ok(comparisonPairs(o).some(([w, l]) => w === 0 && l === o.responses.length - 1), 'the reference beats the sample')
    for (const resp of o.responses) assert.ok(formatExample(tok, o.prompt, resp).ids.length <= c.nCtx)
  }
  // the long prompt was shortened (head kept) to leave room for the sample
  assert.ok(out[1].prompt.startsWith('question number two') && out[1].prompt.endsWith('…'))
  assert.deepEqual(out[0].origins!.slice(0, 2), ['reference', 'other-item'])
})
