/**
 * Task (c): name the SWC weakness in a vulnerable contract (closed label set, exact scoring).
 * Items are the SWC registry test cases with exactly one SWC id; the label set is the SWC ids and
 * titles present in entries.jsonl (held-out ids are absent and stay absent).
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { truncateText } from '../normalize.ts'
import { SOURCES, type RowProblem } from '../sources.ts'
import { splitForSourceDoc, type TaskItem, type TaskOptions } from './common.ts'

export type SwcLabel = { id: string; title: string }

/** "SWC-107 Reentrancy": the answer format of the task. */
export const formatSwc = (l: SwcLabel) => `${l.id} ${l.title}`

/**
 * Strip comments (they often name the weakness: "@vulnerable_at_lines", "<yes> <report>") and
 * blank runs, keeping the code. String literals with `//` inside are rare in these samples.
 */
export function stripSolidityComments(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{2,}/g, '\n')
    .trim()
}

const ID_RE = /SWC[-\s_]?(\d{3})(?!\d)/i

/**
 * Exact-match scorer: 1 when the response names the reference's SWC id (the first SWC id in the
 * response counts), else 0. A response without an id scores 1 only if it is exactly the title.
 */
export function scoreSwc(response: string, reference: string): 0 | 1 {
  const want = reference.match(ID_RE)
  const got = response.match(ID_RE)
  if (want && got) return want[1] === got[1] ? 1 : 0
  const norm = (s: string) => s.toLowerCase().replace(/swc[-\s_]?\d{3}/i, '').replace(/[^a-z0-9]+/g, ' ').trim()
  return norm(response) !== '' && norm(response) === norm(reference) ? 1 : 0
}

export async function swcLabels(dataDir: string): Promise<SwcLabel[]> {
  const out: SwcLabel[] = []
  for await (const r of readJsonl<Record<string, unknown>>(join(dataDir, 'swc-registry/entries.jsonl')))
    if (typeof r.value?.id === 'string' && typeof r.value.title === 'string') out.push({ id: r.value.id, title: r.value.title.trim() })
  return out.sort((a, b) => a.id.localeCompare(b.id))
}

export async function swcItems(dataDir: string, o: TaskOptions, onProblem: (p: RowProblem) => void): Promise<{ items: TaskItem[]; labels: SwcLabel[] }> {
  const labels = await swcLabels(dataDir)
  const byId = new Map(labels.map((l) => [l.id, l]))
  const spec = SOURCES.find((s) => s.name === 'swc-test-cases')!
  const file = join(dataDir, spec.file)
  const items: TaskItem[] = []
  const question = 'Which SWC weakness does this Solidity contract contain? Answer with the SWC id and title.\n\n'
  for await (const row of readJsonl<Record<string, unknown>>(file, { onError: (e) => onProblem({ file, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    const r = row.value
    const ids = Array.isArray(r?.swc_ids) ? (r.swc_ids as unknown[]).filter((x): x is string => typeof x === 'string') : []
    const files = Array.isArray(r?.files) ? (r.files as Array<Record<string, unknown>>) : []
    if (!r || typeof r.case !== 'string' || files.length === 0) {
      onProblem({ file, line: row.line, message: 'test case without case name or files: skipped' })
      continue
    }
    if (ids.length !== 1 || !byId.has(ids[0])) continue // multi-label cases do not fit exact scoring
    const code = files.map((f) => stripSolidityComments(String(f.source ?? ''))).join('\n')
    if (code.length < 20) continue
    const doc = spec.toDoc(r)
    if (!doc) continue
    items.push({
      id: `swc-naming:${r.case}`,
      task: 'swc-naming',
      prompt: question + truncateText(code, Math.max(80, o.maxChars - question.length), '\n…'),
      reference: formatSwc(byId.get(ids[0])!),
      split: splitForSourceDoc('swc-test-cases', doc, o),
    })
  }
  return { items, labels }
}
