import { keccak256, stringToBytes, type Hex } from 'viem'

/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, as Array.prototype.sort does),
 * no whitespace, `undefined` members dropped. The same bytes are produced in the browser and on
 * the server, so a label's hash is reproducible by anyone holding the export.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v === undefined ? null : v)).join(',') + ']'
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}'
  }
  throw new TypeError(`canonical JSON cannot encode ${typeof value}`)
}

/** keccak256 of the canonical JSON's UTF-8 bytes: the label hash that is signed and put in the Merkle tree. */
export function contentHash(value: unknown): Hex {
  return keccak256(stringToBytes(canonicalJson(value)))
}
