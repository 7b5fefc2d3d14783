/**
 * Rows that rank a comparison's SFT samples among themselves (samples.ts) carry their comparison's id
 * plus `#sft-ranking`. Where comparisons are split (reward model vs judge) or capped, such a row follows
 * its comparison: same half, and it is not one of the capped rows.
 */
/** Suffix of the id of a row that ranks a comparison's SFT samples among themselves. */
export const SAMPLE_RANKING_SUFFIX = '#sft-ranking'

export function isRankingRow(r: { id?: string }): boolean {
  return r.id?.endsWith(SAMPLE_RANKING_SUFFIX) ?? false
}

/** The comparisons proper, and a function that appends the ranking rows of the comparisons picked. */
export function splitRankingRows<T extends { id?: string }>(rows: T[]): { main: T[]; follow: (picked: T[]) => T[] } {
  const main = rows.filter((r) => !isRankingRow(r))
  const ranking = rows.filter(isRankingRow)
  return {
    main,
    follow(picked) {
      if (!ranking.length) return picked
      const ids = new Set(picked.map((r) => r.id))
      return picked.concat(ranking.filter((r) => ids.has(r.id!.slice(0, -SAMPLE_RANKING_SUFFIX.length))))
    },
  }
}
