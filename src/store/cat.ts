import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { CODECS } from './blocks.ts'

/**
 * Stream a UnixFS file's bytes in order, fetching at most `readAhead` sibling blocks ahead of the reader.
 * Written here rather than using ipfs-unixfs-exporter's file reader because that one pushes every block
 * it loads into an unbounded queue: with a slow reader a 200 MB file ends up in memory.
 * `getBlock` must verify blocks (the store's getBlock re-hashes each one).
 */
export async function* catFile(root: CID, getBlock: (cid: CID) => Promise<Uint8Array>, readAhead = 8): AsyncGenerator<Uint8Array> {
  yield* expand(root, await getBlock(root))

  async function* expand(cid: CID, block: Uint8Array): AsyncGenerator<Uint8Array> {
    if (cid.code === CODECS.raw) {
      if (block.byteLength > 0) yield block
      return
    }
    if (cid.code !== CODECS.dagPb) throw notAFile(root, `block ${cid} has codec 0x${cid.code.toString(16)}`)
    const node = dagPb.decode(block)
    if (!node.Data) throw notAFile(root, `block ${cid} holds no UnixFS data`)
    const fs = UnixFS.unmarshal(node.Data)
    if (fs.type !== 'file' && fs.type !== 'raw') throw notAFile(root, `it is a ${fs.type === 'hamt-sharded-directory' ? 'directory' : fs.type}`)
    if (fs.data && fs.data.byteLength > 0) yield fs.data
    const links = node.Links
    const inflight: Promise<Uint8Array>[] = []
    let next = 0
    for (let i = 0; i < links.length; i++) {
      while (next < links.length && next <= i + readAhead) {
        const p = getBlock(links[next].Hash)
        p.catch(() => {}) // awaited in order below; this only stops an early failure from being "unhandled"
        inflight.push(p)
        next++
      }
      yield* expand(links[i].Hash, await inflight.shift()!)
    }
  }
}

function notAFile(root: CID, why: string): Instruct3Error {
  return new Instruct3Error(`${root} is not a file (${why})`, { code: 'ENOTFILE', details: { cid: root.toString() } })
}
