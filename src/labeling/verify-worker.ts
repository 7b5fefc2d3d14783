// Worker thread for verify-pool.ts: verifies batches of label signatures off the main thread.
import { parentPort } from 'node:worker_threads'
import type { Address, Hex } from 'viem'
import { verifyLabelSignature } from './signature.ts'

export type VerifyJob = { id: number; chainId: number; address: Address; contentHash: Hex; campaign: string; taskId: string; guidelinesVersion: string; signature: Hex }

parentPort!.on('message', (jobs: VerifyJob[]) => {
  const out = new Uint8Array(jobs.length)
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]
    out[i] = verifyLabelSignature(j.chainId, j.address, { contentHash: j.contentHash, campaign: j.campaign, taskId: BigInt(j.taskId), guidelinesVersion: BigInt(j.guidelinesVersion) }, j.signature) ? 1 : 0
  }
  parentPort!.postMessage({ ids: jobs.map((j) => j.id), ok: out })
})
