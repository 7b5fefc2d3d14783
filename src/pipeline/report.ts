/**
 * The pipeline report: one Markdown file (tables: stages, reward models, policies; sample responses) and
 * PNG plots of losses, rewards, KL and win rate, written into workDir/report/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { readMetrics, type MetricsRow } from '../train/metrics.ts'
import { formatDuration } from '../util/progress.ts'
import type { PipelineConfig } from './config.ts'
import type { StageRecord } from './stage.ts'
import type { EvalReport } from './evaluate.ts'
import { policyTables, rewardJudgeLines, samplePairTable } from './report-policies.ts'
import { barChartSvg, lineChartSvg, writePng, type Series } from './plot.ts'

const fmt = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d))

function series(rows: MetricsRow[], key: string, name = key): Series {
  return { name, points: rows.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]) }
}

/** Trailing moving average (per-step training metrics of small batches are noisy). */
function smoothed(s: Series, window = 10): Series {
  const pts = s.points.map(([x], i) => {
    const from = Math.max(0, i - window + 1)
    const w = s.points.slice(from, i + 1)
    return [x, w.reduce((a, p) => a + p[1], 0) / w.length] as [number, number]
  })
  return { name: `${s.name} (avg of ${window})`, points: pts }
}

export async function writeReport(cfg: PipelineConfig, records: Map<string, StageRecord>, dirs: Map<string, string>): Promise<string> {
  const dir = join(cfg.workDir, 'report')
  mkdirSync(dir, { recursive: true })
  const md: string[] = [`# instruct3 pipeline report: ${cfg.name}`, '', `Generated ${new Date().toISOString()}. Work dir: \`${cfg.workDir}\`.`, '']
  const outPath = (stage: string, name: string) => {
    const r = records.get(stage)
    return r && r.outputs[name] !== undefined ? resolve(dirs.get(stage) ?? join(cfg.workDir, stage), r.outputs[name]) : undefined
  }
  const metricsOf = (stage: string) => {
    const f = outPath(stage, 'metrics')
    return f && existsSync(f) ? readMetrics(f) : []
  }
  const plots: string[] = []
  const plot = (name: string, svg: string) => {
    writePng(join(dir, name), svg)
    plots.push(name)
  }

  md.push('## Stages', '', '| stage | time | key metrics | manifest |', '|---|---:|---|---|')
  let total = 0
  for (const r of records.values()) {
    total += r.seconds
    const m = Object.entries(r.metrics)
      .filter(([, v]) => Number.isFinite(v))
      .slice(0, 6)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')
    md.push(`| ${r.stage} | ${formatDuration(r.seconds)} | ${m} | ${r.manifest ? `\`${r.manifest}\`` : ''} |`)
  }
  md.push(`| **total** | ${formatDuration(total)} | | |`, '')
  md.push(
    `Model: GPT-2 architecture, ${cfg.model.nLayer} layers, d=${cfg.model.nEmbd}, ${cfg.model.nHead} heads, context ${cfg.model.nCtx}, vocabulary ${cfg.tokenizer.vocabSize} (byte-level BPE trained on the corpus).`,
    '',
  )

  const pre = metricsOf('pretrain')
  if (pre.length) {
    plot('pretrain_loss.png', lineChartSvg([smoothed(series(pre, 'loss', 'train')), series(pre, 'eval/loss', 'validation')], { title: 'Pretraining: LM loss', xLabel: 'step', yLabel: 'nats/token' }))
  }
  const sft = metricsOf('sft')
  if (sft.length) plot('sft_loss.png', lineChartSvg([series(sft, 'loss', 'train (response tokens)'), series(sft, 'eval/loss', 'validation')], { title: 'SFT: loss on demonstrations', xLabel: 'step', yLabel: 'nats/token' }))
  const rmSeries: Series[] = []
  for (const s of ['reward', 'judge', 'reward-hh']) {
    const m = metricsOf(s)
    if (m.length) rmSeries.push(smoothed(series(m, 'train/accuracy', `${s} train`)), series(m, 'eval/accuracy', `${s} validation`))
  }
  if (rmSeries.length) plot('reward_accuracy.png', lineChartSvg(rmSeries, { title: 'Reward models: pairwise accuracy', xLabel: 'step', yLabel: 'accuracy' }))
  const ppo = metricsOf('ppo')
  if (ppo.length) {
    plot('ppo_reward.png', lineChartSvg([series(ppo, 'objective/scores', 'RM score'), series(ppo, 'objective/rlhf_reward', 'RLHF reward (score - KL penalty)')], { title: 'PPO: reward', xLabel: 'iteration', yLabel: 'reward' }))
    plot('ppo_kl.png', lineChartSvg([series(ppo, 'objective/kl', 'KL to SFT (nats/response)')], { title: 'PPO: KL to the SFT model', xLabel: 'iteration', yLabel: 'nats' }))
  }
  const dpo = metricsOf('dpo')
  if (dpo.length) plot('dpo.png', lineChartSvg([smoothed(series(dpo, 'train/rewards/accuracies', 'train accuracy')), series(dpo, 'eval/rewards/accuracies', 'validation accuracy'), series(dpo, 'loss', 'loss')], { title: 'DPO', xLabel: 'step' }))

  // label batches (config labels.batches): what was verified, and the reward model trained on them, per origin
  const lb = records.get('labels')?.metrics
  const rl = records.get('reward-labels')?.metrics
  if (lb && rl) {
    md.push('## Reward model on label batches', '')
    md.push(`${lb.batches} batch(es), ${lb.labels} signed labels (${lb.signatures_verified} signatures verified), ${lb.labels_used} accepted labels of ${lb.labelers} labelers used (labelers proven to fail gold left out): ${lb.comparisons} comparisons. Held-out accuracy by origin:`, '')
    md.push('| origin | accuracy | prompts |', '|---|---:|---:|')
    for (const k of Object.keys(rl).filter((x) => x.startsWith('accuracy_'))) md.push(`| ${k.slice('accuracy_'.length)} | ${fmt(rl[k])} | ${rl[`prompts_${k.slice('accuracy_'.length)}`] ?? ''} |`)
    md.push('')
  }
  const evalFile = outPath('eval', 'eval')
  if (evalFile && existsSync(evalFile)) {
    const ev = JSON.parse(readFileSync(evalFile, 'utf8')) as EvalReport
    md.push('## Reward models (held-out comparisons)', '', '| reward model | accuracy | mean margin | pairs |', '|---|---:|---:|---:|')
    for (const r of ev.rewardModels) md.push(`| ${r.name} | ${fmt(r.accuracy)} | ${fmt(r.margin)} | ${r.pairs} |`)
    md.push('', 'The web3 comparisons are synthetic (marked `synthetic: true`): the reference answer beats each wrong answer (tied among themselves): its first half, another item\'s answer, its words shuffled and, with the samples stage, samples of the SFT model; a further row ranks those samples among themselves by closeness to the reference (`sft-sample > sft-sample`). hh-rlhf pairs are real human preferences (harmless-base slice).', '')
    // per origin: who made the held-out rows (synthetic, human, simulated-labeler)
    const origins = [...new Set(ev.rewardModels.flatMap((r) => (r.byOrigin ?? []).map((o) => o.origin)))]
    if (origins.length) {
      md.push('Held-out accuracy by origin of the comparisons:', '', `| origin | ${ev.rewardModels.map((r) => r.name).join(' | ')} |`, `|---|${ev.rewardModels.map(() => '---:|').join('')}`)
      for (const o of origins) md.push(`| ${o} | ${ev.rewardModels.map((r) => fmt(r.byOrigin?.find((x) => x.origin === o)?.accuracy)).join(' | ')} |`)
      md.push('')
    }
    // per kind of pair: which distinctions each reward model has learned
    const kinds = [...new Set(ev.rewardModels.flatMap((r) => (r.byKind ?? []).map((k) => k.kind)))]
    if (kinds.length) {
      const withKinds = ev.rewardModels.filter((r) => r.byKind?.length)
      md.push('Held-out accuracy by kind of pair (winner > loser):', '', `| pair | ${withKinds.map((r) => r.name).join(' | ')} | pairs |`, `|---|${withKinds.map(() => '---:|').join('')}---:|`)
      for (const k of kinds) {
        const cells = withKinds.map((r) => r.byKind.find((x) => x.kind === k))
        md.push(`| ${k} | ${cells.map((c) => fmt(c?.accuracy)).join(' | ')} | ${cells.find(Boolean)?.pairs ?? ''} |`)
      }
      md.push('')
    }
    md.push(...samplePairTable(ev.rewardModels))
    md.push(...rewardJudgeLines(ev.rewardJudge))
    // per task: where the accuracy is lost (a cell holds each multi-task reward model's number, in column
    // order; a single-task model's one row would repeat its line above)
    const withTasks = ev.rewardModels.filter((r) => (r.byTask?.length ?? 0) > 1)
    if (withTasks.length) {
      const tasks = [...new Set(withTasks.flatMap((r) => r.byTask.map((t) => t.task)))]
      const cell = (r: EvalReport['rewardModels'][number], task: string, kind?: string) => {
        const t = r.byTask.find((x) => x.task === task)
        return fmt(kind ? t?.byKind.find((x) => x.kind === kind)?.accuracy : t?.accuracy)
      }
      md.push(
        `Held-out accuracy by task (${withTasks.map((r) => r.name).join(' / ')}), over all its pairs and per kind of pair:`,
        '',
        `| task | prompts | all pairs | ${kinds.join(' | ')} |`,
        `|---|---:|---:|${kinds.map(() => '---:|').join('')}`,
      )
      for (const task of tasks) {
        const prompts = withTasks[0].byTask.find((x) => x.task === task)?.prompts ?? ''
        const cells = [undefined, ...kinds].map((k) => withTasks.map((r) => cell(r, task, k)).join(' / '))
        md.push(`| ${task} | ${prompts} | ${cells.join(' | ')} |`)
      }
      md.push('')
    }
    md.push(
      '## Policies',
      '',
      'Judge = a reward model trained on the other half of the comparisons with another seed, never used to train a policy.',
      '',
      ...policyTables(ev.policies),
    )
    plot('judge_reward.png', barChartSvg(ev.policies.map((p) => ({ label: p.name, value: p.judgeReward })), { title: 'Mean judge reward on held-out prompts', yLabel: 'reward' }))
    const wr = ev.policies.filter((p) => p.winRateVsSft !== undefined)
    if (wr.length) plot('win_rate.png', barChartSvg(wr.map((p) => ({ label: p.name, value: p.winRateVsSft! })), { title: 'Win rate vs SFT (judge)', yLabel: 'win rate' }))
    md.push('## Samples', '')
    for (const p of ev.policies)
      for (const s of p.samples.slice(0, 2)) md.push(`**${p.name}** (reward ${fmt(s.reward)}): _${oneLine(s.prompt, 160)}_`, '', '> ' + (oneLine(s.response, 300) || '(empty)'), '')
  }
  md.push('## Plots', '')
  for (const p of plots) md.push(`![${p}](${p})`, '')
  const file = join(dir, 'report.md')
  writeFileAtomicSync(file, md.join('\n') + '\n')
  return file
}

function oneLine(s: string, n: number): string {
  const t = s.replace(/\s+/g, ' ').trim()
  return t.length > n ? t.slice(0, n) + '…' : t
}
