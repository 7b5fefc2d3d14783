import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'

/** The CAR codec (0x0202): a CAR file's own CID, as Storacha names shards (bagbaiera...). */
export const CAR_CODEC = 0x0202

/** CID and size of a CAR file, hashed streaming from disk. */
export async function carCid(file: string): Promise<{ cid: CID; size: number }> {
  const h = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer)
    size += (chunk as Buffer).byteLength
  }
  return { cid: CID.createV1(CAR_CODEC, createDigest(sha256.code, h.digest())), size }
}
