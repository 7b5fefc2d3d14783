/**
 * Task (b): summarise an EIP/ERC or a DAO proposal in one sentence.
 * EIPs: the reference is the front-matter `description`; the prompt holds the title and the Abstract.
 * DAO proposals: the reference is the proposal's own one-line summary (Simple/Sentence Summary
 * section, or Aave's short description); the prompt holds the title and the Abstract/Motivation
 * (never the summary section itself).
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { normalizeText, truncateText } from '../normalize.ts'
import { SOURCES, type RowProblem } from '../sources.ts'
import { clipAnswer, firstParagraph, section, splitForSourceDoc, type TaskItem, type TaskOptions } from './common.ts'

const str = (v: unknown) => (typeof v === 'string' ? v : '')
const SUMMARY_HEADS = ['simple summary', 'sentence summary', 'summary', 'tl;dr', 'tldr']
const CONTEXT_HEADS = ['abstract', 'paragraph summary', 'motivation', 'overview', 'introduction', 'specification']

function strip(md: string): string {
  // Drop code blocks, tables, images and link targets: they fill a small context with little meaning.
  return normalizeText(
    md
      .replace(/```[\s\S]*?```/g, '')
      .replace(/^\|.*$/gm, '')
      .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, ''),
  )
}

function makePrompt(kind: string, title: string, context: string, o: TaskOptions): string {
  const head = `Summarise this ${kind} in one sentence.\n\nTitle: ${title}\n`
  const budget = o.maxChars - head.length - 1
  return head + '\n' + truncateText(context, Math.max(40, budget))
}

export async function summarizeItems(dataDir: string, o: TaskOptions, onProblem: (p: RowProblem) => void): Promise<TaskItem[]> {
  const items: TaskItem[] = []
  for (const spec of SOURCES.filter((s) => s.name === 'eips' || s.name.startsWith('dao-'))) {
    const file = join(dataDir, spec.file)
    for await (const row of readJsonl<Record<string, unknown>>(file, { onError: (e) => onProblem({ file, line: e.details.line ?? 0, message: e.shortMessage }) })) {
      const r = row.value
      const body = str(r?.body)
      if (!r || !str(r.id) || !body) {
        onProblem({ file, line: row.line, message: 'proposal without id or body: skipped' })
        continue
      }
      let reference: string | undefined
      let context: string | undefined
      const title = str(r.title).trim()
      if (spec.name === 'eips') {
        reference = str(r.description).trim() || undefined
        context = section(body, ['abstract']) ?? body
      } else {
        const summary = section(body, SUMMARY_HEADS)
        reference = summary ? firstParagraph(strip(summary)) : str(r.short_description).trim() || undefined
        context = section(body, CONTEXT_HEADS)
      }
      if (!reference || !context || reference.length < 15) continue // no honest reference or nothing to summarise
      const ctx = strip(context)
      if (ctx.length < 80 || ctx.includes(reference)) continue // too little to summarise, or the answer is in the prompt verbatim
      const doc = spec.toDoc(r)
      if (!doc) continue
      const kind = spec.name === 'eips' ? (str(r.id).startsWith('erc') ? 'ERC' : 'EIP') : `${str(r.dao) || 'DAO'} governance proposal`
      items.push({
        id: `summarize-proposal:${str(r.id)}`,
        task: 'summarize-proposal',
        prompt: makePrompt(kind, spec.name === 'eips' ? `${str(r.id).toUpperCase()}: ${title}` : title, ctx, o),
        reference: clipAnswer(reference, o.maxAnswerChars),
        split: splitForSourceDoc(spec.name, doc, o),
      })
    }
  }
  return items
}
