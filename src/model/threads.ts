/**
 * Multi-threaded WASM for jax-js in Node, as a per-process switch (INSTRUCT3_THREADS=N, default 1).
 *
 * jax-js enables its WASM worker pool only when the globals `Worker` and `SharedArrayBuffer` exist when its
 * backend starts. Node has no Web `Worker`, so with N > 1 this module installs a small one over
 * `node:worker_threads`. jax-js hands its workers their code as a `blob:` URL, which Node cannot read
 * synchronously; so `Blob` is wrapped to remember string parts, and the worker is started with that text.
 * Pool size comes from `navigator.hardwareConcurrency`, which we set to N.
 *
 * The pool helps training (~1.1-1.5x, shared/reference/engine-notes.md) and hurts small-kernel generation,
 * so the CLI sets it per command. Must be imported before `@jax-js/jax` (src/model/jax.ts does).
 */
import { Worker as NodeWorker } from 'node:worker_threads'

export const requestedThreads = Math.max(1, Number(process.env.INSTRUCT3_THREADS ?? '1') | 0)

const blobText = new WeakMap<Blob, string>()
const urlText = new Map<string, string>()
const live = new Set<NodeWorker>()

function install(threads: number): void {
  const NativeBlob = globalThis.Blob
  class TextCapturingBlob extends NativeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options)
      if (parts && parts.every((p) => typeof p === 'string')) blobText.set(this, (parts as string[]).join(''))
    }
  }
  globalThis.Blob = TextCapturingBlob as typeof Blob
  const nativeCreate = URL.createObjectURL.bind(URL)
  const nativeRevoke = URL.revokeObjectURL.bind(URL)
  URL.createObjectURL = (obj: Blob) => {
    const url = nativeCreate(obj)
    const text = blobText.get(obj)
    if (text !== undefined) urlText.set(url, text)
    return url
  }
  URL.revokeObjectURL = (url: string) => {
    urlText.delete(url)
    nativeRevoke(url)
  }

  // Inside the worker: map the Web worker globals jax-js's worker code uses onto parentPort.
  const prelude = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`

  class ShimWorker {
    onmessage: ((e: { data: unknown }) => void) | null = null
    onerror: ((e: { message: string }) => void) | null = null
    #w: NodeWorker
    #pending = 0
    constructor(url: string | URL, _opts?: unknown) {
      const text = urlText.get(String(url))
      if (text === undefined) throw new Error(`worker shim: no source captured for ${String(url)}`)
      this.#w = new NodeWorker(prelude + text, { eval: true })
      live.add(this.#w)
      // A worker keeps the process alive only while a reply is awaited (each message gets one reply).
      this.#w.unref()
      this.#w.on('message', (data) => {
        if (--this.#pending === 0) this.#w.unref()
        this.onmessage?.({ data })
      })
      this.#w.on('error', (err) => this.onerror?.({ message: err.message }))
    }
    postMessage(data: unknown): void {
      if (this.#pending++ === 0) this.#w.ref()
      this.#w.postMessage(data)
    }
    terminate(): void {
      live.delete(this.#w)
      void this.#w.terminate()
    }
  }
  ;(globalThis as { Worker?: unknown }).Worker = ShimWorker
  Object.defineProperty(globalThis.navigator, 'hardwareConcurrency', { value: threads, configurable: true })
}

if (requestedThreads > 1 && typeof (globalThis as { Worker?: unknown }).Worker === 'undefined') install(requestedThreads)

/** Terminate the pool's workers (they are unref'd, so this is only needed to free them early). */
export async function terminateWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.terminate()))
  live.clear()
}
