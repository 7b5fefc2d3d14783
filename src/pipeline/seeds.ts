/**
 * `instruct3 pipeline --seeds N`: the same config run under N seeds, then one table of the evaluation
 * over seeds. Each seed gets its own work folder (`<workDir>/seed-<s>`), run seed and judge seed; the
 * pretraining seed (`pretrain.seed`) is left as configured, so seeds differ from SFT on.
 *
 * The summary answers issue 18's questions directly: for every policy and every comparison with SFT,
 * the mean and standard deviation over seeds of the point estimates, and on how many seeds the 95%
 * interval clears the null (a win rate's lower end above 0.5, a difference's above 0).
 */
import { join } from 'node:path'
import type { PipelineConfig } from './config.ts'
import type { EvalReport } from './evaluate.ts'
import type { Interval } from './bootstrap.ts'
import type { VersusSft } from './policy-compare.ts'

/** The config of each seed: seed, judge seed, name and work folder changed. */
export function seedConfigs(cfg: PipelineConfig, n: number): PipelineConfig[] {
  return Array.from({ length: n }, (_, i) => {
    const seed = cfg.seed + i
    return { ...cfg, seed, name: `${cfg.name}-seed${seed}`, judge: { ...cfg.judge, seed: cfg.judge.seed + i }, workDir: join(cfg.workDir, `seed-${seed}`) }
  })
}

/** One quantity over seeds. */
export type OverSeeds = { mean: number; sd: number; values: number[]; /** seeds whose interval clears the null */ cleared: number }

export type SeedSummary = {
  seeds: number[]
  policies: Array<{ name: string; klToSft?: OverSeeds; metrics: Record<string, OverSeeds> }>
  /** Held-out accuracy of each reward model on `sft-sample > sft-sample` pairs, per task, over seeds. */
  sampleVsSample: Array<{ model: string; task: string; accuracy: OverSeeds }>
  /** The policies' reward model vs the judge on SFT samples (reward-judge.ts); cleared = interval above 0.5. */
  rewardJudge?: { agreement: OverSeeds; bestOfWinRate?: OverSeeds }
}

const NULLS: Array<[keyof VersusSft, number]> = [
  ['winRate', 0.5],
  ['lengthControlledWinRate', 0.5],
  ['rewardDifference', 0],
  ['rougeLDifference', 0],
  ['tokenF1Difference', 0],
]

function over(values: number[], cleared: number): OverSeeds {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0
  return { mean, sd, values, cleared }
}

export function summarizeSeeds(runs: Array<{ seed: number; report: EvalReport }>): SeedSummary {
  const names = [...new Set(runs.flatMap((r) => r.report.policies.map((p) => p.name)))]
  const policies = names.map((name) => {
    const evs = runs.map((r) => r.report.policies.find((p) => p.name === name)).filter((p) => p !== undefined)
    const metrics: Record<string, OverSeeds> = {}
    for (const [key, nul] of NULLS) {
      const xs = evs.map((p) => p.vsSft?.[key] as Interval | undefined).filter((x): x is Interval => x !== undefined)
      if (xs.length) metrics[key] = over(xs.map((x) => x.value), xs.filter((x) => x.lo > nul).length)
    }
    const kls = evs.map((p) => p.klToSft).filter((k): k is number => k !== undefined)
    return { name, metrics, ...(kls.length ? { klToSft: over(kls, 0) } : {}) }
  })
  // from each run's sample-pair intervals (eval's samplePairs): cleared = interval above 0.5
  const sampleVsSample: SeedSummary['sampleVsSample'] = []
  const keys = new Set(runs.flatMap((r) => r.report.rewardModels.flatMap((m) => (m.samplePairs ?? []).map((t) => `${m.name}\u0000${t.task}`))))
  for (const key of keys) {
    const [model, task] = key.split('\u0000')
    const accs = runs
      .map((r) => r.report.rewardModels.find((m) => m.name === model)?.samplePairs?.find((t) => t.task === task)?.accuracy)
      .filter((a): a is Interval => a !== undefined)
    sampleVsSample.push({ model, task, accuracy: over(accs.map((a) => a.value), accs.filter((a) => a.lo > 0.5).length) })
  }
  const rj = runs.map((r) => r.report.rewardJudge).filter((a) => a !== undefined)
  const overHalf = (xs: Interval[]) => over(xs.map((x) => x.value), xs.filter((x) => x.lo > 0.5).length)
  const bests = rj.map((a) => a.bestOfWinRate).filter((x): x is Interval => x !== undefined)
  const rewardJudge = rj.length ? { agreement: overHalf(rj.map((a) => a.agreement)), ...(bests.length ? { bestOfWinRate: overHalf(bests) } : {}) } : undefined
  return { seeds: runs.map((r) => r.seed), policies, sampleVsSample, ...(rewardJudge ? { rewardJudge } : {}) }
}

