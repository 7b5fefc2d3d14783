/**
 * EIP/ERC markdown (an ethereum/EIPs or ethereum/ERCs checkout) into records with the same fields
 * as ../shared/data/eips/eips.jsonl.gz. Malformed files are reported with file:line and skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Instruct3Error } from '../../util/errors.ts'
import type { RowProblem } from '../sources.ts'
import { parseFrontMatter } from './frontmatter.ts'

export type EipRecord = {
  id: string
  number: number
  repo: string | null
  path: string
  title: string
  description: string | null
  author: string | null
  status: string
  type: string | null
  category: string | null
  created: string | null
  requires: string | null
  discussions_to: string | null
  frontmatter: Record<string, string>
  body: string
}

/** Parse one EIP/ERC markdown file; `path` decides the id prefix (ERCS/ -> erc-N, else eip-N). */
export function parseEipMarkdown(text: string, path: string, repo: string | null = null): EipRecord {
  const fm = parseFrontMatter(text, path)
  const d = fm.data
  const raw = d.eip ?? d.erc
  const number = Number(raw)
  if (raw === undefined || !Number.isInteger(number) || number < 0) throw new Instruct3Error('front matter needs an integer "eip"', { code: 'EMARKDOWN', details: { file: path, line: 2, field: 'eip' } })
  for (const k of ['title', 'status'] as const) if (!d[k]) throw new Instruct3Error('missing required front matter field', { code: 'EMARKDOWN', details: { file: path, line: 2, field: k } })
  if (!fm.body.trim()) throw new Instruct3Error('empty body', { code: 'EMARKDOWN', details: { file: path, line: fm.bodyLine } })
  const isErc = /(^|\/)ERCS\//i.test(path) || d.category === 'ERC' && /ERCs/i.test(repo ?? '')
  const opt = (k: string) => (d[k] === undefined || d[k] === '' ? null : d[k])
  return {
    id: `${isErc ? 'erc' : 'eip'}-${number}`,
    number,
    repo,
    path,
    title: d.title,
    description: opt('description'),
    author: opt('author'),
    status: d.status,
    type: opt('type'),
    category: opt('category'),
    created: opt('created'),
    requires: opt('requires'),
    discussions_to: opt('discussions-to'),
    frontmatter: d,
    body: fm.body,
  }
}

/** Read every eip-*.md / erc-*.md under `dir` (sorted paths, deterministic). */
export function readEipDir(dir: string, onProblem: (p: RowProblem) => void, repo: string | null = null): EipRecord[] {
  const files: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (/^(eip|erc)-\d+\.md$/i.test(name)) files.push(p)
    }
  }
  walk(dir)
  const out: EipRecord[] = []
  for (const f of files) {
    try {
      out.push(parseEipMarkdown(readFileSync(f, 'utf8'), relative(dir, f), repo))
    } catch (err) {
      if (!(err instanceof Instruct3Error)) throw err
      onProblem({ file: f, line: err.details.line ?? 0, message: (err.details.field ? `field "${err.details.field}": ` : '') + err.shortMessage })
    }
  }
  return out
}
