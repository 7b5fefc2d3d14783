/**
 * Readers that turn the public data in ../shared/data into corpus documents
 * {id, source, license, title, text}. One entry per upstream file; each reader streams its rows,
 * and a row that is not JSON or lacks the text field is reported with file:line and skipped.
 */
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { readJsonl } from '../util/jsonl.ts'
import { Instruct3Error } from '../util/errors.ts'

export type SourceDoc = {
  id: string
  source: string
  license: string
  title: string
  text: string
  /**
   * Optional split-group key: documents with the same group land on the same side of the
   * train/val split (an incident and its PoC file). Without it the content hash decides.
   */
  group?: string
}

export type SourceSpec = {
  name: string
  /** Path relative to the shared data dir. */
  file: string
  license: string
  upstream: string
  note?: string
  /** Per-source validation fraction (overrides the corpus default), e.g. more val items for a small eval task. */
  valFraction?: number
  toDoc(row: Record<string, unknown>): SourceDoc | null
}

export type RowProblem = { file: string; line: number; message: string }

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v))
const heading = (title: string, body: string) => (title && !body.trimStart().startsWith('# ') ? `# ${title}\n\n${body}` : body)
function need(row: Record<string, unknown>, field: string): string {
  const v = row[field]
  if (typeof v !== 'string' || v.trim() === '') throw new Instruct3Error('missing or empty text field', { details: { field } })
  return v
}

export const SOURCES: SourceSpec[] = [
  {
    name: 'eips',
    file: 'eips/eips.jsonl.gz',
    license: 'CC0-1.0',
    upstream: 'ethereum/EIPs@f767a1e8 + ethereum/ERCs@9c718c7c',
    toDoc: (r) => {
      const id = need(r, 'id')
      const title = `${id.toUpperCase()}: ${str(r.title)}`
      const desc = str(r.description)
      return { id, source: 'eips', license: 'CC0-1.0', title, text: `# ${title}\n\n${desc ? desc + '\n\n' : ''}${need(r, 'body')}` }
    },
  },
  ...(
    [
      ['dao-synthetix', 'dao-governance/synthetix-sips.jsonl.gz', 'CC0-1.0', 'Synthetixio/SIPs@3dd3cfd1'],
      ['dao-aave', 'dao-governance/aave-aips.jsonl.gz', 'CC0-1.0', 'aave/aip@fd806ec6'],
      ['dao-makerdao', 'dao-governance/makerdao-mips.jsonl.gz', 'MIT', 'makerdao/mips@d4b21bef'],
      ['dao-yearn', 'dao-governance/yearn-yips.jsonl.gz', 'MIT', 'yearn/yearn-devdocs@ffa888fa (YIPs)'],
    ] as const
  ).map(([name, file, license, upstream]): SourceSpec => ({
    name,
    file,
    license,
    upstream,
    toDoc: (r) => ({ id: need(r, 'id'), source: name, license, title: str(r.title), text: heading(str(r.title), need(r, 'body')) }),
  })),
  ...(
    [
      ['defi-uniswap-docs', 'defi-docs/uniswap-docs.jsonl.gz', 'Uniswap/docs@8c5d09e2'],
      ['defi-yearn-docs', 'defi-docs/yearn-devdocs.jsonl.gz', 'yearn/yearn-devdocs@ffa888fa'],
    ] as const
  ).map(([name, file, upstream]): SourceSpec => ({
    name,
    file,
    license: 'MIT',
    upstream,
    toDoc: (r) => ({ id: need(r, 'id'), source: name, license: 'MIT', title: str(r.title), text: heading(str(r.title), need(r, 'text')) }),
  })),
  {
    name: 'dhl-incidents',
    file: 'defihacklabs/incidents.jsonl',
    license: 'Apache-2.0',
    upstream: 'SunWeb3Sec/DeFiHackLabs@b3719ce7',
    toDoc: (r) => ({
      id: need(r, 'id'),
      source: 'dhl-incidents',
      license: 'Apache-2.0',
      title: `${str(r.date)} ${str(r.name)}`,
      text: renderIncident(r),
      group: r.poc_path ? `poc:${str(r.poc_path)}` : `incident:${str(r.id)}`,
    }),
  },
  {
    name: 'dhl-pocs',
    file: 'defihacklabs/pocs.jsonl.gz',
    license: 'Apache-2.0',
    upstream: 'SunWeb3Sec/DeFiHackLabs@b3719ce7',
    note: 'repository Apache-2.0; most PoC files carry an SPDX UNLICENSED header (likely the Foundry template default)',
    toDoc: (r) => ({
      id: need(r, 'poc_path'),
      source: 'dhl-pocs',
      license: 'Apache-2.0',
      title: str(r.poc_path),
      text: need(r, 'source'),
      group: `poc:${str(r.poc_path)}`,
    }),
  },
  {
    name: 'dhl-academy',
    file: 'defihacklabs/academy_en.jsonl',
    license: 'Apache-2.0',
    upstream: 'SunWeb3Sec/DeFiHackLabs@b3719ce7',
    toDoc: (r) => ({ id: need(r, 'path'), source: 'dhl-academy', license: 'Apache-2.0', title: str(r.title), text: need(r, 'text') }),
  },
  {
    name: 'swc-entries',
    file: 'swc-registry/entries.jsonl',
    license: 'MIT',
    upstream: 'SmartContractSecurity/SWC-registry@1b622707',
    note: 'the registry samples (code labelled with its SWC id) are left out so the SWC-naming evaluation cannot be learned from pretraining text',
    toDoc: (r) => {
      const text = `# ${need(r, 'id')}: ${str(r.title)}\n\n## Description\n\n${str(r.description)}\n\n## Remediation\n\n${str(r.remediation)}`
      return { id: str(r.id), source: 'swc-entries', license: 'MIT', title: `${str(r.id)} ${str(r.title)}`, text }
    },
  },
  {
    name: 'swc-test-cases',
    file: 'swc-registry/test_cases.jsonl',
    license: 'MIT',
    upstream: 'SmartContractSecurity/SWC-registry@52031608^',
    valFraction: 0.25, // 112 cases: 5% would leave ~5 for the SWC-naming evaluation
    toDoc: (r) => {
      const files = Array.isArray(r.files) ? (r.files as Array<Record<string, unknown>>) : []
      const text = files.map((f) => `// file: ${str(f.file)}\n${str(f.source)}`).join('\n\n')
      if (!text.trim()) throw new Instruct3Error('test case without source files', { details: { field: 'files' } })
      return { id: `swc-case:${need(r, 'case')}`, source: 'swc-test-cases', license: 'MIT', title: str(r.case), text }
    },
  },
  {
    name: 'vuln-kadenzipfel',
    file: 'vuln-guides/kadenzipfel-smart-contract-vulnerabilities.jsonl',
    license: 'MIT',
    upstream: 'kadenzipfel/smart-contract-vulnerabilities@c3f75317',
    toDoc: (r) => ({ id: need(r, 'id'), source: 'vuln-kadenzipfel', license: 'MIT', title: str(r.title), text: need(r, 'text') }),
  },
  {
    name: 'vuln-not-so-smart',
    file: 'vuln-guides/not-so-smart-contracts.jsonl',
    license: 'Apache-2.0',
    upstream: 'crytic/not-so-smart-contracts@020dbdbd',
    toDoc: (r) => {
      const files = Array.isArray(r.files) ? (r.files as Array<Record<string, unknown>>) : []
      const text = files.map((f) => (str(f.kind) === 'markdown' ? str(f.text) : `// file: ${str(f.path)}\n${str(f.text)}`)).join('\n\n')
      if (!text.trim()) throw new Instruct3Error('category without files', { details: { field: 'files' } })
      return { id: need(r, 'id'), source: 'vuln-not-so-smart', license: 'Apache-2.0', title: str(r.category), text }
    },
  },
  {
    name: 'vuln-smartbugs',
    file: 'vuln-guides/smartbugs-curated.jsonl',
    license: 'Apache-2.0',
    upstream: 'smartbugs/smartbugs-curated@230e6491',
    note: 'widely copied Solidity 0.4 samples; near-duplicates of SWC test cases are removed by dedup',
    toDoc: (r) => ({ id: need(r, 'id'), source: 'vuln-smartbugs', license: 'Apache-2.0', title: str(r.name), text: need(r, 'source') }),
  },
  {
    name: 'vuln-smartbugs-categories',
    file: 'vuln-guides/smartbugs-curated-categories.jsonl',
    license: 'Apache-2.0',
    upstream: 'smartbugs/smartbugs-curated@230e6491',
    toDoc: (r) => ({ id: `smartbugs-category:${need(r, 'category')}`, source: 'vuln-smartbugs-categories', license: 'Apache-2.0', title: str(r.category), text: need(r, 'text') }),
  },
]

