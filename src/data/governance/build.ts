/**
 * `instruct3 ingest governance`: EIPs/ERCs and DAO proposals as datasets (schema, dedup, split,
 * datasheet). EIPs come from an EIPs/ERCs checkout's markdown (--eips-dir) or from the shared
 * JSONL; DAO proposals from the four sources in ../shared/data/dao-governance.
 * Each row's content hash is taken over the same text the corpus uses, so a proposal is on the
 * same side of the split here, in the corpus and in the summarisation task.
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { writeDataset, type DatasetRow, type DatasetSheet } from '../dataset.ts'
import { SOURCES, type RowProblem } from '../sources.ts'
import { readEipDir, type EipRecord } from './eips.ts'

export type Outcome = 'accepted' | 'rejected' | 'withdrawn' | 'pending' | 'other'

/** Map the many status vocabularies (EIP, SIP, AIP, MIP, YIP) onto one outcome label. */
export function outcomeOf(status: string | null | undefined): Outcome {
  const s = (status ?? '').toLowerCase()
  if (/implemented|accepted|passed|final|approved|executed|ratified|living|active|enacted/.test(s)) return 'accepted'
  if (/rejected|failed|declined|obsolete|vetoed/.test(s)) return 'rejected'
  if (/withdrawn|abandoned|stagnant|cancel/.test(s)) return 'withdrawn'
  if (/draft|review|proposed|feedback|last call|pending|rfc|request for comments|formal submission|vote|open/.test(s)) return 'pending'
  return 'other'
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v))

async function readRows(dataDir: string, file: string, problems: RowProblem[]) {
  const f = join(dataDir, file)
  const rows: Array<{ value: Record<string, unknown>; line: number }> = []
  for await (const r of readJsonl<Record<string, unknown>>(f, { onError: (e) => problems.push({ file: f, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    if (!r.value || typeof r.value !== 'object' || Array.isArray(r.value)) problems.push({ file: f, line: r.line, message: 'row is not a JSON object' })
    else rows.push({ value: r.value, line: r.line })
  }
  return { file: f, rows }
}

export async function buildGovernance(o: { dataDir: string; outDir: string; eipsDir?: string; valFraction?: number }): Promise<DatasetSheet[]> {
  const sheets: DatasetSheet[] = []
  const eipSpec = SOURCES.find((s) => s.name === 'eips')!
  // EIPs
  const eipProblems: RowProblem[] = []
  let eipRows: DatasetRow[]
  let eipSource: DatasetSheet['sources']
  if (o.eipsDir) {
    const recs: EipRecord[] = readEipDir(o.eipsDir, (p) => eipProblems.push(p))
    eipRows = recs.map((r) => ({ record: { ...r, outcome: outcomeOf(r.status) }, text: eipSpec.toDoc(r as unknown as Record<string, unknown>)!.text, where: { file: join(o.eipsDir!, r.path), line: 1 } }))
    eipSource = [{ file: o.eipsDir, upstream: 'EIPs/ERCs markdown checkout', license: 'CC0-1.0' }]
  } else {
    const { file, rows } = await readRows(o.dataDir, eipSpec.file, eipProblems)
    eipRows = rows.map(({ value: r, line }) => ({
      record: { id: r.id, number: Number(r.number), repo: str(r.repo), path: r.path, title: r.title, description: str(r.description), author: str(r.author), status: r.status, type: str(r.type), category: str(r.category), created: str(r.created), requires: str(r.requires), discussions_to: str(r.discussions_to), body: r.body, outcome: outcomeOf(str(r.status)) },
      text: typeof r.body === 'string' ? eipSpec.toDoc(r)!.text : '',
      where: { file, line },
    }))
    eipSource = [{ file: eipSpec.file, upstream: eipSpec.upstream, license: eipSpec.license }]
  }
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'eips', description: 'Ethereum Improvement Proposals and ERCs with parsed front matter and a normalised outcome label.',
    sources: eipSource, rows: eipRows, problems: eipProblems, valFraction: o.valFraction,
    schema: { id: 'string', number: 'number', path: 'string', title: 'string', description: 'string?', author: 'string?', status: 'string', type: 'string?', category: 'string?', created: 'string?', body: 'string', outcome: 'string' },
    notes: ['About 10% of EIP numbers are held out upstream of this data; gaps are intentional.'],
  }))
  // DAO proposals
  const daoProblems: RowProblem[] = []
  const daoRows: DatasetRow[] = []
  const daoSources: DatasetSheet['sources'] = []
  for (const spec of SOURCES.filter((s) => s.name.startsWith('dao-'))) {
    const { file, rows } = await readRows(o.dataDir, spec.file, daoProblems)
    daoSources.push({ file: spec.file, upstream: spec.upstream, license: spec.license })
    for (const { value: r, line } of rows) {
      const meta = (r.metadata && typeof r.metadata === 'object' ? r.metadata : {}) as Record<string, unknown>
      const pre = (r.preamble && typeof r.preamble === 'object' ? r.preamble : {}) as Record<string, unknown>
      const status = str(meta.Outcome) ?? str(r.status)
      daoRows.push({
        record: {
          id: r.id, dao: r.dao, kind: r.kind, title: r.title, status: str(r.status), outcome: outcomeOf(status),
          created: str(r.created) ?? str(r.date_proposed) ?? str(pre['Date Proposed']), author: str(r.author) ?? str(pre.Author),
          path: r.path, body: r.body, source: spec.name, license: spec.license,
        },
        text: typeof r.body === 'string' && typeof r.id === 'string' ? spec.toDoc(r)!.text : '',
        where: { file, line },
      })
    }
  }
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'dao-proposals', description: 'DAO governance proposals (Synthetix SIPs/SCCPs, Aave AIPs, MakerDAO MIPs, Yearn YIPs) with a normalised outcome label.',
    sources: daoSources, rows: daoRows, problems: daoProblems, valFraction: o.valFraction,
    schema: { id: 'string', dao: 'string', kind: 'string', title: 'string', status: 'string?', outcome: 'string', created: 'string?', author: 'string?', path: 'string', body: 'string', source: 'string', license: 'string' },
    notes: ['outcome: accepted | rejected | withdrawn | pending | other, mapped from each DAO\'s status vocabulary (Yearn: the Outcome row of the page table).', 'About 10% of each governance source is held out upstream of this data.'],
  }))
  return sheets
}
