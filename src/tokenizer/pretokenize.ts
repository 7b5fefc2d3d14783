/**
 * GPT-2 pre-tokenisation: text is cut into "words" by this regex before BPE, so merges never
 * cross word boundaries (and a leading space stays attached to the word after it).
 * Note: JS `\s` differs from Python's in a few control characters (U+001C..U+001F are not
 * whitespace in JS); js-tiktoken uses the same JS regex and our fixtures are checked against it.
 */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

const pieceRe = new RegExp(GPT2_PATTERN, 'gu')

/** Call `onPiece` for each pre-token of `text`, in order. */
export function forEachPiece(text: string, onPiece: (piece: string) => void): void {
  const re = pieceRe
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) onPiece(m[0])
}

/** The pre-tokens of `text` (for tests and small inputs). */
export function pretokenize(text: string): string[] {
  const out: string[] = []
  forEachPiece(text, (p) => out.push(p))
  return out
}

/** A regex that finds any of the given literal strings (longest first), or null if none. */
export function literalAlternation(strings: Iterable<string>): RegExp | null {
  const list = [...strings].sort((a, b) => b.length - a.length || (a < b ? -1 : 1))
  if (list.length === 0) return null
  return new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
}
