/**
 * Resource strings, parsed the way Bacalhau parses them (pkg/models/resource.go):
 * the string is first normalised (lowercased, spaces and newlines removed), then
 *  - CPU with BTBurke/k8sresource: "<int>m" millicores, or a float number of cores;
 *  - memory and disk with dustin/go-humanize ParseBytes: a decimal number then an SI or IEC unit
 *    ("", b, k, kb, ki, kib, m, mb, mi, mib, ... e, eb, ei, eib);
 *  - GPU with strconv.ParseUint: a plain unsigned integer.
 * Each returns null when Bacalhau would reject the string.
 */

export function normalizeResourceString(s: string): string {
  return s.toLowerCase().replaceAll(' ', '').replaceAll('\n', '')
}

/** Cores (float), via whole millicores like k8sresource. */
export function parseCpu(raw: string): number | null {
  const s = normalizeResourceString(raw)
  if (s.endsWith('m')) {
    const body = s.slice(0, -1)
    // strconv.Atoi: optional sign, decimal digits only
    if (!/^[+-]?\d+$/.test(body)) return null
    return Number(body) / 1000
  }
  const f = parseGoFloat(s)
  if (f === null) return null
  return Math.trunc(f * 1000) / 1000
}

const KI = 1024n
const SIZE_TABLE: Record<string, bigint> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1000n,
  ki: KI,
  kib: KI,
  m: 1000n ** 2n,
  mb: 1000n ** 2n,
  mi: KI ** 2n,
  mib: KI ** 2n,
  g: 1000n ** 3n,
  gb: 1000n ** 3n,
  gi: KI ** 3n,
  gib: KI ** 3n,
  t: 1000n ** 4n,
  tb: 1000n ** 4n,
  ti: KI ** 4n,
  tib: KI ** 4n,
  p: 1000n ** 5n,
  pb: 1000n ** 5n,
  pi: KI ** 5n,
  pib: KI ** 5n,
  e: 1000n ** 6n,
  eb: 1000n ** 6n,
  ei: KI ** 6n,
  eib: KI ** 6n,
}

/** Bytes, like humanize.ParseBytes (digits, '.' and ',' then a unit). */
export function parseBytes(raw: string): number | null {
  const s = normalizeResourceString(raw)
  const m = /^([\d.,]*)(.*)$/.exec(s)!
  const num = parseGoFloat(m[1].replaceAll(',', ''))
  if (num === null || num < 0) return null
  const mult = SIZE_TABLE[m[2].trim()]
  if (mult === undefined) return null
  const v = num * Number(mult)
  if (v >= 2 ** 64) return null
  return Math.floor(v)
}

export function parseGpu(raw: string): number | null {
  const s = normalizeResourceString(raw)
  if (!/^\d+$/.test(s)) return null
  const v = Number(s)
  return Number.isSafeInteger(v) ? v : null
}

/** strconv.ParseFloat for the plain decimal forms people write (no hex, no inf/nan). */
function parseGoFloat(s: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null
  const v = Number(s)
  return Number.isFinite(v) ? v : null
}
