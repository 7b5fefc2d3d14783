// evaluate() on policies: S samples per prompt paired across policies, every number with an interval.
// A policy that is the SFT model itself must tie it exactly (win rate 0.5 [0.5, 0.5], differences 0,
// KL 0): that holds only if sample s of prompt i is paired with SFT's sample s of prompt i.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { evaluate, sampleResponses, responseLogprobs } from '../../src/pipeline/evaluate.ts'
import { loadPolicy } from '../../src/model/policy.ts'
import { createScorer } from '../../src/model/trainable.ts'
import { tokenScore } from '../../src/model/objectives.ts'
import { formatPrompt } from '../../src/tokenizer/index.ts'
import { policyTables } from '../../src/pipeline/report-policies.ts'
import { demoConfig, mergeConfig } from '../../src/pipeline/config.ts'
import { tinyPolicy, writeModel } from '../train/rl-helpers.ts'


/** A tiny SFT policy plus a judge (reward head, seed 5) and another policy (seed 4) of the same shape. */
async function policyJudgeOther(t: Parameters<typeof tinyPolicy>[0]) {
  const p = await tinyPolicy(t)
  const judge = join(p.dir, 'judge')
  await writeModel(judge, p.c, 5, { tokDir: p.tokDir, tok: p.tok, head: true })
  const other = join(p.dir, 'other')
  await writeModel(other, p.c, 4, { tokDir: p.tokDir, tok: p.tok })
  return { ...p, judge, other }
}

