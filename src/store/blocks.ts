import * as dagPb from '@ipld/dag-pb'
import * as dagJson from '@ipld/dag-json'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { Instruct3Error } from '../util/errors.ts'

/**
 * Block-level helpers shared by both backends: parse CIDs, re-hash blocks, find a block's links.
 * Only the codecs instruct3 writes are supported: dag-pb (UnixFS), raw (UnixFS leaves), dag-json (manifests).
 */
export const CODECS = { dagPb: dagPb.code, raw: raw.code, dagJson: dagJson.code } as const

/** Parse a CID string (or pass a CID through); a malformed one is an Instruct3Error, code ECID. */
export function toCid(cid: CID | string, field = 'cid'): CID {
  if (typeof cid !== 'string') {
    const asCid = CID.asCID(cid)
    if (asCid) return asCid
    throw new Instruct3Error('not a CID', { code: 'ECID', details: { field } })
  }
  try {
    return CID.parse(cid.trim().replace(/^\/ipfs\//, ''))
  } catch (cause) {
    throw new Instruct3Error(`malformed CID "${cid}" (${(cause as Error).message})`, { code: 'ECID', details: { field }, cause })
  }
}

/** Re-hash `bytes` and check they are the block `cid` names. Throws EHASHMISMATCH naming the CID. */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code === 0x00) {
    // identity multihash: the "hash" is the data itself
    if (!equalBytes(cid.multihash.digest, bytes)) throw hashMismatch(cid)
    return
  }
  if (cid.multihash.code !== sha256.code) {
    throw new Instruct3Error(`unsupported hash function 0x${cid.multihash.code.toString(16)} (only sha2-256)`, { code: 'EHASH', details: { cid: cid.toString() } })
  }
  const digest = await sha256.digest(bytes)
  if (!equalBytes(digest.digest, cid.multihash.digest)) throw hashMismatch(cid)
}

function hashMismatch(cid: CID): Instruct3Error {
  return new Instruct3Error(`block ${cid} is corrupt: its bytes do not hash to its CID`, { code: 'EHASHMISMATCH', details: { cid: cid.toString() } })
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** The CIDs a block links to (in order). Unknown codecs are an error: we cannot walk what we cannot read. */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  switch (cid.code) {
    case raw.code:
      return []
    case dagPb.code:
      return dagPb.decode(bytes).Links.map((l) => l.Hash)
    case dagJson.code: {
      const out: CID[] = []
      collectLinks(dagJson.decode(bytes), out)
      return out
    }
    default:
      throw new Instruct3Error(`unsupported codec 0x${cid.code.toString(16)}`, { code: 'ECODEC', details: { cid: cid.toString() } })
  }
}

function collectLinks(value: unknown, out: CID[]): void {
  const cid = CID.asCID(value)
  if (cid) {
    out.push(cid)
    return
  }
  if (Array.isArray(value)) for (const v of value) collectLinks(v, out)
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) for (const v of Object.values(value)) collectLinks(v, out)
}

/** CIDv1 of a dag-json value (sha2-256), with its encoded bytes. */
export async function encodeDagJson(value: unknown): Promise<{ cid: CID; bytes: Uint8Array }> {
  let bytes: Uint8Array
  try {
    bytes = dagJson.encode(value)
  } catch (cause) {
    throw new Instruct3Error(`value cannot be encoded as dag-json (${(cause as Error).message})`, { code: 'EDAGJSON', cause })
  }
  return { cid: CID.createV1(dagJson.code, await sha256.digest(bytes)), bytes }
}

/** CIDv1 (raw or any codec) for bytes, sha2-256. */
export async function cidFor(code: number, bytes: Uint8Array): Promise<CID> {
  return CID.createV1(code, await sha256.digest(bytes))
}

/**
 * Depth-first walk of every block reachable from `root`, each yielded once, fetched (and verified) by `getBlock`.
 * Order is parents before children, links in order: the order a CAR exporter writes.
 */
export async function* walkDag(root: CID, getBlock: (cid: CID) => Promise<Uint8Array>): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
  const seen = new Set<string>()
  const stack: CID[] = [root]
  while (stack.length > 0) {
    const cid = stack.pop()!
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await getBlock(cid)
    yield { cid, bytes }
    const links = blockLinks(cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i])
  }
}
