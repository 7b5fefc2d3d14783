/**
 * `instruct3 ingest security`: SWC entries and test cases, hack incidents joined with their PoC
 * headers, and vulnerability guides, as datasets (schema, dedup, split, datasheet). Splits use the
 * corpus's keys (SWC test cases at the corpus's 0.25; an incident with its PoC file), so the three
 * views of the data agree on what is validation.
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { writeDataset, type DatasetRow, type DatasetSheet } from '../dataset.ts'
import { renderIncident, SOURCES, type RowProblem } from '../sources.ts'

async function rows(dataDir: string, file: string, problems: RowProblem[]) {
  const f = join(dataDir, file)
  const out: Array<{ r: Record<string, unknown>; where: { file: string; line: number } }> = []
  for await (const x of readJsonl<Record<string, unknown>>(f, { onError: (e) => problems.push({ file: f, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    if (!x.value || typeof x.value !== 'object' || Array.isArray(x.value)) problems.push({ file: f, line: x.line, message: 'row is not a JSON object' })
    else out.push({ r: x.value, where: { file: f, line: x.line } })
  }
  return out
}
const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v))
const spec = (n: string) => SOURCES.find((s) => s.name === n)!
const src = (n: string) => ({ file: spec(n).file, upstream: spec(n).upstream, license: spec(n).license })

export async function buildSecurity(o: { dataDir: string; outDir: string; valFraction?: number }): Promise<DatasetSheet[]> {
  const sheets: DatasetSheet[] = []
  // SWC entries
  let p: RowProblem[] = []
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'swc-entries', description: 'Smart Contract Weakness Classification registry entries (no longer maintained upstream since 2020).',
    sources: [src('swc-entries')], problems: p, valFraction: o.valFraction,
    schema: { id: 'string', title: 'string', description: 'string', remediation: 'string?', relationships: 'string?', references: 'string?' },
    rows: (await rows(o.dataDir, 'swc-registry/entries.jsonl', p)).map(({ r, where }): DatasetRow => ({
      record: { id: r.id, title: r.title, description: r.description, remediation: str(r.remediation), relationships: str(r.relationships), references: str(r.references), samples: r.samples },
      text: `${str(r.id)} ${str(r.title)}\n${str(r.description)}`, where,
    })),
  }))
  // SWC test cases
  p = []
  const tc = spec('swc-test-cases')
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'swc-test-cases', description: 'Labelled vulnerable Solidity samples from the SWC registry test cases (text only; compiled artefacts left out upstream).',
    sources: [src('swc-test-cases')], problems: p, valFraction: tc.valFraction,
    schema: { case: 'string', category: 'string', swc_ids: 'string[]', description: 'string?', files: 'array' },
    rows: (await rows(o.dataDir, tc.file, p)).map(({ r, where }): DatasetRow => {
      let text = ''
      try {
        text = tc.toDoc(r)!.text
      } catch {}
      return { record: { case: r.case, category: r.category, swc_ids: r.swc_ids, description: str(r.description), annotations: r.annotations, files: r.files }, text, where }
    }),
  }))
  // Incidents + PoCs
  p = []
  const pocs = new Map<string, Record<string, unknown>>()
  for (const { r } of await rows(o.dataDir, 'defihacklabs/pocs.jsonl.gz', p)) if (typeof r.poc_path === 'string') pocs.set(r.poc_path, r)
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'incidents', description: 'DeFiHackLabs incidents (date, root-cause label, loss, chain, addresses) joined with their PoC header and source.',
    sources: [src('dhl-incidents'), src('dhl-pocs')], problems: p, valFraction: o.valFraction,
    schema: { id: 'string', date: 'string', name: 'string', root_cause: 'string', lost: 'string?', chain: 'string?', poc_path: 'string?', header_comment: 'string?', poc_source: 'string?' },
    notes: ['root_cause is the README title label (free text, mixed case: "Business Logic Flaw", "business logic flaw").', 'PoC files mostly carry SPDX UNLICENSED (Foundry template default); the repository is Apache-2.0.', 'About 10% of incidents are held out upstream with their PoCs; related incidents stay on one side.'],
    rows: (await rows(o.dataDir, spec('dhl-incidents').file, p)).map(({ r, where }): DatasetRow => {
      const poc = typeof r.poc_path === 'string' ? pocs.get(r.poc_path) : undefined
      return {
        record: { id: r.id, date: r.date, name: r.name, root_cause: r.title, lost: str(r.lost), chain: str(r.chain), poc_path: str(r.poc_path), header_comment: str(r.header_comment), attacker: str(r.attacker), vulnerable_contract: str(r.vulnerable_contract), tx_hashes: r.tx_hashes ?? null, spdx: str(poc?.spdx ?? r.spdx), poc_source: str(poc?.source) },
        text: renderIncident(r), group: r.poc_path ? `poc:${str(r.poc_path)}` : `incident:${str(r.id)}`, where,
      }
    }),
  }))
  // Vulnerability guides
  p = []
  const guideRows: DatasetRow[] = []
  for (const n of ['vuln-kadenzipfel', 'vuln-not-so-smart', 'vuln-smartbugs', 'vuln-smartbugs-categories']) {
    const s = spec(n)
    for (const { r, where } of await rows(o.dataDir, s.file, p)) {
      let doc
      try {
        doc = s.toDoc(r)
      } catch {
        doc = null
      }
      guideRows.push({ record: { id: doc?.id ?? str(r.id), source: n, license: s.license, title: doc?.title ?? null, category: str(r.category ?? r.section), text: doc?.text ?? null, vulnerabilities: r.vulnerabilities ?? null }, text: doc?.text ?? '', where })
    }
  }
  sheets.push(await writeDataset({
    outDir: o.outDir, name: 'vuln-guides', description: 'Vulnerability explainers and annotated vulnerable contracts (kadenzipfel, not-so-smart-contracts, smartbugs-curated).',
    sources: ['vuln-kadenzipfel', 'vuln-not-so-smart', 'vuln-smartbugs', 'vuln-smartbugs-categories'].map(src), problems: p, valFraction: o.valFraction,
    schema: { id: 'string', source: 'string', license: 'string', title: 'string?', text: 'string' },
    notes: ['smartbugs-curated samples are widely copied Solidity 0.4 code: low weight, not for evaluation.'],
    rows: guideRows,
  }))
  return sheets
}
