/**
 * safetensors read/write (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__},
 * then the raw little-endian tensor bytes. We write F32 (and read F32, F16, BF16 into Float32Array).
 * Every read is validated: a corrupt or truncated file is an error naming the file and the tensor.
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'

export type Tensor = { shape: number[]; data: Float32Array }
export type TensorMap = Record<string, Tensor>

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 }

/** Write tensors (in the given order) with optional string metadata, atomically. */
export function writeSafetensors(file: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length) header.__metadata__ = metadata
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if (n !== t.data.length)
      throw new Instruct3Error(`shape [${t.shape}] has ${n} elements but data has ${t.data.length}`, {
        code: 'ESAFETENSORS',
        details: { file, field: name },
      })
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] }
    offset += 4 * n
  }
  let json = JSON.stringify(header)
  // pad the header with spaces so the data starts 8-byte aligned (as the reference writer does)
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8
  json += ' '.repeat(pad)
  const hbytes = Buffer.from(json)
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(hbytes.length))
  function* chunks(): Iterable<Uint8Array> {
    yield len
    yield hbytes
    for (const t of Object.values(tensors)) yield littleEndianBytes(t.data)
  }
  writeFileAtomicSync(file, chunks())
}

function littleEndianBytes(a: Float32Array): Uint8Array {
  // Every platform Node runs on is little-endian; a view avoids a copy.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

export type SafetensorsHeader = {
  tensors: Record<string, { dtype: string; shape: number[]; begin: number; end: number }>
  metadata: Record<string, string>
  dataStart: number
}

/** Read and validate the header only. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const err = (msg: string, field?: string) => new Instruct3Error(msg, { code: 'ESAFETENSORS', details: { file, field } })
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (cause) {
    throw new Instruct3Error(`cannot open (${(cause as Error).message})`, { code: 'ENOENT', details: { file }, cause })
  }
  try {
    const size = fstatSync(fd).size
    if (size < 8) throw err(`file is ${size} bytes, too short for a safetensors header`)
    const lenBuf = Buffer.alloc(8)
    readSync(fd, lenBuf, 0, 8, 0)
    const hlen = Number(lenBuf.readBigUInt64LE())
    if (hlen <= 0 || hlen > 100_000_000 || 8 + hlen > size) throw err(`header length ${hlen} does not fit the file (${size} bytes): truncated or not safetensors`)
    const hbuf = Buffer.alloc(hlen)
    readSync(fd, hbuf, 0, hlen, 8)
    let raw: Record<string, any>
    try {
      raw = JSON.parse(hbuf.toString('utf8'))
    } catch {
      throw err('header is not valid JSON')
    }
    const dataStart = 8 + hlen
    const dataLen = size - dataStart
    const tensors: SafetensorsHeader['tensors'] = {}
    const spans: Array<[number, number, string]> = []
    for (const [name, info] of Object.entries(raw)) {
      if (name === '__metadata__') continue
      const { dtype, shape, data_offsets } = info ?? {}
      if (!(dtype in DTYPE_BYTES)) throw err(`unsupported dtype ${dtype}`, name)
      if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) throw err('bad shape', name)
      if (!Array.isArray(data_offsets) || data_offsets.length !== 2) throw err('bad data_offsets', name)
      const [begin, end] = data_offsets as [number, number]
      const n = shape.reduce((a: number, b: number) => a * b, 1)
      if (end - begin !== n * DTYPE_BYTES[dtype]) throw err(`data_offsets span ${end - begin} bytes, shape [${shape}] ${dtype} needs ${n * DTYPE_BYTES[dtype]}`, name)
      if (begin < 0 || end > dataLen) throw err(`data [${begin}, ${end}) lies beyond the end of the file: truncated`, name)
      tensors[name] = { dtype, shape, begin, end }
      spans.push([begin, end, name])
    }
    spans.sort((a, b) => a[0] - b[0])
    for (let i = 1; i < spans.length; i++)
      if (spans[i][0] < spans[i - 1][1]) throw err(`overlaps tensor "${spans[i - 1][2]}"`, spans[i][2])
    return { tensors, metadata: (raw.__metadata__ ?? {}) as Record<string, string>, dataStart }
  } finally {
    closeSync(fd)
  }
}

/** Read tensors (all, or the named ones) as Float32Array. */
export function readSafetensors(file: string, names?: string[]): { tensors: TensorMap; metadata: Record<string, string> } {
  const h = readSafetensorsHeader(file)
  const fd = openSync(file, 'r')
  try {
    const out: TensorMap = {}
    for (const name of names ?? Object.keys(h.tensors)) {
      const info = h.tensors[name]
      if (!info) throw new Instruct3Error('tensor not found', { code: 'ESAFETENSORS', details: { file, field: name } })
      const bytes = Buffer.alloc(info.end - info.begin)
      const got = readSync(fd, bytes, 0, bytes.length, h.dataStart + info.begin)
      if (got !== bytes.length) throw new Instruct3Error('short read: truncated', { code: 'ESAFETENSORS', details: { file, field: name } })
      out[name] = { shape: info.shape, data: toFloat32(bytes, info.dtype) }
    }
    return { tensors: out, metadata: h.metadata }
  } finally {
    closeSync(fd)
  }
}

function toFloat32(bytes: Buffer, dtype: string): Float32Array {
  if (dtype === 'F32') {
    const out = new Float32Array(bytes.length / 4)
    new Uint8Array(out.buffer).set(bytes)
    return out
  }
  const n = bytes.length / 2
  const out = new Float32Array(n)
  const u16 = new Uint16Array(n)
  new Uint8Array(u16.buffer).set(bytes)
  if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer)
    for (let i = 0; i < n; i++) u32[i] = u16[i] << 16
  } else for (let i = 0; i < n; i++) out[i] = halfToFloat(u16[i])
  return out
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024)
  if (e === 31) return f ? NaN : s * Infinity
  return s * Math.pow(2, e - 15) * (1 + f / 1024)
}