test('evaluate: paired samples per prompt, intervals, RM-free metrics, an identical policy ties SFT exactly', { timeout: 300_000 }, async (t) => {
  const { dir, tok, c, model, judge, other } = await policyJudgeOther(t)
  const prompts = join(dir, 'prompts.jsonl')
  const rows = [
    { prompt: 'question number one', reference: 'good answer', task: 'a' },
    { prompt: 'question number two', reference: 'the answer is good', task: 'a' },
    { prompt: 'the answer is', task: 'b' },
    { prompt: 'a bad reply here', reference: 'bad reply', task: 'b' },
    { prompt: 'question', reference: 'good', task: 'b' },
  ]
  writeFileSync(prompts, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const report = await evaluate({
    policies: { sft: model, same: model, other },
    judge,
    rewardModels: {},
    prompts,
    maxPrompts: 5,
    maxNewTokens: 6,
    samplesPerPrompt: 3,
    resamples: 50,
    batchSize: 2,
    seed: 1,
    quiet: true,
  })
  const by = Object.fromEntries(report.policies.map((p) => [p.name, p]))
  for (const p of report.policies) {
    assert.equal(p.prompts, 5)
    assert.equal(p.samplesPerPrompt, 3)
    assert.ok(p.eosRate >= 0 && p.eosRate <= 1)
    assert.ok(p.responseLength >= 0 && p.responseLength <= 6)
    const j = p.summary.judgeReward
    assert.ok(j.lo <= j.value && j.value <= j.hi, `${p.name} judge ${JSON.stringify(j)}`)
    assert.ok(p.summary.rougeL && p.summary.rougeL.value >= 0 && p.summary.rougeL.value <= 1)
    assert.ok(p.summary.tokenF1 && p.summary.tokenF1.value >= 0 && p.summary.tokenF1.value <= 1)
  }
  assert.equal(by.sft.vsSft, undefined)
  const same = by.same.vsSft!
  assert.deepEqual(same.winRate, { value: 0.5, lo: 0.5, hi: 0.5 })
  assert.deepEqual(same.rewardDifference, { value: 0, lo: 0, hi: 0 })
  assert.deepEqual(same.rougeLDifference, { value: 0, lo: 0, hi: 0 })
  assert.equal(by.same.klToSft, 0)
  const o = by.other.vsSft!
  assert.ok(o.winRate.lo <= o.winRate.value && o.winRate.value <= o.winRate.hi)
  assert.ok(Number.isFinite(by.other.klToSft!) && by.other.klToSftInterval!.lo <= by.other.klToSftInterval!.hi)
  assert.equal(by.other.winRateVsSft, o.winRate.value)

  const md = policyTables(report.policies).join('\n')
  assert.match(md, /5 held-out prompts 3 time\(s\)/)
  assert.match(md, /\| same \| 0\.500 \[0\.500, 0\.500\] \|/)
  assert.match(md, /win rate vs SFT/)
})

test('eval settings: a bad value is refused naming its field, in evaluate() and in a pipeline config', async () => {
  const base = { policies: { sft: '/nowhere' }, rewardModels: {}, maxPrompts: 4, maxNewTokens: 4, seed: 1 }
  await assert.rejects(evaluate({ ...base, samplesPerPrompt: 0 }), /samplesPerPrompt/)
  await assert.rejects(evaluate({ ...base, resamples: 5 }), /resamples/)
  await assert.rejects(evaluate({ ...base, missingEosPenalty: -1 }), /missingEosPenalty/)
  assert.throws(() => mergeConfig(demoConfig(), { eval: { samplesPerPrompt: 1.5 } }), /eval\.samplesPerPrompt/)
  assert.equal(mergeConfig(demoConfig(), { eval: { samplesPerPrompt: 3 } }).eval.samplesPerPrompt, 3)
})

test('evaluate: KL to SFT sums over the sampled tokens only (no EOS appended to a truncated response)', { timeout: 300_000 }, async (t) => {
  const { dir, tok, c, model, judge, other } = await policyJudgeOther(t)
  const prompts = join(dir, 'prompts.jsonl')
  const texts = ['question number one', 'question number two', 'a bad reply here']
  writeFileSync(prompts, texts.map((p) => JSON.stringify({ prompt: p, reference: 'good answer' })).join('\n') + '\n')
  const opts = { maxNewTokens: 3, samplesPerPrompt: 2, batchSize: 2, seed: 4 }
  const report = await evaluate({ policies: { sft: model, other }, judge, rewardModels: {}, prompts, maxPrompts: 3, resamples: 20, quiet: true, ...opts })
  // the same samples, drawn again, and their KL computed by hand on prompt + sampled tokens
  const pol = await loadPolicy(other)
  const sft = await loadPolicy(model)
  const scorer = createScorer(c, tokenScore)
  t.after(() => {
    pol.dispose()
    sft.dispose()
    scorer.dispose()
  })
  const promptIds = texts.map((p) => formatPrompt(tok, p))
  const flat = sampleResponses(pol, promptIds, opts.samplesPerPrompt, opts.maxNewTokens, opts.batchSize, opts.seed).flat()
  assert.ok(flat.some((r) => !r.finished), 'some responses were cut at maxNewTokens')
  const seqs = flat.map((r) => promptIds[r.prompt].concat(r.tokens))
  for (const [k, r] of flat.entries()) assert.equal(seqs[k].length, promptIds[r.prompt].length + r.tokens.length)
  const ps = flat.map((r) => promptIds[r.prompt])
  const a = responseLogprobs(pol, scorer, seqs, ps)
  const b = responseLogprobs(sft, scorer, seqs, ps)
  const kl = a.reduce((s, v, k) => s + v - b[k], 0) / a.length
  const got = report.policies.find((p) => p.name === 'other')!.klToSft!
  assert.ok(Math.abs(got - kl) < 1e-4, `eval KL ${got} vs by hand ${kl}`)
  // with an EOS appended to the truncated ones, the sum would differ
  const appended = flat.map((r, k) => (r.finished ? seqs[k] : seqs[k].concat([tok.eosId])))
  const a2 = responseLogprobs(pol, scorer, appended, ps)
  const b2 = responseLogprobs(sft, scorer, appended, ps)
  const klAppended = a2.reduce((s, v, k) => s + v - b2[k], 0) / a2.length
  assert.ok(Math.abs(got - klAppended) > 1e-4, `appending EOS changes the KL (${klAppended} vs ${got})`)
})
