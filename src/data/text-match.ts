/**
 * Reward-model-free closeness of a response to the reference answer, on text (host-side, no engine):
 * - `rougeL`: ROUGE-L F1 (longest common subsequence of words; F with beta 1, as Google's rouge-score);
 * - `tokenF1`: SQuAD-style bag-of-words F1 (each word counted at most as often as in the other side);
 * - `closeness` / `crowdScore`: the rule the simulated crowd (src/loop/crowd.ts) ranks outputs by (mean
 *   of word-unigram, word-bigram and character-trigram F1; readability breaks near-ties). The SFT
 *   samples stage ranks its samples with `crowdScore`, so the comparisons it writes follow the same
 *   rule as the crowd's labels.
 *
 * Words are lower-cased runs of ASCII letters and digits; punctuation and other characters split
 * words. The npm package js-rouge exists but is not installed here; these are a few lines each and are
 * tested against rouge-score's published example.
 */

/** Lower-cased words: runs of [a-z0-9]. */
export function words(s: string): string[] {
  return s.toLowerCase().match(/[a-z0-9]+/g) ?? []
}

/** F1 of two bags (multisets) of items; 0 when either is empty. */
export function bagF1(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0
  const counts = new Map<string, number>()
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1)
  let common = 0
  for (const x of a) {
    const n = counts.get(x) ?? 0
    if (n > 0) {
      common++
      counts.set(x, n - 1)
    }
  }
  if (common === 0) return 0
  const p = common / a.length
  const r = common / b.length
  return (2 * p * r) / (p + r)
}

/** Length of the longest common subsequence of two word lists (O(n*m) time, O(m) memory). */
export function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0)
  let cur = new Array<number>(b.length + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1])
    ;[prev, cur] = [cur, prev]
  }
  return prev[b.length]
}

export type RougeL = { precision: number; recall: number; f: number }

/** ROUGE-L of a response against a reference: precision = LCS / response words, recall = LCS / reference words. */
export function rougeL(response: string, reference: string): RougeL {
  const o = words(response)
  const r = words(reference)
  const l = lcsLength(o, r)
  if (l === 0) return { precision: 0, recall: 0, f: 0 }
  const precision = l / o.length
  const recall = l / r.length
  return { precision, recall, f: (2 * precision * recall) / (precision + recall) }
}

/** SQuAD-style token F1 of a response against a reference. */
export function tokenF1(response: string, reference: string): number {
  return bagF1(words(response), words(reference))
}

/**
 * Closeness of an output to the reference, 0..1: the mean of word-unigram F1, word-bigram F1 and
 * character-trigram F1. The character part still orders outputs that share no word with the reference.
 */
export function closeness(output: string, reference: string): number {
  const o = words(output)
  const r = words(reference)
  const bi = (w: string[]) => w.slice(1).map((x, i) => `${w[i]} ${x}`)
  const tri = (s: string) => {
    const t = ` ${s.toLowerCase().replace(/\s+/g, ' ').trim()} `
    return Array.from({ length: Math.max(0, t.length - 2) }, (_, i) => t.slice(i, i + 3))
  }
  return (bagF1(o, r) + bagF1(bi(o), bi(r)) + bagF1(tri(output), tri(reference))) / 3
}

/** Share of an output's characters that are letters, digits, spaces or common punctuation (0 when empty). */
export function readability(output: string): number {
  if (!output) return 0
  return (output.match(/[A-Za-z0-9 .,;:'"()-]/g)?.length ?? 0) / output.length
}

/** The crowd's score without noise: mostly closeness to the reference; readability breaks near-ties. */
export function crowdScore(output: string, reference: string): number {
  return 0.9 * closeness(output, reference) + 0.1 * readability(output)
}
