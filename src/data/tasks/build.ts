/**
 * `instruct3 tasks build`: the web3 task sets in the pipeline's formats (formats.ts).
 *
 * out/
 *   train/ val/      prompts.jsonl  demonstrations.jsonl  comparisons.jsonl (synthetic: true)  hh_comparisons.jsonl
 *   swc_labels.json  the closed SWC label set ("SWC-107 Reentrancy", ...)
 *   datasheet.json / datasheet.md
 */
import { join, relative } from 'node:path'
import { writeFileAtomic } from '../../util/atomic.ts'
import { Instruct3Error } from '../../util/errors.ts'
import { createProgress } from '../../util/progress.ts'
import { sha256Hex, type Split } from '../hash.ts'
import { parseComparison, parseDemonstration, parsePrompt, type Comparison } from '../formats.ts'
import type { RowProblem } from '../sources.ts'
import { DEFAULT_TASK_OPTIONS, syntheticComparison, toDemonstration, toPrompt, type TaskItem, type TaskOptions } from './common.ts'
import { rootCauseItems } from './rootcause.ts'
import { summarizeItems } from './summarize.ts'
import { swcItems, type SwcLabel } from './swc.ts'
import { hhComparisons, type HhStats } from './hhrlhf.ts'
import { explainTransactionItems } from './transactions.ts'

export type TasksResult = {
  items: TaskItem[]
  /** Prompts with no honest reference (complex transactions): prompts.jsonl only. */
  promptsOnly: Array<{ id: string; prompt: string; task: string; split: Split }>
  comparisons: Array<{ c: Comparison; split: Split }>
  hh: Array<{ c: Comparison; split: Split }>
  labels: SwcLabel[]
  datasheet: TasksDatasheet
  problems: RowProblem[]
}

export type TasksDatasheet = {
  name: string
  tasks: Record<string, { train: number; val: number; source: string; license: string; reference: string; duplicatePrompts: number; promptsWithoutReference?: number }>
  comparisons: { train: number; val: number; synthetic: true; method: string }
  hh: HhStats & { train: number; val: number; split: string; license: string }
  options: { maxChars: number; maxAnswerChars: number; valFraction: number; splitFromCorpus: boolean }
  problems: RowProblem[]
}

const TASK_META: Record<string, { source: string; license: string; reference: string }> = {
  'exploit-root-cause': { source: 'defihacklabs/incidents.jsonl (+ pocs.jsonl.gz)', license: 'Apache-2.0', reference: "the incident's root-cause label (README title)" },
  'summarize-proposal': { source: 'eips/eips.jsonl.gz, dao-governance/*.jsonl.gz', license: 'CC0-1.0 / MIT', reference: "EIP front-matter description; DAO proposal's own summary section" },
  'swc-naming': { source: 'swc-registry/test_cases.jsonl + entries.jsonl', license: 'MIT', reference: 'the test case\'s single SWC id and the registry title ("SWC-107 Reentrancy")' },
  'explain-transaction': { source: 'onchain/ethereum-etl/test_stream/*/expected_{transactions,logs}.json (real mainnet)', license: 'MIT (ethereum-etl test resources; public chain data)', reference: 'template over decoded facts, simple transactions only; the others are prompts without reference' },
}

/** Drop items whose prompt text repeats an earlier one (same contract in two test cases, copied proposals). */
function dedupByPrompt(items: TaskItem[]): { kept: TaskItem[]; dropped: Map<string, number> } {
  const seen = new Set<string>()
  const dropped = new Map<string, number>()
  const kept = items.filter((i) => {
    const h = sha256Hex(i.prompt)
    if (seen.has(h)) {
      dropped.set(i.task, (dropped.get(i.task) ?? 0) + 1)
      return false
    }
    seen.add(h)
    return true
  })
  return { kept, dropped }
}

export async function collectTasks(dataDir: string, opts: Partial<TaskOptions> & { quiet?: boolean } = {}): Promise<TasksResult> {
  const o: TaskOptions = { ...DEFAULT_TASK_OPTIONS, ...opts }
  const problems: RowProblem[] = []
  const onProblem = (p: RowProblem) => problems.push(p)
  const progress = createProgress({ label: 'tasks', total: 5, unit: 'sets', quiet: opts.quiet })
  const rc = await rootCauseItems(dataDir, o, onProblem)
  progress.tick(1)
  const sm = await summarizeItems(dataDir, o, onProblem)
  progress.tick(1)
  const sw = await swcItems(dataDir, o, onProblem)
  progress.tick(1)
  const hh = await hhComparisons(dataDir, 0.1, onProblem)
  progress.tick(1)
  const tx = await explainTransactionItems(dataDir, o, onProblem)
  progress.done()
  const { kept: items, dropped } = dedupByPrompt([...rc, ...sm, ...sw.items, ...tx.items])
  const promptsOnly = tx.promptsOnly.map((p) => ({ ...p, task: 'explain-transaction' }))
  if (items.length === 0) throw new Instruct3Error('no task items could be built', { code: 'EEMPTY', details: { file: dataDir } })
  const comparisons: Array<{ c: Comparison; split: Split }> = []
  for (const it of items) {
    const c = syntheticComparison(it, items)
    if (c) comparisons.push({ c, split: it.split })
  }
  const tasks: TasksDatasheet['tasks'] = {}
  for (const [name, meta] of Object.entries(TASK_META)) {
    const of = items.filter((i) => i.task === name)
    tasks[name] = { ...meta, train: of.filter((i) => i.split === 'train').length, val: of.filter((i) => i.split === 'val').length, duplicatePrompts: dropped.get(name) ?? 0 }
  }
  tasks['explain-transaction'].promptsWithoutReference = promptsOnly.length
  const datasheet: TasksDatasheet = {
    name: 'instruct3 web3 tasks',
    tasks,
    comparisons: {
      train: comparisons.filter((c) => c.split === 'train').length,
      val: comparisons.filter((c) => c.split === 'val').length,
      synthetic: true,
      method: "ranked by construction: the item's reference (0) > the wrong answers, tied (1): its first half (answers of 6+ words), another item's reference from the same task and split, the reference's words shuffled",
    },
    hh: {
      ...hh.stats,
      train: hh.rows.filter((r) => r.split === 'train').length,
      val: hh.rows.filter((r) => r.split === 'val').length,
      split: 'sha256 of the first Human turn, 10% val',
      license: 'MIT (Anthropic hh-rlhf, harmless-base test slice; adversarial content)',
    },
    options: { maxChars: o.maxChars, maxAnswerChars: o.maxAnswerChars, valFraction: o.valFraction, splitFromCorpus: Boolean(o.splitById) },
    // paths relative to the data folder: the same data read from another folder (a job's /inputs) gives the same datasheet
    problems: problems.slice(0, 100).map((p) => ({ ...p, file: relative(dataDir, p.file) })),
  }
  return { items, promptsOnly, comparisons, hh: hh.rows, labels: sw.labels, datasheet, problems }
}

