import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'

/**
 * UnixFS import settings shared by both backends so the same bytes give the same CID everywhere:
 * IPIP-499 "unixfs-v1-2025" (CIDv1, raw leaves, 1 MiB chunks, 1024 links per node), no mtime/mode
 * (so a CID depends on content only, which is what makes runs comparable). For Kubo the same is
 * `cid-version=1 raw-leaves=true chunker=size-1048576 max-file-links=1024`, sent with every add: Kubo's
 * default is 174 links per file node (config.DefaultUnixFSFileMaxLinks, kubo v0.42 config/import.go), so
 * without it a file over 174 chunks (174 MiB) gets a different root CID than the embedded node gives it.
 * Kubo accepts `max-file-links` per request since v0.35 (core/commands/add.go, maxFileLinksOptionName).
 */
export const IMPORT_OPTIONS = { profile: 'unixfs-v1-2025' } as const
export const KUBO_ADD_PARAMS = { 'cid-version': 1, 'raw-leaves': true, chunker: 'size-1048576', 'max-file-links': 1024 } as const

export type Candidate = { path: string; content?: AsyncIterable<Uint8Array> }

/**
 * Files and folders under `root` as importer candidates with paths relative to it, sorted by name
 * (deterministic), each file streamed from disk when the importer reaches it. Symlinks and special
 * files are refused rather than silently followed.
 */
export async function directoryCandidates(root: string, onBytes?: (n: number) => void): Promise<AsyncIterable<Candidate>> {
  let st
  try {
    st = await stat(root)
  } catch (cause) {
    throw new Instruct3Error(`cannot read directory: ${(cause as Error).message}`, { code: 'ENOENT', details: { file: root }, cause })
  }
  if (!st.isDirectory()) throw new Instruct3Error('not a directory', { code: 'ENOTDIR', details: { file: root } })
  return walk(root, '', onBytes)
}

async function* walk(root: string, rel: string, onBytes?: (n: number) => void): AsyncGenerator<Candidate> {
  const entries = (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  if (rel !== '' && entries.length === 0) yield { path: rel }
  for (const e of entries) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`
    if (e.isDirectory()) yield* walk(root, p, onBytes)
    else if (e.isFile()) yield { path: p, content: readFileStream(join(root, p), onBytes) }
    else throw new Instruct3Error('not a regular file or directory (symlinks are not followed)', { code: 'EFILETYPE', details: { file: join(root, p) } })
  }
}

/** Check a path is a readable regular file before streaming it (clear error instead of a stream error). */
export async function assertFile(path: string): Promise<void> {
  let st
  try {
    st = await stat(path)
  } catch (cause) {
    throw new Instruct3Error(`cannot read file: ${(cause as Error).message}`, { code: 'ENOENT', details: { file: path }, cause })
  }
  if (!st.isFile()) throw new Instruct3Error('not a regular file', { code: 'EFILETYPE', details: { file: path } })
}

/** A file as a stream of 1 MiB chunks, reporting each chunk's size (progress) as it is read. */
export async function* readFileStream(path: string, onBytes?: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    onBytes?.((chunk as Buffer).byteLength)
    yield chunk as Buffer
  }
}
