/**
 * Shared pieces of the web3 tasks: the item type, markdown section extraction, and the honest
 * synthetic comparisons (marked `synthetic: true`) built from an item's reference answer.
 */
import { sha256Hex, type Split } from '../hash.ts'
import { normalizeText, truncateText } from '../normalize.ts'
import { SOURCES, type SourceDoc } from '../sources.ts'
import { docSplit } from '../corpus.ts'
import type { Comparison, Demonstration, PromptRecord } from '../formats.ts'
import { mulberry32 } from '../../util/rng.ts'

export type TaskName = 'exploit-root-cause' | 'summarize-proposal' | 'swc-naming' | 'explain-transaction'

export type TaskItem = { id: string; task: TaskName; prompt: string; reference: string; split: Split }

export type TaskOptions = {
  /** Longest prompt in characters (the demo model has a 256-512 token context). */
  maxChars: number
  /** Longest reference answer in characters. */
  maxAnswerChars: number
  valFraction: number
  /** Split of each corpus document id (from collectCorpus), so task val items are corpus val items. */
  splitById?: Map<string, 'train' | 'val'>
}

export const DEFAULT_TASK_OPTIONS: TaskOptions = { maxChars: 640, maxAnswerChars: 200, valFraction: 0.05 }

/**
 * The split of the corpus document a task item came from. With the corpus's map this includes the
 * dedup inheritance; without it, the same rule recomputed for this one document.
 */
export function splitForSourceDoc(sourceName: string, doc: SourceDoc, o: TaskOptions): Split {
  const known = o.splitById?.get(doc.id)
  if (known) return known
  const spec = SOURCES.find((s) => s.name === sourceName)
  return docSplit(doc, sha256Hex(normalizeText(doc.text)), spec?.valFraction ?? o.valFraction)
}

/** Find a markdown section by heading name (any level); returns its text without the heading. */
export function section(md: string, names: string[]): string | undefined {
  const re = /^(#{1,6})[ \t]+(.+?)[ \t]*#*$/gm
  const heads: Array<{ level: number; name: string; start: number; end: number }> = []
  for (const m of md.matchAll(re)) heads.push({ level: m[1].length, name: m[2].trim().toLowerCase(), start: m.index, end: m.index + m[0].length })
  for (const want of names) {
    const i = heads.findIndex((h) => h.name.replace(/[*_`:]/g, '').trim() === want.toLowerCase())
    if (i < 0) continue
    const h = heads[i]
    const next = heads.slice(i + 1).find((n) => n.level <= h.level)
    const text = md.slice(h.end, next ? next.start : md.length).trim()
    if (text) return text
  }
  return undefined
}

/** First paragraph of a markdown text, de-marked lightly (for short reference answers). */
export function firstParagraph(md: string): string {
  const para = md.split(/\n\s*\n/).map((p) => p.trim()).find((p) => p && !p.startsWith('```') && !p.startsWith('|')) ?? ''
  return para.replace(/\s*\n\s*/g, ' ').replace(/\*\*|__|`/g, '').trim()
}

/** Small deterministic PRNG (mulberry32) seeded from a string. */
export function rngFrom(seed: string): () => number {
  return mulberry32(parseInt(sha256Hex(seed).slice(0, 8), 16))
}

export function clipAnswer(text: string, maxChars: number): string {
  return truncateText(text.trim(), maxChars, '…')
}

/**
 * Synthetic comparisons for one item, ranked by construction (never by a person): the item's own
 * reference (rank 0) beats every wrong answer, and the wrong answers tie (rank 1): the reference cut to
 * its first half (answers of 6+ words), another item's reference from the same task and split (fluent
 * but wrong), and the reference's words shuffled (garbled).
 *
 * The wrong answers tie on purpose. Ranking the half answer above the other wrong ones (as a first
 * version did) hands a reward model that cannot yet match answers to prompts a shortcut: "half-length
 * text" wins two pairs and loses one, while "a complete reference", right or wrong, wins and loses
 * about equally, so small models learned to prefer truncated answers to the right one (held-out
 * reference > truncated accuracy 0.25).
 */
export function syntheticComparison(item: TaskItem, pool: TaskItem[]): Comparison | null {
  const rnd = rngFrom(`cmp:${item.id}`)
  const good = item.reference
  const responses: string[] = [good]
  const origins: string[] = ['reference']
  const words = good.split(/\s+/)
  if (words.length >= 6) {
    responses.push(words.slice(0, Math.ceil(words.length / 2)).join(' '))
    origins.push('truncated')
  }
  const others = pool.filter((p) => p.task === item.task && p.split === item.split && p.reference !== good)
  if (others.length) {
    responses.push(others[Math.floor(rnd() * others.length)].reference)
    origins.push('other-item')
  }
  if (words.length >= 2) {
    const shuffled = [...words]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
    }
    const s = shuffled.join(' ')
    if (s !== good) {
      responses.push(s)
      origins.push('shuffled')
    }
  }
  // Distinct responses only (a duplicate with a different rank would contradict itself).
  if (new Set(responses).size !== responses.length || responses.length < 2) return null
  const ranking = responses.map((_, i) => (i === 0 ? 0 : 1))
  return { id: `cmp:${item.id}`, prompt: item.prompt, responses, ranking, synthetic: true, task: item.task, origins }
}

export const toPrompt = (i: TaskItem): PromptRecord => ({ id: i.id, prompt: i.prompt, task: i.task, reference: i.reference })
export const toDemonstration = (i: TaskItem): Demonstration => ({ id: `demo:${i.id}`, prompt: i.prompt, response: i.reference, task: i.task })
