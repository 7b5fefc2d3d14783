/**
 * Light text normalisation for the corpus. It keeps the markdown (headings, code fences, lists are
 * useful signal for a small model) and removes only noise that carries no language:
 * CRLF, BOM/NUL, HTML comments, MDX import/export lines, trailing spaces and long blank runs.
 */
export function normalizeText(raw: string): string {
  let t = raw.replace(/^\uFEFF/, '').replace(/\u0000/g, '')
  t = t.replace(/\r\n?/g, '\n')
  t = t.replace(/<!--[\s\S]*?-->/g, '')
  // MDX (Uniswap docs) keeps JSX import lines; they are build plumbing, not prose.
  t = t.replace(/^(?:import\s+[^\n]*\s+from\s+['"][^'"\n]+['"];?|export\s+(?:const|default)\s+[^\n]*)$/gm, '')
  t = t.replace(/[ \t]+$/gm, '')
  t = t.replace(/\n{3,}/g, '\n\n')
  return t.trim()
}

/** A canonical form for exact-duplicate detection: case and whitespace insensitive. */
export function canonicalForDedup(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim()
}

/**
 * Cut `text` to at most `maxChars`, preferring a paragraph, line or sentence boundary in the last
 * third so prompts do not end mid-word; appends an ellipsis marker when something was cut.
 */
export function truncateText(text: string, maxChars: number, marker = ' …'): string {
  if (text.length <= maxChars) return text
  const budget = Math.max(1, maxChars - marker.length)
  const head = text.slice(0, budget)
  const floor = Math.floor(budget * 0.66)
  for (const sep of ['\n\n', '\n', '. ', ' ']) {
    const at = head.lastIndexOf(sep)
    if (at >= floor) return head.slice(0, at + (sep === '. ' ? 1 : 0)).trimEnd() + marker
  }
  return head.trimEnd() + marker
}
