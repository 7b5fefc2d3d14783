import { CarBlockIterator, CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { writeFileAtomic } from '../util/atomic.ts'
import { blockLinks, toCid, verifyBlock, walkDag } from './blocks.ts'
import type { BlockAccess, ContentStore, ReadOptions } from './types.ts'

type CarStore = Pick<ContentStore, 'pin'> & BlockAccess

/**
 * Write the DAG under `root` as a CARv1 file (atomically). Blocks are walked depth-first from the root,
 * each re-hashed as it is read, so a CAR never carries a corrupt block out of the store.
 * (@ipld/car's writer is used directly rather than @helia/car's exporter so the same verified walk serves both backends.)
 */
export async function exportCar(store: CarStore, rootIn: CID | string, file: string, opts: ReadOptions & { onBlock?: (bytes: number) => void } = {}): Promise<{ root: CID; blocks: number; bytes: number }> {
  const root = toCid(rootIn)
  const { writer, out } = CarWriter.create([root])
  let blocks = 0
  let bytes = 0
  const pump = (async () => {
    try {
      for await (const b of walkDag(root, (c) => store.getBlock(c, opts))) {
        await writer.put(b)
        blocks++
        bytes += b.bytes.byteLength
        opts.onBlock?.(b.bytes.byteLength)
      }
    } finally {
      await writer.close()
    }
  })()
  pump.catch(() => {}) // observed below; avoid an unhandled rejection while the writer drains
  // the output only completes once the walk succeeded, so a failed walk never renames a partial CAR into place
  async function* guarded(): AsyncGenerator<Uint8Array> {
    yield* out
    await pump
  }
  await writeFileAtomic(file, guarded())
  return { root, blocks, bytes }
}

/** expandedBytes: what materialising the roots would write, every repeated subtree counted each time it is linked. */
export type CarCheck = { roots: CID[]; blocks: number; bytes: number; expandedBytes: number }

/**
 * Default bound on a CAR's expanded size. Content addressing lets a tiny CAR link one subtree many
 * times at every level (a "DAG bomb": four 1 KiB-ish blocks can describe a terabyte); importing it is
 * cheap, but every later `store get` or cat would write or stream all of it. 64 GiB is far above
 * any dataset or checkpoint this project makes; pass a larger bound for a DAG that needs one.
 */
export const DEFAULT_MAX_EXPANDED_BYTES = 64 * 2 ** 30

/**
 * Expanded size of each root: a block's size plus its children's expanded sizes, memoised per CID so
 * it costs O(blocks + links) however often subtrees repeat. Links to blocks outside the CAR (already
 * in the store) count their dag-pb Tsize when given. Iterative, so a deep chain cannot overflow the stack.
 */
function expandedSize(roots: CID[], blocks: Map<string, { size: number; links: Array<{ cid: string; tsize: number }> }>): number {
  const memo = new Map<string, number>()
  const sizeOf = (root: string, rootTsize = 0): number => {
    const stack: Array<{ cid: string; tsize: number; expanded: boolean }> = [{ cid: root, tsize: rootTsize, expanded: false }]
    while (stack.length) {
      const top = stack[stack.length - 1]
      if (memo.has(top.cid)) {
        stack.pop()
        continue
      }
      const b = blocks.get(top.cid)
      if (!b) {
        memo.set(top.cid, top.tsize)
        stack.pop()
        continue
      }
      if (!top.expanded) {
        top.expanded = true
        for (const l of b.links) if (!memo.has(l.cid)) stack.push({ cid: l.cid, tsize: l.tsize, expanded: false })
        continue
      }
      let total = b.size
      for (const l of b.links) total += memo.get(l.cid) ?? l.tsize
      memo.set(top.cid, total)
      stack.pop()
    }
    return memo.get(root)!
  }
  return roots.reduce((sum, r) => sum + sizeOf(r.toString()), 0)
}

function linksWithSizes(cid: CID, data: Uint8Array): Array<{ cid: string; tsize: number }> {
  if (cid.code === dagPb.code) return dagPb.decode(data).Links.map((l) => ({ cid: l.Hash.toString(), tsize: l.Tsize ?? 0 }))
  return blockLinks(cid, data).map((c) => ({ cid: c.toString(), tsize: 0 }))
}

/**
 * Read a CAR file and check every block: sound framing (a truncated CAR fails), each block re-hashed
 * against its CID, a supported codec, and every link resolvable inside the CAR or already in `store`
 * (so importing leaves complete DAGs). Nothing is written.
 */
export async function checkCar(file: string, store?: Pick<BlockAccess, 'hasBlock'>, opts: { maxExpandedBytes?: number } = {}): Promise<CarCheck> {
  const seen = new Set<string>()
  const shape = new Map<string, { size: number; links: Array<{ cid: string; tsize: number }> }>()
  const wanted = new Map<string, string>() // link -> parent, for the error message
  let roots: CID[] = []
  let blocks = 0
  let bytes = 0
  await readCar(file, async (cid, data) => {
    await verifyBlock(cid, data).catch((err: Instruct3Error) => {
      throw new Instruct3Error(`CAR holds a tampered block: ${err.shortMessage}`, { code: 'ECARBLOCK', details: { file, cid: cid.toString() }, cause: err })
    })
    seen.add(cid.toString())
    const links = linksWithSizes(cid, data)
    shape.set(cid.toString(), { size: data.byteLength, links })
    for (const l of links) if (!seen.has(l.cid)) wanted.set(l.cid, cid.toString())
    blocks++
    bytes += data.byteLength
  }, (r) => { roots = r })
  if (roots.length === 0) throw new Instruct3Error('CAR has no root', { code: 'ECAR', details: { file } })
  for (const r of roots) if (!seen.has(r.toString())) wanted.set(r.toString(), '(header root)')
  for (const [link, parent] of wanted) {
    if (seen.has(link)) continue
    const cid = toCid(link)
    if (store && (await store.hasBlock(cid))) continue
    throw new Instruct3Error(`CAR is incomplete: block ${link} (linked from ${parent}) is neither in the CAR nor in the store`, { code: 'ECARINCOMPLETE', details: { file, cid: link } })
  }
  const max = opts.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES
  const expandedBytes = expandedSize(roots, shape)
  if (expandedBytes > max)
    throw new Instruct3Error(`CAR expands to ${expandedBytes} bytes (repeated subtrees counted each time they are linked) from ${bytes} bytes of blocks; the bound is ${max} (raise it with --max-expanded)`, {
      code: 'ECARBOMB',
      details: { file },
    })
  return { roots, blocks, bytes, expandedBytes }
}

/** Import a CAR: check it completely first (see checkCar; its expanded size is bounded too), then store every block and pin the roots. */
export async function importCar(store: CarStore, file: string, opts: { pin?: boolean; onBlock?: (bytes: number) => void; maxExpandedBytes?: number } = {}): Promise<CarCheck> {
  const check = await checkCar(file, store, opts.maxExpandedBytes !== undefined ? { maxExpandedBytes: opts.maxExpandedBytes } : {})
  // second pass: blocks are re-verified as they are written, in case the file changed in between
  await readCar(file, async (cid, data) => {
    await verifyBlock(cid, data)
    await store.putBlock(cid, data)
    opts.onBlock?.(data.byteLength)
  })
  if (opts.pin ?? true) for (const r of check.roots) await store.pin(r)
  return check
}

async function readCar(file: string, onBlock: (cid: CID, bytes: Uint8Array) => Promise<void>, onRoots?: (roots: CID[]) => void): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a regular file')
  } catch (cause) {
    throw new Instruct3Error(`cannot read CAR: ${(cause as Error).message}`, { code: 'ENOENT', details: { file }, cause })
  }
  try {
    const it = await CarBlockIterator.fromIterable(createReadStream(file, { highWaterMark: 1 << 20 }))
    onRoots?.(await it.getRoots())
    for await (const { cid, bytes } of it) await onBlock(cid as CID, bytes)
  } catch (cause) {
    if (cause instanceof Instruct3Error) throw cause
    const msg = (cause as Error).message
    const truncated = /unexpected end|end of data|truncated/i.test(msg)
    throw new Instruct3Error(truncated ? `CAR is truncated (${msg})` : `not a valid CAR (${msg})`, { code: truncated ? 'ECARTRUNCATED' : 'ECAR', details: { file }, cause })
  }
}
