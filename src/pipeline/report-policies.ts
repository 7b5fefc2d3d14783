/**
 * The report's policy tables: each number with its 95% interval (paired bootstrap over prompts, see
 * bootstrap.ts), never a bare point estimate for a quantity that has one. Two tables: what each policy
 * scores on its own, and what it gains over SFT on the same prompts.
 */
import { formatInterval, type Interval } from './bootstrap.ts'
import type { EvalReport, PolicyEval } from './evaluate.ts'

const ci = (x: Interval | undefined, d = 3) => (x === undefined || !Number.isFinite(x.value) ? 'n/a' : formatInterval(x, d))
const num = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d))

/** Markdown lines: each reward model's held-out accuracy on SFT sample vs SFT sample pairs, per task, with intervals. */
export function samplePairTable(rms: EvalReport['rewardModels']): string[] {
  const withPairs = rms.filter((r) => r.samplePairs?.length)
  if (!withPairs.length) return []
  const md = [
    'Held-out accuracy on SFT sample vs SFT sample pairs (ranked by closeness to the reference), per task; 95% interval over the ranking rows:',
    '',
    '| reward model | task | rows | pairs | accuracy |',
    '|---|---|---:|---:|---:|',
  ]
  for (const r of withPairs) for (const t of r.samplePairs!) md.push(`| ${r.name} | ${t.task} | ${t.rows} | ${t.pairs} | ${ci(t.accuracy)} |`)
  md.push('')
  return md
}

/** Markdown lines: the policies' reward model against the judge on SFT's own samples (reward-judge.ts). */
export function rewardJudgeLines(a: EvalReport['rewardJudge']): string[] {
  if (!a) return []
  return [
    `Reward model vs judge on SFT's own samples (what PPO climbs, seen by what evaluates it): they order ${ci(a.agreement)} of ${a.pairs} untied sample pairs alike (${a.prompts} prompts; 0.5 = unrelated)` +
      (a.bestOfWinRate ? `; the judge prefers the reward model's best of ${a.bestOf} samples to another sample ${ci(a.bestOfWinRate)}.` : '.'),
    '',
  ]
}

/** Markdown lines of the two tables (empty when there are no policies). */
export function policyTables(policies: PolicyEval[]): string[] {
  if (!policies.length) return []
  const p0 = policies[0]
  const md = [
    `Each policy answers ${p0.prompts} held-out prompts ${p0.samplesPerPrompt} time(s) at temperature 1. Brackets: 95% interval, paired bootstrap over prompts. ROUGE-L and token F1 compare the answer with the task's reference (no reward model involved). Length in tokens without EOS.`,
    '',
    '| policy | judge reward | ROUGE-L F1 | token F1 | KL to SFT (nats) | length | ends with EOS | SWC naming: greedy answer | SWC naming: most likely label | held-out perplexity |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const p of policies)
    md.push(
      `| ${p.name} | ${ci(p.summary?.judgeReward)} | ${ci(p.summary?.rougeL)} | ${ci(p.summary?.tokenF1)} | ${p.klToSftInterval ? ci(p.klToSftInterval, 2) : num(p.klToSft, 2)} | ${num(p.responseLength, 1)} | ${num(p.eosRate, 2)} | ${num(p.swcAccuracy)} | ${num(p.swcChoiceAccuracy)} | ${num(p.perplexity, 1)} |`,
    )
  const vs = policies.filter((p) => p.vsSft)
  if (vs.length) {
    md.push(
      '',
      'Against SFT, sample for sample on the same prompts. Length-controlled: the judge\'s win rate at equal lengths (logistic fit of the outcome on tanh of the length difference, AlpacaEval-LC style); length coef > 0 means the judge favours the longer answer.',
      '',
      '| policy | win rate vs SFT | length-controlled win rate | length coef | judge reward difference | ROUGE-L difference | token F1 difference |',
      '|---|---:|---:|---:|---:|---:|---:|',
    )
    for (const p of vs) {
      const v = p.vsSft!
      md.push(`| ${p.name} | ${ci(v.winRate)} | ${ci(v.lengthControlledWinRate)} | ${num(v.lengthCoef, 2)} | ${ci(v.rewardDifference)} | ${ci(v.rougeLDifference)} | ${ci(v.tokenF1Difference)} |`)
    }
  }
  md.push('')
  return md
}