/** The summary as Markdown: mean ± sd over seeds, and "k/n" seeds whose interval clears the null. */
export function seedsMarkdown(s: SeedSummary): string {
  const n = s.seeds.length
  const cell = (o: OverSeeds | undefined, d = 3) => (o ? `${o.mean.toFixed(d)} ± ${o.sd.toFixed(d)} (${o.cleared}/${n})` : 'n/a')
  const md = [
    `# Over ${n} seeds (${s.seeds.join(', ')})`,
    '',
    'Mean ± standard deviation over seeds of each point estimate; in brackets, on how many seeds the 95% interval clears the null (win rate above 0.5, difference above 0).',
    '',
    '| policy | win rate vs SFT | length-controlled | judge reward diff | ROUGE-L diff | token F1 diff | KL to SFT |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const p of s.policies.filter((x) => Object.keys(x.metrics).length))
    md.push(
      `| ${p.name} | ${cell(p.metrics.winRate)} | ${cell(p.metrics.lengthControlledWinRate)} | ${cell(p.metrics.rewardDifference)} | ${cell(p.metrics.rougeLDifference)} | ${cell(p.metrics.tokenF1Difference)} | ${p.klToSft ? `${p.klToSft.mean.toFixed(2)} ± ${p.klToSft.sd.toFixed(2)}` : 'n/a'} |`,
    )
  if (s.sampleVsSample.length) {
    md.push('', 'Reward-model accuracy on held-out SFT sample vs SFT sample pairs, per task (in brackets: seeds whose interval is above 0.5):', '', '| reward model | task | accuracy |', '|---|---|---:|')
    for (const r of s.sampleVsSample) md.push(`| ${r.model} | ${r.task} | ${cell(r.accuracy)} |`)
  }
  if (s.rewardJudge)
    md.push(
      '',
      `Reward model vs judge on SFT's samples: pair agreement ${cell(s.rewardJudge.agreement)}` +
        (s.rewardJudge.bestOfWinRate ? `; judge win rate of the reward model's best-of-n ${cell(s.rewardJudge.bestOfWinRate)}` : '') +
        ' (in brackets: seeds whose interval is above 0.5).',
    )
  return md.join('\n') + '\n'
}

/**
 * Run the pipeline once per seed (in this process; each seed resumes like any run), then write
 * `<workDir>/seeds.json` and `seeds.md`. Returns the summary file.
 */
export async function runSeeds(cfg: PipelineConfig, n: number, opts: { quiet?: boolean; until?: string; force?: string[] } = {}): Promise<{ summaryFile: string; seconds: number[] }> {
  const { Instruct3Error } = await import('../util/errors.ts')
  if (!Number.isInteger(n) || n < 1) throw new Instruct3Error(`must be an integer >= 1, got ${n}`, { code: 'ECONFIG', details: { field: '--seeds' } })
  const { runPipeline } = await import('./run.ts')
  const { readFileSync, mkdirSync } = await import('node:fs')
  const { writeFileAtomicSync } = await import('../util/atomic.ts')
  const runs: Array<{ seed: number; report: EvalReport }> = []
  const seconds: number[] = []
  for (const c of seedConfigs(cfg, n)) {
    const r = await runPipeline(c, opts)
    seconds.push(r.seconds)
    runs.push({ seed: c.seed, report: JSON.parse(readFileSync(join(c.workDir, 'eval', 'eval.json'), 'utf8')) as EvalReport })
  }
  const summary = summarizeSeeds(runs)
  mkdirSync(cfg.workDir, { recursive: true })
  writeFileAtomicSync(join(cfg.workDir, 'seeds.json'), JSON.stringify({ ...summary, seconds }, null, 2) + '\n')
  const summaryFile = join(cfg.workDir, 'seeds.md')
  writeFileAtomicSync(summaryFile, seedsMarkdown(summary) + `\nWall time per seed: ${seconds.map((s) => `${(s / 60).toFixed(1)} min`).join(', ')}.\n`)
  return { summaryFile, seconds }
}
