/**
 * A binary min-heap of number pairs (a, b), ordered by a, then b. Encoding uses it for (merge rank,
 * position); training for (-count, pair key), which pops the most frequent pair, ties to the smallest key.
 * Two parallel arrays, no per-entry objects: both callers push millions of entries.
 */
export function createMinHeap() {
  const as: number[] = []
  const bs: number[] = []
  const less = (i: number, j: number) => as[i] < as[j] || (as[i] === as[j] && bs[i] < bs[j])
  const swap = (i: number, j: number) => {
    const ta = as[i]
    as[i] = as[j]
    as[j] = ta
    const tb = bs[i]
    bs[i] = bs[j]
    bs[j] = tb
  }
  return {
    get size() {
      return as.length
    },
    push(a: number, b: number) {
      as.push(a)
      bs.push(b)
      let i = as.length - 1
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!less(i, parent)) break
        swap(i, parent)
        i = parent
      }
    },
    pop(): [number, number] {
      const top: [number, number] = [as[0], bs[0]]
      swap(0, as.length - 1)
      as.pop()
      bs.pop()
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < as.length && less(l, m)) m = l
        if (r < as.length && less(r, m)) m = r
        if (m === i) break
        swap(i, m)
        i = m
      }
      return top
    },
  }
}