/** A hack incident as compact prose: the record's fields plus the PoC author's header comment. */
export function renderIncident(r: Record<string, unknown>): string {
  const lines = [`# ${str(r.date)} ${str(r.name)}`, '', `Root cause: ${str(r.title)}`]
  if (r.lost) lines.push(`Lost: ${str(r.lost)}`)
  if (r.chain) lines.push(`Chain: ${str(r.chain)}`)
  if (r.vulnerable_contract) lines.push(`Vulnerable contract: ${str(r.vulnerable_contract)}`)
  const h = str(r.header_comment).trim()
  if (h) lines.push('', h)
  return lines.join('\n')
}

/**
 * Stream the documents of one source. Bad rows (not JSON, not an object, missing text) are passed
 * to `onProblem` with file:line and skipped; a missing file is an error.
 */
export async function* readSource(spec: SourceSpec, dataDir: string, onProblem: (p: RowProblem) => void): AsyncGenerator<SourceDoc> {
  const file = join(dataDir, spec.file)
  if (!existsSync(file)) throw new Instruct3Error(`source "${spec.name}" not found`, { code: 'ENOENT', details: { file } })
  for await (const row of readJsonl<unknown>(file, { onError: (e) => onProblem({ file, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    const v = row.value
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      onProblem({ file, line: row.line, message: 'row is not a JSON object' })
      continue
    }
    try {
      const doc = spec.toDoc(v as Record<string, unknown>)
      if (doc) yield doc
    } catch (err) {
      if (!(err instanceof Instruct3Error)) throw err
      const field = err.details.field ? `field "${err.details.field}": ` : ''
      onProblem({ file, line: row.line, message: field + err.shortMessage })
    }
  }
}
