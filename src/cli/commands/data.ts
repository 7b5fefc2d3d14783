import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { dataDir, sharedDataDir } from '../../util/paths.ts'
import { Instruct3Error } from '../../util/errors.ts'

/** `corpus`, `tasks` and `ingest` subcommands (the data area). Heavy modules load lazily. */
export function register(program: Command): void {
  registerCorpus(program)
  registerTasks(program)
  registerIngest(program)
}

function registerCorpus(program: Command): void {
  const corpus = program.command('corpus').description('web3 pretraining corpus')
  corpus
    .command('build')
    .description('build the deduplicated web3 corpus (train/val JSONL + TXT + datasheet) from the shared public data')
    .option('--data <dir>', 'shared data folder', sharedDataDir())
    .option('--out <dir>', 'output folder', join(dataDir(), 'corpus'))
    .option('--val-fraction <f>', 'validation fraction (by content hash)', '0.05')
    .option('--store', 'also add the output folder to the project content store (pinned) and print its CID')
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string; out: string; valFraction: string; store?: boolean; quiet?: boolean }) => {
      const { buildCorpus } = await import('../../data/corpus.ts')
      const t0 = performance.now()
      const r = await buildCorpus({ dataDir: resolve(o.data), outDir: resolve(o.out), valFraction: Number(o.valFraction), quiet: o.quiet })
      const t = r.datasheet.totals
      console.log(`corpus: ${t.train} train docs (${(t.trainBytes / 1e6).toFixed(1)} MB), ${t.val} val docs (${(t.valBytes / 1e6).toFixed(1)} MB); ` +
        `${r.datasheet.dedup.exactRemoved} exact + ${r.datasheet.dedup.nearRemoved} near duplicates removed; ${t.badRows} bad rows skipped; ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s -> ${resolve(o.out)}`)
      for (const p of r.problems.slice(0, 10)) console.error(`warning: ${p.file}:${p.line}: ${p.message}`)
      if (o.store) await storeDir(resolve(o.out))
    })
}

/** Add a finished output folder to the project's content store (data sits beside store; the CLI joins them). */
async function storeDir(dir: string): Promise<void> {
  const { defaultStore } = await import('../../store/index.ts')
  const store = await defaultStore()
  try {
    const cid = await store.addDirectory(dir, { pin: true })
    console.log(`stored ${dir} as ${cid.toString()} (pinned)`)
  } finally {
    await store.close()
  }
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
    .option('--store', 'also add the output folder to the project content store (pinned) and print its CID')
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string; out: string; maxChars: string; maxAnswerChars: string; valFraction: string; corpusSplit: boolean; store?: boolean; quiet?: boolean }) => {
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
      if (o.store) await storeDir(resolve(o.out))
    })
}

