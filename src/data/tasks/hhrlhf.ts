/**
 * Anthropic HH-RLHF (harmless-base test slice) as comparisons: the prompt is the dialogue up to the
 * last "Assistant:" turn, the two responses are the two last Assistant turns (chosen ranked 0).
 * Split by the hash of the first Human turn, so no first prompt appears on both sides
 * (the same grouping upstream used for its own held-out slice).
 */
import { join } from 'node:path'
import { readJsonl } from '../../util/jsonl.ts'
import { splitOf, type Split } from '../hash.ts'
import type { Comparison } from '../formats.ts'
import type { RowProblem } from '../sources.ts'

const MARK = '\n\nAssistant:'

export function splitDialogue(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } | null {
  const a = chosen.lastIndexOf(MARK)
  const b = rejected.lastIndexOf(MARK)
  if (a < 0 || b < 0) return null
  const prompt = chosen.slice(0, a + MARK.length)
  if (rejected.slice(0, b + MARK.length) !== prompt) return null
  return { prompt, chosen: chosen.slice(a + MARK.length).trim(), rejected: rejected.slice(b + MARK.length).trim() }
}

export function firstHumanTurn(dialogue: string): string {
  const m = dialogue.match(/Human:([\s\S]*?)(?:\n\nAssistant:|$)/)
  return (m ? m[1] : dialogue).trim()
}

export type HhStats = { rows: number; kept: number; skipped: number }

export async function hhComparisons(dataDir: string, valFraction: number, onProblem: (p: RowProblem) => void): Promise<{ rows: Array<{ c: Comparison; split: Split }>; stats: HhStats }> {
  const file = join(dataDir, 'hh-rlhf/harmless-base-test.dev.jsonl')
  const rows: Array<{ c: Comparison; split: Split }> = []
  const stats: HhStats = { rows: 0, kept: 0, skipped: 0 }
  for await (const row of readJsonl<Record<string, unknown>>(file, { onError: (e) => onProblem({ file, line: e.details.line ?? 0, message: e.shortMessage }) })) {
    stats.rows++
    const r = row.value
    const d = typeof r?.chosen === 'string' && typeof r.rejected === 'string' ? splitDialogue(r.chosen, r.rejected) : null
    // Pairs whose last turns are equal or empty carry no preference; rows not in dialogue form are malformed.
    if (!d || !d.chosen || !d.rejected || d.chosen === d.rejected) {
      stats.skipped++
      if (!d) onProblem({ file, line: row.line, message: 'chosen/rejected do not share a dialogue prefix: skipped' })
      continue
    }
    stats.kept++
    const c: Comparison = { id: String(r.id ?? `hh:${row.line}`), prompt: d.prompt, responses: [d.chosen, d.rejected], ranking: [0, 1], task: 'hh-rlhf-harmless' }
    rows.push({ c, split: splitOf(firstHumanTurn(d.prompt), valFraction) })
  }
  return { rows, stats }
}
