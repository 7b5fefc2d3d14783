/**
 * Task (a): the root cause of an exploit, from its DeFiHackLabs incident record and PoC header.
 * The reference is the incident's root-cause label (the README's `title`, e.g. "Price Manipulation").
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { truncateText } from '../normalize.ts'
import { SOURCES, type RowProblem } from '../sources.ts'
import { clipAnswer, splitForSourceDoc, type TaskItem, type TaskOptions } from './common.ts'

const str = (v: unknown) => (typeof v === 'string' ? v : '')

/**
 * PoC header comment without the lines that are only addresses, hashes or links: they cost most
 * of a small context and say nothing a small model can use.
 */
export function headerExcerpt(header: string): string {
  return header
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^@\w+:?$/.test(l) && !/0x[0-9a-fA-F]{40}/.test(l) && !/https?:\/\//.test(l) && !/^@KeyInfo/i.test(l))
    .join('\n')
}

/** The first lines of PoC code after the license, pragma and import lines (used when there is no header). */
export function pocExcerpt(source: string): string {
  return source
    .split('\n')
    .filter((l) => !/^\s*(\/\/\s*SPDX|pragma |import )/.test(l))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

export async function rootCauseItems(dataDir: string, o: TaskOptions, onProblem: (p: RowProblem) => void): Promise<TaskItem[]> {
  const pocs = new Map<string, string>()
  const pocFile = join(dataDir, 'defihacklabs/pocs.jsonl.gz')
  for await (const r of readJsonl<Record<string, unknown>>(pocFile, { onError: (e) => onProblem({ file: pocFile, line: e.details.line ?? 0, message: e.shortMessage }) }))
    if (typeof r.value?.poc_path === 'string' && typeof r.value.source === 'string') pocs.set(r.value.poc_path, r.value.source)
  const spec = SOURCES.find((s) => s.name === 'dhl-incidents')!
  const file = join(dataDir, spec.file)
  const items: TaskItem[] = []
  for await (const row of readJsonl<Record<string, unknown>>(file, { onError: (e) => onProblem({ file, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    const r = row.value
    const label = str(r?.title).trim()
    if (!r || !str(r.id) || !label) {
      onProblem({ file, line: row.line, message: 'incident without id or root-cause title: skipped' })
      continue
    }
    const doc = spec.toDoc(r)
    if (!doc) continue
    const head = `Exploit: ${str(r.name)} (${str(r.date)}${r.chain ? ', chain ' + str(r.chain) : ''})${r.lost ? '. Lost: ' + str(r.lost) : ''}.`
    let detail = headerExcerpt(str(r.header_comment))
    if (detail.length < 40) detail = pocExcerpt(pocs.get(str(r.poc_path)) ?? '')
    const question = '\n\nWhat was the root cause of this exploit?'
    const budget = Math.max(0, o.maxChars - head.length - question.length - 2)
    const body = detail && budget > 40 ? '\n' + truncateText(detail, budget) : ''
    items.push({
      id: `exploit-root-cause:${str(r.id)}`,
      task: 'exploit-root-cause',
      prompt: head + body + question,
      reference: clipAnswer(label, o.maxAnswerChars),
      split: splitForSourceDoc('dhl-incidents', doc, o),
    })
  }
  return items
}
