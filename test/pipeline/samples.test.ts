// The samples stage adds SFT samples to each comparison, ranked with the wrong answers, marked by origin,
// with the prompt refitted so every response still fits the context; with two or more, a row ranks
// them among themselves by the crowd's closeness rule.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { addPolicySamples, balanceByLength, rankingPairs, rankingRow } from '../../src/pipeline/samples.ts'
import { createRng } from '../../src/model/rng.ts'
import { SAMPLE_RANKING_SUFFIX, splitRankingRows } from '../../src/pipeline/ranking-rows.ts'
import { crowdScore } from '../../src/data/text-match.ts'
import { samplePairAccuracy, accuracyByTask } from '../../src/pipeline/sample-pairs.ts'
import { evaluateReward } from '../../src/train/reward.ts'
import { loadComparisons, comparisonPairs } from '../../src/data/formats.ts'
import { formatExample } from '../../src/tokenizer/index.ts'
import { tinyPolicy, writeModel } from '../train/rl-helpers.ts'

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

test('addPolicySamples with perPrompt 3: every sample joins its comparison, then a row ranks them by closeness to the reference; RM accuracy on those pairs per task', { timeout: 300_000 }, async (t) => {
  const { dir, tok, c, model, tokDir } = await tinyPolicy(t)
  const rows = [
    { id: 'q1', prompt: 'question number one', responses: ['good answer', 'bad reply'], ranking: [0, 1], origins: ['reference', 'other-item'], task: 'a' },
    { id: 'q2', prompt: 'question number two', responses: ['the answer is good', 'a bad reply here'], ranking: [0, 1], origins: ['reference', 'shuffled'], task: 'b' },
  ]
  const to = join(dir, 'out3.jsonl')
  const r = await addPolicySamples({ policyDir: model, sets: [{ rows, to }], maxNewTokens: 8, perPrompt: 3, seed: 2, batchSize: 2 })
  const out = await loadComparisons(to)
  assert.equal(r.comparisons, 2)
  assert.equal(r.added + r.emptyOrDuplicate, 6)
  assert.equal(out.length, 2 + r.rankingRows)
  assert.ok(r.rankingRows >= 1, 'a random tiny model writes distinct samples')
  for (const row of out.filter((o) => o.id!.endsWith(SAMPLE_RANKING_SUFFIX))) {
    const parent = out.find((o) => o.id + SAMPLE_RANKING_SUFFIX === row.id)!
    assert.ok(out.indexOf(parent) === out.indexOf(row) - 1, 'follows its comparison')
    assert.equal(row.task, parent.task)
    assert.ok(row.responses.length >= 2)
    assert.deepEqual(row.origins, row.responses.map(() => 'sft-sample'))
    for (const resp of row.responses) assert.ok(parent.responses.includes(resp) && parent.origins![parent.responses.indexOf(resp)] === 'sft-sample')
    const ref = parent.responses[0]
    for (const [w, l] of comparisonPairs(row)) assert.ok(crowdScore(row.responses[w], ref) > crowdScore(row.responses[l], ref))
    assert.ok(comparisonPairs(row).length > 0, 'not all tied')
    for (const resp of row.responses) assert.ok(formatExample(tok, row.prompt, resp).ids.length <= c.nCtx)
  }
  // the reward model's held-out accuracy on sample-vs-sample pairs, per task
  const rm = join(dir, 'rm')
  await writeModel(rm, c, 5, { tokDir, tok, head: true })
  const ev = await evaluateReward(rm, out)
  const withRanking = new Set(out.filter((o) => o.id!.endsWith(SAMPLE_RANKING_SUFFIX)).map((o) => o.task))
  for (const task of withRanking) {
    const k = ev.byTask.find((x) => x.task === task)!.byKind.find((x) => x.kind === 'sft-sample > sft-sample')
    assert.ok(k && k.pairs >= 1 && k.accuracy >= 0 && k.accuracy <= 1, `task ${task}: ${JSON.stringify(k)}`)
  }
  // the same per task with an interval over the ranking rows (what the report's sample-pair table shows)
  const sp = samplePairAccuracy(rm, out, { resamples: 50 })
  assert.equal(sp[0].task, 'all')
  assert.equal(sp[0].rows, r.rankingRows)
  for (const task of withRanking) {
    const a = sp.find((x) => x.task === task)!
    assert.ok(a.accuracy.lo <= a.accuracy.value && a.accuracy.value <= a.accuracy.hi)
    assert.equal(a.pairs, ev.byTask.find((x) => x.task === task)!.byKind.find((x) => x.kind === 'sft-sample > sft-sample')!.pairs)
  }
  await assert.rejects(addPolicySamples({ policyDir: model, sets: [], maxNewTokens: 8, perPrompt: 0, seed: 1 }), /perPrompt/)
})

