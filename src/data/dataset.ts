/**
 * A versioned dataset on disk, used by the governance and security ingests:
 *   <outDir>/<name>/train.jsonl, val.jsonl, datasheet.json, datasheet.md
 * Rows are validated against a small field schema, deduplicated (exact + MinHash near-duplicates
 * of their text), and split by content hash (or a group key) like the corpus, then written atomically.
 */
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'
import { createDeduper } from './dedup.ts'
import { sha256Hex, splitOfHash, type Split } from './hash.ts'
import { normalizeText } from './normalize.ts'
import type { RowProblem } from './sources.ts'

export type FieldType = 'string' | 'string?' | 'number' | 'number?' | 'boolean' | 'string[]' | 'array' | 'object' | 'object?'
export type Schema = Record<string, FieldType>

export type DatasetRow = { record: Record<string, unknown>; /** text used for dedup and the content hash */ text: string; group?: string; where?: { file: string; line: number } }

export type DatasetSheet = {
  name: string
  description: string
  sources: Array<{ file: string; upstream: string; license: string }>
  schema: Schema
  counts: { rows: number; invalid: number; exactDuplicates: number; nearDuplicates: number; train: number; val: number }
  split: string
  dedup: string
  problems: RowProblem[]
  notes?: string[]
}

/** Check one record against the schema; returns the first problem or null. */
export function checkSchema(rec: Record<string, unknown>, schema: Schema): { field: string; message: string } | null {
  for (const [field, t] of Object.entries(schema)) {
    const v = rec[field]
    const optional = t.endsWith('?')
    if (v === undefined || v === null) {
      if (optional) continue
      return { field, message: 'missing required field' }
    }
    const base = t.replace('?', '')
    const ok =
      base === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : base === 'array' ? Array.isArray(v)
      : base === 'object' ? typeof v === 'object' && !Array.isArray(v)
      : typeof v === base
    if (!ok) return { field, message: `must be ${base}` }
    if (base === 'string' && !optional && (v as string).trim() === '') return { field, message: 'must not be empty' }
  }
  return null
}

export async function writeDataset(o: {
  outDir: string
  name: string
  description: string
  sources: DatasetSheet['sources']
  schema: Schema
  rows: Iterable<DatasetRow>
  valFraction?: number
  problems?: RowProblem[]
  notes?: string[]
}): Promise<DatasetSheet> {
  const valFraction = o.valFraction ?? 0.05
  const dedup = createDeduper()
  const problems = [...(o.problems ?? [])]
  const counts = { rows: 0, invalid: 0, exactDuplicates: 0, nearDuplicates: 0, train: 0, val: 0 }
  const out: Record<Split, string[]> = { train: [], val: [] }
  for (const r of o.rows) {
    counts.rows++
    const bad = checkSchema(r.record, o.schema)
    if (bad) {
      counts.invalid++
      problems.push({ file: r.where?.file ?? o.name, line: r.where?.line ?? 0, message: `field "${bad.field}": ${bad.message}` })
      continue
    }
    const text = normalizeText(r.text)
    const v = dedup.offer(text)
    if (v.kind === 'exact') {
      counts.exactDuplicates++
      continue
    }
    if (v.kind === 'near') {
      counts.nearDuplicates++
      continue
    }
    const sha256 = sha256Hex(text)
    const split = splitOfHash(r.group ? sha256Hex(r.group) : sha256, valFraction)
    out[split].push(JSON.stringify({ ...r.record, sha256 }))
    counts[split]++
  }
  if (counts.train + counts.val === 0) throw new Instruct3Error(`dataset "${o.name}" is empty after validation and dedup`, { code: 'EEMPTY', details: { file: join(o.outDir, o.name) } })
  const dir = join(o.outDir, o.name)
  await writeFileAtomic(join(dir, 'train.jsonl'), out.train.join('\n') + (out.train.length ? '\n' : ''))
  await writeFileAtomic(join(dir, 'val.jsonl'), out.val.join('\n') + (out.val.length ? '\n' : ''))
  const sheet: DatasetSheet = {
    name: o.name,
    description: o.description,
    sources: o.sources,
    schema: o.schema,
    counts,
    split: `sha256 of the normalised text (or of the group key) -> first 32 bits / 2^32 < ${valFraction} => val`,
    dedup: 'exact: sha256 of lower-cased whitespace-collapsed text; near: MinHash 64 x word 5-shingles, LSH 16x4, Jaccard >= 0.8; first copy kept',
    problems: problems.slice(0, 100),
    ...(o.notes ? { notes: o.notes } : {}),
  }
  await writeFileAtomic(join(dir, 'datasheet.json'), JSON.stringify(sheet, null, 2) + '\n')
  const md = [
    `# Datasheet: ${o.name}`, '', o.description, '',
    '## Sources', '', ...o.sources.map((s) => `- ${s.file} — ${s.upstream} (${s.license})`), '',
    '## Counts', '', ...Object.entries(counts).map(([k, v]) => `- ${k}: ${v}`), '',
    '## Schema', '', ...Object.entries(o.schema).map(([k, v]) => `- ${k}: ${v}`), '- sha256: string (of the normalised text)', '',
    `Split: ${sheet.split}.`, '', `Dedup: ${sheet.dedup}.`,
    ...(o.notes?.length ? ['', '## Notes', '', ...o.notes.map((n) => `- ${n}`)] : []),
    ...(sheet.problems.length ? ['', '## Rows skipped', '', ...sheet.problems.map((p) => `- ${p.file}:${p.line}: ${p.message}`)] : []),
  ].join('\n') + '\n'
  await writeFileAtomic(join(dir, 'datasheet.md'), md)
  return sheet
}
