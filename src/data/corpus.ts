/**
 * `instruct3 corpus build`: the web3 pretraining corpus.
 *
 * sources (sources.ts) -> normalise -> drop short docs -> exact + MinHash near-dup removal
 * -> split by content hash (or by the document's group key) -> train/val JSONL + TXT + datasheet.
 *
 * Deterministic: sources are read in a fixed order, rows in file order, the first copy of a
 * duplicate is kept, and the outputs carry no timestamps, so the same input gives the same bytes.
 */
import { join, relative } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { writeFileAtomic } from '../util/atomic.ts'
import { createProgress } from '../util/progress.ts'
import { sha256Hex, splitOfHash, type Split } from './hash.ts'
import { normalizeText } from './normalize.ts'
import { createDeduper } from './dedup.ts'
import { SOURCES, readSource, type RowProblem, type SourceDoc, type SourceSpec } from './sources.ts'
import { renderDatasheetMarkdown, type Datasheet, type SourceStats } from './datasheet.ts'

export type CorpusDoc = { id: string; source: string; license: string; title: string; text: string; sha256: string }

export type CorpusOptions = {
  dataDir: string
  valFraction?: number
  /** Documents shorter than this (after normalisation) are dropped. */
  minChars?: number
  nearDupThreshold?: number
  sources?: SourceSpec[]
  quiet?: boolean
}

export type CorpusResult = {
  train: CorpusDoc[]
  val: CorpusDoc[]
  /** Split of every offered document id, duplicates included (they inherit the kept copy's side). */
  splitById: Map<string, Split>
  datasheet: Datasheet
  problems: RowProblem[]
}

/** Build the corpus in memory (about 40 MB of text). */
export async function collectCorpus(opts: CorpusOptions): Promise<CorpusResult> {
  const valFraction = opts.valFraction ?? 0.05
  const minChars = opts.minChars ?? 64
  const sources = opts.sources ?? SOURCES
  const dedup = createDeduper({ threshold: opts.nearDupThreshold ?? 0.8 })
  const problems: RowProblem[] = []
  const kept: Array<{ doc: CorpusDoc; split: Split }> = []
  const offered: Array<{ split: Split } | null> = [] // index -> kept doc split (null if dropped before dedup)
  const splitById = new Map<string, Split>()
  const stats: SourceStats[] = []
  const progress = createProgress({ label: 'corpus', total: sources.length, unit: 'sources', quiet: opts.quiet })

  for (const spec of sources) {
    const s: SourceStats = {
      name: spec.name, file: spec.file, license: spec.license, upstream: spec.upstream, ...(spec.note ? { note: spec.note } : {}),
      rows: 0, badRows: 0, tooShort: 0, exactDuplicates: 0, nearDuplicates: 0, train: 0, val: 0, trainBytes: 0, valBytes: 0,
    }
    for await (const d of readSource(spec, opts.dataDir, (p) => {
      problems.push(p)
      s.badRows++
    })) {
      s.rows++
      const text = normalizeText(d.text)
      if (text.length < minChars) {
        s.tooShort++
        continue
      }
      const sha256 = sha256Hex(text)
      const verdict = dedup.offer(text)
      if (verdict.kind !== 'kept') {
        if (verdict.kind === 'exact') s.exactDuplicates++
        else s.nearDuplicates++
        const of = offered[verdict.of]
        offered.push(null)
        if (of) splitById.set(d.id, of.split)
        continue
      }
      const split = docSplit(d, sha256, spec.valFraction ?? valFraction)
      const doc: CorpusDoc = { id: d.id, source: d.source, license: d.license, title: d.title.trim(), text, sha256 }
      offered.push({ split })
      splitById.set(d.id, split)
      kept.push({ doc, split })
      const bytes = Buffer.byteLength(text)
      if (split === 'train') {
        s.train++
        s.trainBytes += bytes
      } else {
        s.val++
        s.valBytes += bytes
      }
    }
    stats.push(s)
    progress.tick(1, { docs: kept.length })
  }
  progress.done()
  if (kept.length === 0)
    throw new Instruct3Error('empty corpus: no documents survived reading, normalisation and dedup', { code: 'EEMPTY', details: { file: opts.dataDir } })

  const train = kept.filter((k) => k.split === 'train').map((k) => k.doc)
  const val = kept.filter((k) => k.split === 'val').map((k) => k.doc)
  const sum = (f: (s: SourceStats) => number) => stats.reduce((a, s) => a + f(s), 0)
  const datasheet: Datasheet = {
    name: 'instruct3 web3 corpus',
    description: 'Deduplicated web3 text (standards, governance, DeFi docs, exploits, weakness registries) for pretraining.',
    split: { method: 'sha256 of normalised text (or of the group key: incident and its PoC share one) -> first 32 bits / 2^32 < valFraction => val; duplicates follow their kept copy; per-source overrides: ' + (sources.filter((s) => s.valFraction !== undefined).map((s) => `${s.name}=${s.valFraction}`).join(', ') || 'none'), valFraction },
    dedup: {
      exact: 'sha256 of lower-cased, whitespace-collapsed text; first copy kept',
      near: `MinHash (64 hashes, word 5-shingles), LSH 16 bands x 4 rows, estimated Jaccard >= ${opts.nearDupThreshold ?? 0.8}; first copy kept`,
      exactRemoved: sum((s) => s.exactDuplicates),
      nearRemoved: sum((s) => s.nearDuplicates),
    },
    normalisation: 'CRLF->LF, BOM/NUL removed, HTML comments and MDX import/export lines removed, trailing spaces stripped, 3+ newlines -> 2, trimmed; documents < ' + minChars + ' chars dropped',
    totals: {
      rows: sum((s) => s.rows), badRows: sum((s) => s.badRows), tooShort: sum((s) => s.tooShort),
      train: train.length, val: val.length, trainBytes: sum((s) => s.trainBytes), valBytes: sum((s) => s.valBytes),
    },
    sources: stats,
    // Paths relative to the data dir, so the datasheet does not depend on where the data lives.
    problems: problems.slice(0, 100).map((p) => ({ ...p, file: relative(opts.dataDir, p.file) })),
  }
  return { train, val, splitById, datasheet, problems }
}

