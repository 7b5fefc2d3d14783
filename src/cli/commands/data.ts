import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir, sharedDataDir } from '../../util/paths.ts'

/** `corpus`, `tasks` and `ingest` subcommands (the data area). Heavy modules load lazily. */
export function register(program: Command): void {
  registerCorpus(program)
  registerTasks(program)
}

function registerCorpus(program: Command): void {
  const corpus = program.command('corpus').description('web3 pretraining corpus')
  corpus
    .command('build')
    .description('build the deduplicated web3 corpus (train/val JSONL + TXT + datasheet) from the shared public data')
    .option('--data <dir>', 'shared data folder', sharedDataDir())
    .option('--out <dir>', 'output folder', join(dataDir(), 'corpus'))
    .option('--val-fraction <f>', 'validation fraction (by content hash)', '0.05')
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string; out: string; valFraction: string; quiet?: boolean }) => {
      const { buildCorpus } = await import('../../data/corpus.ts')
      const t0 = performance.now()
      const r = await buildCorpus({ dataDir: resolve(o.data), outDir: resolve(o.out), valFraction: Number(o.valFraction), quiet: o.quiet })
      const t = r.datasheet.totals
      console.log(`corpus: ${t.train} train docs (${(t.trainBytes / 1e6).toFixed(1)} MB), ${t.val} val docs (${(t.valBytes / 1e6).toFixed(1)} MB); ` +
        `${r.datasheet.dedup.exactRemoved} exact + ${r.datasheet.dedup.nearRemoved} near duplicates removed; ${t.badRows} bad rows skipped; ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s -> ${resolve(o.out)}`)
      for (const p of r.problems.slice(0, 10)) console.error(`warning: ${p.file}:${p.line}: ${p.message}`)
    })
}

function registerTasks(program: Command): void {
  const tasks = program.command('tasks').description('web3 task sets (prompts, demonstrations, synthetic comparisons) for the pipeline')
  tasks
    .command('build')
    .description('build exploit root-cause, proposal summary and SWC-naming tasks, plus hh-rlhf comparisons')
    .option('--data <dir>', 'shared data folder', sharedDataDir())
    .option('--out <dir>', 'output folder', join(dataDir(), 'tasks'))
    .option('--max-chars <n>', 'longest prompt in characters (small context)', '640')
    .option('--max-answer-chars <n>', 'longest reference answer in characters', '200')
    .option('--val-fraction <f>', 'validation fraction (must match the corpus build)', '0.05')
    .option('--no-corpus-split', 'do not rebuild the corpus in memory to align splits (faster; duplicates may then split differently)')
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string; out: string; maxChars: string; maxAnswerChars: string; valFraction: string; corpusSplit: boolean; quiet?: boolean }) => {
      const { buildTasks } = await import('../../data/tasks/build.ts')
      const t0 = performance.now()
      const valFraction = Number(o.valFraction)
      let splitById: Map<string, 'train' | 'val'> | undefined
      if (o.corpusSplit) {
        const { collectCorpus } = await import('../../data/corpus.ts')
        splitById = (await collectCorpus({ dataDir: resolve(o.data), valFraction, quiet: o.quiet })).splitById
      }
      const r = await buildTasks({ dataDir: resolve(o.data), outDir: resolve(o.out), maxChars: Number(o.maxChars), maxAnswerChars: Number(o.maxAnswerChars), valFraction, splitById, quiet: o.quiet })
      for (const [n, t] of Object.entries(r.datasheet.tasks)) console.log(`${n}: ${t.train} train / ${t.val} val`)
      console.log(`synthetic comparisons: ${r.datasheet.comparisons.train} train / ${r.datasheet.comparisons.val} val; hh-rlhf: ${r.datasheet.hh.train} train / ${r.datasheet.hh.val} val`)
      console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s -> ${resolve(o.out)}`)
      for (const p of r.problems.slice(0, 10)) console.error(`warning: ${p.file}:${p.line}: ${p.message}`)
    })
}