test('rankingRow: orders samples by closeness to the rank-0 response; all tied -> null; no id -> undefined', () => {
  const c = { id: 'x', prompt: 'p', responses: ['the answer is good', 'other'], ranking: [0, 1], task: 't' }
  const row = rankingRow(c, ['zzz', 'the answer is good too'], 'sft-sample')!
  assert.deepEqual(row.ranking, [1, 0])
  assert.equal(row.id, 'x' + SAMPLE_RANKING_SUFFIX)
  assert.equal(row.task, 't')
  assert.equal(rankingRow(c, ['same', 'same'], 'sft-sample'), null)
  assert.equal(rankingRow({ ...c, id: undefined }, ['a', 'the answer'], 'sft-sample'), undefined)
})

test('accuracyByTask: per-row accuracies grouped by task plus "all", each with an interval', () => {
  const rows = [{ task: 'a', ranking: [0, 1] }, { task: 'a', ranking: [0, 1, 2] }, { task: 'b', ranking: [0, 1] }, { ranking: [1, 0] }]
  const r = accuracyByTask(rows, [1, 2 / 3, 0, 1], { resamples: 50 })
  assert.deepEqual(r.map((x) => [x.task, x.rows, x.pairs]), [['all', 4, 6], ['a', 2, 4], ['b', 1, 1]])
  assert.ok(Math.abs(r[1].accuracy.value - 5 / 6) < 1e-12)
  assert.deepEqual(r[2].accuracy, { value: 0, lo: 0, hi: 0 })
})

test('splitRankingRows: a ranking row follows its comparison when picked, and only then', () => {
  const rows = [{ id: 'a' }, { id: 'a' + SAMPLE_RANKING_SUFFIX }, { id: 'b' }, { id: 'b' + SAMPLE_RANKING_SUFFIX }, { id: 'c' }]
  const { main, follow } = splitRankingRows(rows)
  assert.deepEqual(main.map((r) => r.id), ['a', 'b', 'c'])
  assert.deepEqual(follow([main[1], main[2]]).map((r) => r.id), ['b', 'c', 'b' + SAMPLE_RANKING_SUFFIX])
})

test('balanceLength: ranking pairs (winner first); as many pairs won by the longer sample as by the shorter, equal lengths kept', () => {
  const c = { id: 'x', prompt: 'p', responses: ['the answer is good', 'other'], ranking: [0, 1], task: 't' }
  const pairs = rankingPairs(c, ['zzz', 'the answer is good too', 'the answer'], 'sft-sample')!
  assert.equal(pairs.length, 3)
  for (const p of pairs) {
    assert.deepEqual(p.ranking, [0, 1])
    assert.equal(p.id, 'x' + SAMPLE_RANKING_SUFFIX)
    assert.ok(crowdScore(p.responses[0], c.responses[0]) > crowdScore(p.responses[1], c.responses[0]))
  }
  assert.equal(rankingPairs(c, ['same', 'same'], 'sft-sample'), null)
  // 7 pairs won by the longer response, 2 by the shorter, 1 of equal length
  const pair = (w: string, l: string) => ({ id: 'y#sft-ranking', prompt: 'p', responses: [w, l], ranking: [0, 1] })
  const groups = [
    { rows: Array.from({ length: 4 }, (_, i) => pair('long answer ' + i, 's')) },
    { rows: [...Array.from({ length: 3 }, (_, i) => pair('longer one ' + i, 's')), pair('s', 'long loser'), pair('t', 'long loser 2'), pair('ab', 'cd')] },
  ]
  const res: { longerWins?: number; shorterWins?: number; droppedForBalance?: number } = {}
  balanceByLength(groups, (t) => t.length, createRng(3), res)
  const kept = groups.flatMap((g) => g.rows)
  const side = (r: { responses: string[] }) => Math.sign(r.responses[0].length - r.responses[1].length)
  assert.equal(kept.filter((r) => side(r) > 0).length, 2)
  assert.equal(kept.filter((r) => side(r) < 0).length, 2)
  assert.equal(kept.filter((r) => side(r) === 0).length, 1)
  assert.deepEqual(res, { longerWins: 7, shorterWins: 2, droppedForBalance: 5 })
})
