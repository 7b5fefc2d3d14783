import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir, sharedDataDir } from '../../util/paths.ts'

/** `corpus`, `tasks` and `ingest` subcommands (the data area). Heavy modules load lazily. */
export function register(program: Command): void {
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
