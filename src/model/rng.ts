/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded by splitmix32) for host-side randomness:
 * parameter init, data shuffling, sampling. Its state is four uint32s, saved in checkpoints so a
 * resumed run draws the same numbers as an uninterrupted one.
 */
export type Rng = {
  /** Uniform in [0, 1). */
  next(): number
  /** Standard normal (Box-Muller). */
  normal(): number
  /** Integer in [0, n). */
  int(n: number): number
  state(): number[]
  setState(s: number[]): void
}

export function createRng(seed: number): Rng {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0
  let x = seed >>> 0
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
  let spare: number | null = null
  const nextU32 = () => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0
    const t = (s1 << 9) >>> 0
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result
  }
  const next = () => nextU32() / 4294967296
  return {
    next,
    normal() {
      if (spare !== null) {
        const v = spare
        spare = null
        return v
      }
      let u = 0
      while (u === 0) u = next()
      const v = next()
      const r = Math.sqrt(-2 * Math.log(u))
      spare = r * Math.sin(2 * Math.PI * v)
      return r * Math.cos(2 * Math.PI * v)
    },
    int(n: number) {
      return Math.floor(next() * n)
    },
    state() {
      return [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0, spare === null ? 0 : 1, spare ?? 0]
    },
    setState(s: number[]) {
      ;[s0, s1, s2, s3] = s.slice(0, 4).map((v) => v >>> 0)
      spare = s[4] === 1 ? s[5] : null
    },
  }
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0
}