/** The split of one document: by its group key when it has one, else by the hash of its normalised text. */
export function docSplit(d: SourceDoc, textSha256: string, valFraction: number): Split {
  return splitOfHash(d.group ? sha256Hex(d.group) : textSha256, valFraction)
}

function* jsonlChunks(docs: CorpusDoc[]): Generator<Uint8Array> {
  for (const d of docs) yield Buffer.from(JSON.stringify(d) + '\n')
}

/** Plain text: documents separated by one blank line (EOS placement is the tokenizer's job, from the JSONL). */
function* txtChunks(docs: CorpusDoc[]): Generator<Uint8Array> {
  for (let i = 0; i < docs.length; i++) yield Buffer.from((i ? '\n\n' : '') + docs[i].text + (i === docs.length - 1 ? '\n' : ''))
}

/** Build the corpus and write train/val .jsonl and .txt plus datasheet.json/.md, each atomically. */
export async function buildCorpus(opts: CorpusOptions & { outDir: string }): Promise<CorpusResult> {
  const r = await collectCorpus(opts)
  await writeFileAtomic(join(opts.outDir, 'train.jsonl'), jsonlChunks(r.train))
  await writeFileAtomic(join(opts.outDir, 'val.jsonl'), jsonlChunks(r.val))
  await writeFileAtomic(join(opts.outDir, 'train.txt'), txtChunks(r.train))
  await writeFileAtomic(join(opts.outDir, 'val.txt'), txtChunks(r.val))
  await writeFileAtomic(join(opts.outDir, 'datasheet.json'), JSON.stringify(r.datasheet, null, 2) + '\n')
  await writeFileAtomic(join(opts.outDir, 'datasheet.md'), renderDatasheetMarkdown(r.datasheet))
  return r
}
