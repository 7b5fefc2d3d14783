/**
 * Token-bucket rate limiter keyed by client (a validated session's address, or the client IP):
 * `perSecond` tokens refill per second up to `burst`. In memory, per process: a multi-instance
 * deployment needs a shared store.
 *
 * Memory is bounded by `maxKeys`. When full, buckets that have refilled to `burst` are dropped
 * (they hold no state: a new bucket starts full too); a client whose bucket is still draining is
 * never evicted, so a flood of new keys cannot reset an abuser's bucket or anyone else's. If no
 * bucket can be dropped, the new key is refused until some refill (fail closed for newcomers).
 */
export type RateLimiter = { take(key: string, now?: number): { ok: true } | { ok: false; retryAfterS: number }; readonly size: number }

export function createRateLimiter(opts: { perSecond: number; burst: number; maxKeys?: number }): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const maxKeys = opts.maxKeys ?? 100_000
  const refill = (b: { tokens: number; at: number }, now: number) => {
    b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond)
    b.at = now
  }
  // Sweeping is O(keys); at most once per refill period of one token, so a flood cannot make every request pay it.
  let lastSweep = -Infinity
  const sweep = (now: number) => {
    if (now - lastSweep < 1000 / opts.perSecond) return
    lastSweep = now
    for (const [k, b] of buckets) {
      refill(b, now)
      if (b.tokens >= opts.burst) buckets.delete(k)
    }
  }
  return {
    take(key, now = performance.now()) {
      let b = buckets.get(key)
      if (!b) {
        if (buckets.size >= maxKeys) sweep(now)
        if (buckets.size >= maxKeys) return { ok: false, retryAfterS: Math.ceil(1 / opts.perSecond) }
        b = { tokens: opts.burst, at: now }
        buckets.set(key, b)
      }
      refill(b, now)
      if (b.tokens >= 1) {
        b.tokens -= 1
        return { ok: true }
      }
      return { ok: false, retryAfterS: Math.ceil((1 - b.tokens) / opts.perSecond) }
    },
    get size() {
      return buckets.size
    },
  }
}