function registerIngest(program: Command): void {
  const ingest = program.command('ingest').description('ingest web3 sources (chain, governance, security) into datasets and prompt sets')
  ingest
    .command('chain')
    .description('blocks, transactions, receipts and logs over JSON-RPC into JSONL, with decoded events and explain-transaction prompts (resumable)')
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint (http/https)')
    .requiredOption('--from <n>', 'first block')
    .requiredOption('--to <n>', 'last block (inclusive) or "latest"')
    .option('--abi <file...>', 'extra ABI files (JSON array or artifact with "abi") whose events are decoded too')
    .option('--out <dir>', 'output folder (holds a cursor: rerun the same command to resume)', join(dataDir(), 'chain'))
    .option('--chunk <n>', 'blocks per part file (memory bound)', '25')
    .option('--concurrency <n>', 'blocks in flight', '4')
    .option('--batch <n>', 'JSON-RPC requests per HTTP batch', '100')
    .option('--retries <n>', 'retries per request (exponential backoff)', '5')
    .option('--store', 'when complete, add the output folder to the project content store (pinned) and print its CID')
    .option('--quiet', 'no progress output')
    .action(async (o: { rpc: string; from: string; to: string; abi?: string[]; out: string; chunk: string; concurrency: string; batch: string; retries: string; store?: boolean; quiet?: boolean }) => {
      const { ingestChain, loadAbiFile } = await import('../../data/chain/ingest.ts')
      const int = (v: string, name: string) => {
        const n = Number(v)
        if (!Number.isInteger(n) || n < 0) throw new Instruct3Error(`--${name} must be a non-negative integer, got "${v}"`, { details: { field: name } })
        return n
      }
      const r = await ingestChain({
        rpcUrl: o.rpc,
        from: int(o.from, 'from'),
        to: o.to === 'latest' ? 'latest' : int(o.to, 'to'),
        outDir: resolve(o.out),
        abis: (o.abi ?? []).map((f) => loadAbiFile(resolve(f))),
        chunkBlocks: Math.max(1, int(o.chunk, 'chunk')),
        concurrency: Math.max(1, int(o.concurrency, 'concurrency')),
        batchSize: Math.max(1, int(o.batch, 'batch')),
        retryCount: int(o.retries, 'retries'),
        quiet: o.quiet,
      })
      const s = r.cursor.stats
      console.log(`ingested blocks ${r.cursor.from}..${r.cursor.to}: ${s.blocks} blocks, ${s.transactions} txs, ${s.logs} logs, ${s.events} decoded events in ${r.seconds.toFixed(1)} s` +
        (r.prompts ? `; prompts ${r.prompts.train} train / ${r.prompts.val} val` : '') + ` -> ${resolve(o.out)}`)
      if (o.store && r.complete) await storeDir(resolve(o.out))
    })

  ingest
    .command('governance')
    .description('EIPs/ERCs and DAO proposals as datasets (schema, dedup, split by content hash, datasheet)')
    .option('--data <dir>', 'shared data folder', sharedDataDir())
    .option('--eips-dir <dir>', 'read EIPs/ERCs from a checkout\'s markdown (front matter parsed) instead of the shared JSONL')
    .option('--out <dir>', 'output folder', join(dataDir(), 'datasets'))
    .option('--store', 'also add each dataset folder to the project content store (pinned) and print its CID')
    .action(async (o: { data: string; eipsDir?: string; out: string; store?: boolean }) => {
      const { buildGovernance } = await import('../../data/governance/build.ts')
      const sheets = await buildGovernance({ dataDir: resolve(o.data), outDir: resolve(o.out), eipsDir: o.eipsDir ? resolve(o.eipsDir) : undefined })
      printSheets(sheets, resolve(o.out))
      if (o.store) for (const s of sheets) await storeDir(join(resolve(o.out), s.name))
    })
  ingest
    .command('security')
    .description('SWC entries and test cases, hack incidents with PoCs, vulnerability guides as datasets')
    .option('--data <dir>', 'shared data folder', sharedDataDir())
    .option('--out <dir>', 'output folder', join(dataDir(), 'datasets'))
    .option('--store', 'also add each dataset folder to the project content store (pinned) and print its CID')
    .action(async (o: { data: string; out: string; store?: boolean }) => {
      const { buildSecurity } = await import('../../data/security/build.ts')
      const sheets = await buildSecurity({ dataDir: resolve(o.data), outDir: resolve(o.out) })
      printSheets(sheets, resolve(o.out))
      if (o.store) for (const s of sheets) await storeDir(join(resolve(o.out), s.name))
    })
  ingest
    .command('snapshot')
    .description('spaces, proposals and votes from a Snapshot hub GraphQL endpoint')
    .option('--url <url>', 'GraphQL endpoint', 'https://hub.snapshot.org/graphql')
    .requiredOption('--space <id...>', 'space ids, e.g. aave.eth')
    .option('--votes', 'also fetch every vote of every proposal')
    .option('--page <n>', 'page size (max 1000)', '100')
    .option('--api-key <key>', 'Snapshot API key (x-api-key header)', process.env.SNAPSHOT_API_KEY)
    .option('--out <dir>', 'output folder', join(dataDir(), 'snapshot'))
    .option('--store', 'also add the output folder to the project content store (pinned) and print its CID')
    .option('--quiet', 'no progress output')
    .action(async (o: { url: string; space: string[]; votes?: boolean; page: string; apiKey?: string; out: string; store?: boolean; quiet?: boolean }) => {
      const { ingestSnapshot } = await import('../../data/governance/snapshot-ingest.ts')
      const r = await ingestSnapshot({ url: o.url, spaces: o.space, votes: o.votes, pageSize: Number(o.page), apiKey: o.apiKey, outDir: resolve(o.out), quiet: o.quiet })
      console.log(`snapshot: ${r.spaces} spaces, ${r.proposals} proposals, ${r.votes} votes in ${r.requests} requests -> ${resolve(o.out)}`)
      if (o.store) await storeDir(resolve(o.out))
    })
}

function printSheets(sheets: Array<{ name: string; counts: Record<string, number>; problems: Array<{ file: string; line: number; message: string }> }>, out: string): void {
  for (const s of sheets) {
    const c = s.counts
    console.log(`${s.name}: ${c.train} train / ${c.val} val (${c.rows} rows, ${c.invalid} invalid, ${c.exactDuplicates} exact + ${c.nearDuplicates} near duplicates)`)
    for (const p of s.problems.slice(0, 5)) console.error(`warning: ${p.file}:${p.line}: ${p.message}`)
  }
  console.log(`-> ${out}`)
}