function jsonl<T>(rows: T[], check: (v: unknown, w: { file: string; line: number }) => unknown, file: string): string {
  // Validate with the same parser the loaders use: never write a file we would refuse to read.
  return rows.map((r, i) => (check(r, { file, line: i + 1 }), JSON.stringify(r) + '\n')).join('')
}

export function renderTasksDatasheet(d: TasksDatasheet): string {
  const lines = [`# Datasheet: ${d.name}`, '', 'Prompts, demonstrations and synthetic comparisons for the InstructGPT pipeline, built from the public web3 data in ../shared/data.', '', '| task | train | val | duplicate prompts dropped | source | license | reference answer |', '|---|---:|---:|---:|---|---|---|']
  for (const [n, t] of Object.entries(d.tasks)) lines.push(`| ${n} | ${t.train} | ${t.val} | ${t.duplicatePrompts} | ${t.source} | ${t.license} | ${t.reference}${t.promptsWithoutReference ? ` (+${t.promptsWithoutReference} prompts without reference)` : ''} |`)
  lines.push('', `## Synthetic comparisons`, '', `${d.comparisons.train} train / ${d.comparisons.val} val, all marked \`synthetic: true\`. Method: ${d.comparisons.method}.`)
  lines.push('', '## HH-RLHF comparisons', '', `${d.hh.rows} rows read, ${d.hh.kept} kept, ${d.hh.skipped} skipped (no shared dialogue prefix, or identical/empty last turns); ${d.hh.train} train / ${d.hh.val} val. Split: ${d.hh.split}. License: ${d.hh.license}.`)
  lines.push('', '## Options', '', `maxChars ${d.options.maxChars}, maxAnswerChars ${d.options.maxAnswerChars}, valFraction ${d.options.valFraction}; split taken from the corpus build: ${d.options.splitFromCorpus}. A task item is on the same side of the split as the corpus document it came from (incident and PoC share a side), so validation prompts are not in the pretraining text.`)
  if (d.problems.length) lines.push('', '## Rows skipped as malformed', '', ...d.problems.map((p) => `- ${p.file}:${p.line}: ${p.message}`))
  return lines.join('\n') + '\n'
}

export async function buildTasks(opts: Partial<TaskOptions> & { dataDir: string; outDir: string; quiet?: boolean }): Promise<TasksResult> {
  const r = await collectTasks(opts.dataDir, opts)
  for (const split of ['train', 'val'] as const) {
    const dir = join(opts.outDir, split)
    const its = r.items.filter((i) => i.split === split)
    const f = (n: string) => join(dir, n)
    const extra = r.promptsOnly.filter((p) => p.split === split).map((p) => ({ id: p.id, prompt: p.prompt, task: p.task }))
    await writeFileAtomic(f('prompts.jsonl'), jsonl([...its.map(toPrompt), ...extra], parsePrompt, f('prompts.jsonl')))
    await writeFileAtomic(f('demonstrations.jsonl'), jsonl(its.map(toDemonstration), parseDemonstration, f('demonstrations.jsonl')))
    await writeFileAtomic(f('comparisons.jsonl'), jsonl(r.comparisons.filter((c) => c.split === split).map((c) => c.c), parseComparison, f('comparisons.jsonl')))
    await writeFileAtomic(f('hh_comparisons.jsonl'), jsonl(r.hh.filter((c) => c.split === split).map((c) => c.c), parseComparison, f('hh_comparisons.jsonl')))
  }
  await writeFileAtomic(join(opts.outDir, 'swc_labels.json'), JSON.stringify(r.labels, null, 2) + '\n')
  await writeFileAtomic(join(opts.outDir, 'datasheet.json'), JSON.stringify(r.datasheet, null, 2) + '\n')
  await writeFileAtomic(join(opts.outDir, 'datasheet.md'), renderTasksDatasheet(r.datasheet))
  return r
}
