// Amounts, shares and durations as a user reads them. Amounts arrive as decimal strings in token base
// units and are shown in token units (formatUnits with the token's decimals), never as floats.
import { formatUnits, parseUnits } from 'viem'
import type { TokenInfo } from '../../../src/chain/app-reads.ts'

export const amount = (base: string | bigint, t: Pick<TokenInfo, 'decimals' | 'symbol'>): string => `${formatUnits(BigInt(base), t.decimals)} ${t.symbol}`

export const pctBps = (bps: number | string): string => `${Number(bps) / 100}%`

export function duration(seconds: number | string): string {
  let s = Number(seconds)
  if (s === 0) return 'none'
  const parts: string[] = []
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)} ${unit}`)
      s %= n
    }
  }
  return parts.slice(0, 2).join(' ')
}

export const when = (unixSeconds: number | string): string => new Date(Number(unixSeconds) * 1000).toLocaleString()

export const short = (hex: string, n = 6): string => (hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-n)}` : hex)

/**
 * Parse what a user typed as a token amount ("12.5") into base units; the error names the field.
 * `allowZero` for optional amounts (e.g. no initial funding).
 */
export function parseAmount(text: string, decimals: number, field: string, allowZero = false): bigint {
  const t = text.trim()
  if (!/^\d+(\.\d+)?$/.test(t)) throw new Error(`${field}: enter an amount like 10 or 2.5`)
  const frac = t.split('.')[1] ?? ''
  if (frac.length > decimals) throw new Error(`${field}: at most ${decimals} decimals`)
  const v = parseUnits(t, decimals)
  if (!allowZero && v === 0n) throw new Error(`${field}: must be more than zero`)
  if (v >= 2n ** 128n) throw new Error(`${field}: too large`)
  return v
}

/** A percentage typed by the user ("80" or "12.5") as basis points 0..10000; the error names the field. */
export function parsePctBps(text: string, field: string): number {
  const t = text.trim()
  if (!/^\d+(\.\d{1,2})?$/.test(t)) throw new Error(`${field}: enter a percentage from 0 to 100 (at most 2 decimals)`)
  const bps = Math.round(Number(t) * 100)
  if (bps > 10000) throw new Error(`${field}: at most 100%`)
  return bps
}

/** Days (decimals allowed) as whole seconds; the error names the field. */
export function parseDays(text: string, field: string): bigint {
  const t = text.trim()
  if (!/^\d+(\.\d+)?$/.test(t)) throw new Error(`${field}: enter a number of days like 7 or 0.5`)
  const s = Math.round(Number(t) * 86400)
  if (s > 10 * 365 * 86400) throw new Error(`${field}: at most 10 years`)
  return BigInt(s)
}
