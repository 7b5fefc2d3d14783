import { mkdtemp, rm, readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { ContentStore } from '../../src/store/types.ts'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { packageRoot } from '../../src/util/paths.ts'

const run = promisify(execFile)
const bin = join(packageRoot, 'bin', 'instruct3.js')

/** Run the real CLI; resolves with code/stdout/stderr whatever the exit status. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 26 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

export async function tempDir(prefix = 'instruct3-store-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export async function catAll(store: ContentStore, cid: CID | string, opts?: { timeoutMs?: number }): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of store.cat(cid, opts)) parts.push(p)
  return Buffer.concat(parts)
}

/** Deterministic pseudo-random bytes (so CIDs are stable across runs). */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** A small dataset folder: two shards and a nested metadata file (one shard spans several 1 MiB chunks). */
export async function makeDataset(root: string): Promise<string> {
  const d = join(root, 'dataset')
  await mkdir(join(d, 'meta'), { recursive: true })
  await writeFile(join(d, 'train.jsonl'), bytesOf(2_500_000, 7))
  await writeFile(join(d, 'valid.jsonl'), '{"prompt":"gm","response":"gm"}\n')
  await writeFile(join(d, 'meta', 'info.json'), '{"rows":1}\n')
  return d
}

export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(p)
      else out.push(p)
    }
  }
  await walk('')
  return out.sort()
}

/** blockstore-fs keeps each block in a file named after its multihash; flip its last byte. */
export async function corruptHeliaBlock(blocksDir: string, cid: CID, how: 'flip' | 'delete' = 'flip'): Promise<void> {
  const { base32upper } = await import('multiformats/bases/base32')
  const name = base32upper.encode(cid.multihash.bytes) // blockstore-fs names files by the base32upper multihash
  const hits: string[] = []
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name))
      else if (e.name.startsWith(name)) hits.push(join(d, e.name))
    }
  }
  await walk(blocksDir)
  if (hits.length !== 1) throw new Error(`expected one block file for ${cid} in ${blocksDir}, found ${hits.length}`)
  if (how === 'delete') return rm(hits[0])
  const b = await readFile(hits[0])
  b[b.length - 1] ^= 0xff
  await writeFile(hits[0], b)
}
