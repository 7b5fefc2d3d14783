import { createHash } from 'node:crypto'

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

export type Split = 'train' | 'val'

/**
 * Deterministic train/validation assignment from a content hash: the first 32 bits of the
 * SHA-256 read as a fraction in [0, 1). The same content always lands on the same side, on every
 * machine, whatever the input order, so adding sources never reshuffles existing items.
 */
export function splitOfHash(hexHash: string, valFraction = 0.05): Split {
  const x = parseInt(hexHash.slice(0, 8), 16) / 0x1_0000_0000
  return x < valFraction ? 'val' : 'train'
}

export function splitOf(key: string, valFraction = 0.05): Split {
  return splitOfHash(sha256Hex(key), valFraction)
}
