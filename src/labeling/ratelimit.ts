/**
 * Token-bucket rate limiter keyed by client (session or IP): `perSecond` tokens refill per second
 * up to `burst`. In memory, per process: a multi-instance deployment needs a shared store.
 */
export type RateLimiter = { take(key: string, now?: number): { ok: true } | { ok: false; retryAfterS: number } }

export function createRateLimiter(opts: { perSecond: number; burst: number; maxKeys?: number }): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const maxKeys = opts.maxKeys ?? 100_000
  return {
    take(key, now = performance.now()) {
      let b = buckets.get(key)
      if (!b) {
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!) // oldest first
        b = { tokens: opts.burst, at: now }
        buckets.set(key, b)
      }
      b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond)
      b.at = now
      if (b.tokens >= 1) {
        b.tokens -= 1
        return { ok: true }
      }
      return { ok: false, retryAfterS: Math.ceil((1 - b.tokens) / opts.perSecond) }
    },
  }
}
