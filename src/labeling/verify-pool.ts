import { Worker } from 'node:worker_threads'
import type { Address, Hex } from 'viem'
import { verifyLabelSignature, type LabelMessage } from './signature.ts'
import type { VerifyJob } from './verify-worker.ts'

/**
 * Signature verification is the one CPU-heavy step of a submission (~0.5-0.7 ms of secp256k1
 * public-key recovery); this pool runs it on worker threads so the event loop keeps serving HTTP
 * and SQLite while other cores verify. Jobs queued in the same tick go to a worker as one message.
 * With `threads: 0` it verifies inline.
 */
export type Verifier = { verify(chainId: number, address: Address, m: LabelMessage, signature: Hex): Promise<boolean>; close(): Promise<void> }

export function createVerifier(threads: number): Verifier {
  if (threads <= 0) return { verify: async (c, a, m, s) => verifyLabelSignature(c, a, m, s), close: async () => {} }
  const workers = Array.from({ length: threads }, () => {
    const w = new Worker(new URL('./verify-worker.ts', import.meta.url))
    w.unref()
    return w
  })
  const pending = new Map<number, (ok: boolean) => void>()
  for (const w of workers)
    w.on('message', (r: { ids: number[]; ok: Uint8Array }) => {
      r.ids.forEach((id, i) => {
        pending.get(id)?.(r.ok[i] === 1)
        pending.delete(id)
      })
    })
  let nextId = 0
  let rr = 0
  let queue: VerifyJob[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    const jobs = queue
    queue = []
    // spread a batch over the workers
    const per = Math.ceil(jobs.length / workers.length)
    for (let i = 0; i < jobs.length; i += per) workers[rr++ % workers.length].postMessage(jobs.slice(i, i + per))
  }
  return {
    verify(chainId, address, m, signature) {
      return new Promise<boolean>((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        queue.push({ id, chainId, address, contentHash: m.contentHash, campaign: m.campaign, taskId: m.taskId.toString(), guidelinesVersion: m.guidelinesVersion.toString(), signature })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()))
      for (const r of pending.values()) r(false)
      pending.clear()
    },
  }
}
