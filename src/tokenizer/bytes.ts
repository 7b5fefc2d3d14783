/**
 * GPT-2's byte <-> unicode mapping and UTF-8 helpers.
 *
 * Byte-level BPE works on bytes, but vocab.json / merges.txt / tokenizer.json store tokens as
 * strings. GPT-2 maps each of the 256 bytes to a printable unicode character (printable
 * latin-1 bytes map to themselves, the rest to U+0100 onwards) so that every token is a
 * visible string without spaces or control characters. We use the same mapping so our files
 * are interchangeable with GPT-2's and Hugging Face's.
 */

/** byteToChar[b] is the one-character string GPT-2 uses for byte b. */
export const byteToChar: readonly string[] = buildByteToChar()
/** The inverse: char code -> byte (or -1). */
const charToByteTable: Int16Array = buildCharToByte()

/**
 * The order of the 256 base tokens in GPT-2's vocab: printable bytes first, then the rest.
 * byteOrder[id] = byte. Our trained tokenizers use the same order so ids 0..255 match GPT-2.
 */
export const byteOrder: readonly number[] = buildByteOrder()

function buildByteOrder(): number[] {
  const bs: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b)
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b)
  for (let b = 0xae; b <= 0xff; b++) bs.push(b)
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) bs.push(b)
  return bs
}

function buildByteToChar(): string[] {
  const order = buildByteOrder()
  const out = new Array<string>(256)
  // The first 188 bytes (printable) map to themselves; the others to 256, 257, ... in order.
  let n = 0
  for (let i = 0; i < 256; i++) {
    const b = order[i]
    out[b] = i < 188 ? String.fromCharCode(b) : String.fromCharCode(256 + n++)
  }
  return out
}

function buildCharToByte(): Int16Array {
  const t = new Int16Array(512).fill(-1)
  for (let b = 0; b < 256; b++) t[byteToChar[b].charCodeAt(0)] = b
  return t
}

/** Bytes -> GPT-2 token string. */
export function bytesToTokenString(bytes: Uint8Array | readonly number[]): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += byteToChar[bytes[i]]
  return s
}

/** GPT-2 token string -> bytes, or null if a character is not one of the 256 byte characters. */
export function tokenStringToBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const b = c < 512 ? charToByteTable[c] : -1
    if (b < 0) return null
    out[i] = b
  }
  return out
}

export const utf8Encoder = new TextEncoder()
/** Non-fatal: invalid sequences become U+FFFD (use decodeBytes for a lossless result). */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/**
 * Split bytes into maximal runs of valid UTF-8 and single invalid bytes.
 * Used by encodeBytes: valid runs are pre-tokenised as text, invalid bytes become one piece each,
 * so any byte string round-trips and valid UTF-8 encodes exactly as the same text would.
 */
export function splitUtf8(bytes: Uint8Array): Array<{ start: number; end: number; valid: boolean }> {
  const out: Array<{ start: number; end: number; valid: boolean }> = []
  let runStart = 0
  let i = 0
  const n = bytes.length
  while (i < n) {
    const len = validSeqLen(bytes, i)
    if (len > 0) {
      i += len
      continue
    }
    if (i > runStart) out.push({ start: runStart, end: i, valid: true })
    out.push({ start: i, end: i + 1, valid: false })
    i++
    runStart = i
  }
  if (n > runStart) out.push({ start: runStart, end: n, valid: true })
  return out
}

/** Length of the valid UTF-8 sequence starting at i (RFC 3629: no overlongs, surrogates or > U+10FFFF), else 0. */
function validSeqLen(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c < 0x80) return 1
  const n = b.length
  const cont = (j: number) => j < n && (b[j] & 0xc0) === 0x80
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0
    const c1 = b[i + 1]
    if (c === 0xe0 && c1 < 0xa0) return 0 // overlong
    if (c === 0xed && c1 >= 0xa0) return 0 // surrogate
    return 3
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0
    const c1 = b[i + 1]
    if (c === 0xf0 && c1 < 0x90) return 0 // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0 // > U+10FFFF
    return 4
  }
  return 0
}
