import { Worker } from 'node:worker_threads'
import type { Address, Hex } from 'viem'
import { verifyLabelSignature, type LabelMessage } from './signature.ts'
import type { VerifyJob } from './verify-worker.ts'

/**
 * Signature verification is the one CPU-heavy step of a submission (~0.5-0.7 ms of secp256k1
 * public-key recovery); this pool runs it on worker threads so the event loop keeps serving HTTP
 * and SQLite while other cores verify. Jobs queued in the same tick go to a worker as one message.
 * With `threads: 0` it verifies inline.
 *
 * A worker that dies (an uncaught error, out of memory) is replaced at once. The jobs it held are
 * then checked one by one on the main thread (a rare, short stall): each good one still gets its
 * answer, and the one that throws is rejected with VerifierCrashed (the caller answers 503). One bad
 * job fails one request; it never hangs the others or takes the pool down.
 */
export type Verifier = { verify(chainId: number, address: Address, m: LabelMessage, signature: Hex): Promise<boolean>; close(): Promise<void> }

export class VerifierCrashed extends Error {
  constructor(why: string) {
    super(`signature verification worker crashed (${why})`)
    this.name = 'VerifierCrashed'
  }
}

type Pending = { job: VerifyJob; resolve(ok: boolean): void; reject(e: Error): void }
type Slot = { worker: Worker; inflight: Map<number, Pending> }

export function createVerifier(threads: number): Verifier {
  if (threads <= 0) return { verify: async (c, a, m, s) => verifyLabelSignature(c, a, m, s), close: async () => {} }
  let closed = false
  const slots: Slot[] = []

  const spawn = (i: number): void => {
    const worker = new Worker(new URL('./verify-worker.ts', import.meta.url))
    worker.unref()
    const slot: Slot = { worker, inflight: new Map() }
    slots[i] = slot
    worker.on('message', (r: { ids: number[]; ok: Uint8Array }) => {
      r.ids.forEach((id, j) => {
        slot.inflight.get(id)?.resolve(r.ok[j] === 1)
        slot.inflight.delete(id)
      })
    })
    let dead = false
    const die = (why: string) => {
      if (dead) return
      dead = true
      const orphans = [...slot.inflight.values()]
      slot.inflight.clear()
      if (closed) {
        for (const p of orphans) p.resolve(false)
        return
      }
      spawn(i)
      for (const p of orphans) {
        const j = p.job
        try {
          p.resolve(verifyLabelSignature(j.chainId, j.address, { contentHash: j.contentHash, campaign: j.campaign, taskId: BigInt(j.taskId), guidelinesVersion: BigInt(j.guidelinesVersion) }, j.signature))
        } catch {
          p.reject(new VerifierCrashed(why))
        }
      }
    }
    worker.on('error', (err) => die(String(err?.message ?? err)))
    worker.on('exit', (code) => die(`exit code ${code}`))
  }
  for (let i = 0; i < threads; i++) spawn(i)

  let rr = 0
  const send = (batch: Pending[]): void => {
    const slot = slots[rr++ % slots.length]
    for (const p of batch) slot.inflight.set(p.job.id, p)
    slot.worker.postMessage(batch.map((p) => p.job))
  }
  let nextId = 0
  let queue: Pending[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    const jobs = queue
    queue = []
    // spread a batch over the workers
    const per = Math.ceil(jobs.length / slots.length)
    for (let i = 0; i < jobs.length; i += per) send(jobs.slice(i, i + per))
  }
  return {
    verify(chainId, address, m, signature) {
      return new Promise<boolean>((resolve, reject) => {
        const job: VerifyJob = { id: nextId++, chainId, address, contentHash: m.contentHash, campaign: m.campaign, taskId: m.taskId.toString(), guidelinesVersion: m.guidelinesVersion.toString(), signature }
        queue.push({ job, resolve, reject })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    async close() {
      closed = true
      await Promise.all(slots.map((s) => s.worker.terminate()))
      for (const s of slots) {
        for (const p of s.inflight.values()) p.resolve(false)
        s.inflight.clear()
      }
    },
  }
}
