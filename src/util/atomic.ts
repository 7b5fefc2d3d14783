import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { open, mkdir, rename, rm } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

/** A temp path in the same directory (so rename is atomic on one filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/**
 * Write a file atomically: write a temp file beside it, fsync, rename over the target.
 * A crash at any point leaves either the old file or the new one, never a half-written one.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array | Iterable<Uint8Array>): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = tempPathFor(path)
  const fd = openSync(tmp, 'w')
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data)
    else for (const chunk of data) writeAll(fd, chunk)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  renameSync(tmp, path)
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
}

/** Async variant that accepts an async iterable of chunks (streaming, no whole-file buffer). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = tempPathFor(path)
  const fh = await open(tmp, 'w')
  try {
    if (typeof data === 'string') await fh.write(Buffer.from(data))
    else if (data instanceof Uint8Array) await fh.write(data)
    else for await (const chunk of data as AsyncIterable<Uint8Array>) await fh.write(chunk)
    await fh.sync()
    await fh.close()
  } catch (err) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
  await rename(tmp, path)
}

/**
 * Replace a directory atomically: build it under a temp name with `fill`, then swap it in.
 * The old directory (if any) is removed only after the new one is in place.
 */
export async function writeDirAtomic(path: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(path)
  await mkdir(tmp, { recursive: true })
  try {
    await fill(tmp)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  const old = `${tmp}.old`
  let hadOld = false
  try {
    await rename(path, old)
    hadOld = true
  } catch {}
  await rename(tmp, path)
  if (hadOld) await rm(old, { recursive: true, force: true })
}
