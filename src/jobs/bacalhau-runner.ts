import { Instruct3Error } from '../util/errors.ts'
import { createBacalhauClient, type BacalhauClient, type BacalhauClientInit } from './bacalhau.ts'
import { assertSomeNodeCanRun } from './bacalhau-nodes.ts'
import { createLogTail } from './log-tail.ts'
import { assertStageSpec, toBacalhauJob } from './spec.ts'
import type { JobResult, JobRunner, RunOptions, StageJobSpec } from './types.ts'
import { assertValidBacalhauJob } from './validate.ts'

export type BacalhauRunnerInit = BacalhauClientInit & {
  /** Job state poll interval (default 2 s). */
  pollMs?: number
  /** Give up waiting (and stop the job) after this long (default: the spec's total timeout + 60 s, else no limit). */
  waitTimeoutMs?: number
  /** Follow logs over the websocket while the job runs (default true). */
  followLogs?: boolean
  /** Ask /api/v1/orchestrator/nodes before submitting whether a compute node can run the job (default true). */
  checkNodes?: boolean
  client?: BacalhauClient
}

/**
 * Runs a stage on a Bacalhau network: validate, submit, follow logs, poll to a terminal state, then read the ipfs
 * publisher's CID for /outputs. A failed or stopped job comes back with its log tail: from the websocket if it
 * delivered, else from the executions' RunOutput (stdout/stderr that Bacalhau keeps with each execution).
 */
export function createBacalhauRunner(init: BacalhauRunnerInit): JobRunner & { client: BacalhauClient } {
  const client = init.client ?? createBacalhauClient(init)
  return {
    kind: 'bacalhau',
    client,
    async run(spec: StageJobSpec, opts: RunOptions = {}): Promise<JobResult> {
      assertStageSpec(spec)
      const job = toBacalhauJob(spec)
      assertValidBacalhauJob(job) // before anything is sent
      // a job no node can run (e.g. no node has an IPFS endpoint) would only sit queued: say so instead.
      // A user without the read:node capability gets 403 there; the job is still sent, with a note in its log.
      let skipped: string | undefined
      if (init.checkNodes !== false) {
        try {
          assertSomeNodeCanRun(await client.nodes(), job)
        } catch (e) {
          if (!(e instanceof Instruct3Error && e.details.status === 403)) throw e
          skipped = `instruct3: could not check the compute nodes (${e.message}); submitting anyway`
        }
      }
      const { jobId } = await client.submit(job)
      const tail = createLogTail(40, opts.onLog)
      if (skipped) tail.push({ stream: 'stderr', line: skipped })
      let gotLogs = false

      const logsDone =
        init.followLogs === false
          ? Promise.resolve()
          : client
              .logs(jobId, {
                follow: true,
                signal: opts.signal,
                onLine: (l) => {
                  gotLogs = true
                  tail.push(l)
                },
              })
              .catch(() => {}) // logs are best effort; RunOutput is the fallback

      const totalS = spec.timeouts?.totalSeconds ?? 0
      const timeoutMs = init.waitTimeoutMs ?? (totalS > 0 ? (totalS + 60) * 1000 : undefined)
      let status
      try {
        status = await client.wait(jobId, { pollMs: init.pollMs ?? 2000, timeoutMs, signal: opts.signal })
      } catch (e) {
        // the caller gave up (abort or our wait limit): don't leave the job running on the network
        await client.stop(jobId, 'instruct3: stopped waiting').catch(() => {})
        if (opts.signal?.aborted) return { jobId, stage: spec.stage, state: 'Stopped', logTail: tail.lines(), message: 'stopped by the caller' }
        throw e
      }
      // the websocket closes when the execution ends; don't wait forever for a stream that never opened
      let graceTimer: NodeJS.Timeout | undefined
      await Promise.race([logsDone, new Promise((r) => (graceTimer = setTimeout(r, 2000)))])
      clearTimeout(graceTimer)

      const execs = await client.executions(jobId).catch(() => [])
      const last = execs.at(-1)
      if (!gotLogs && last) {
        for (const line of splitLines(last.stdout)) tail.push({ stream: 'stdout', line })
        for (const line of splitLines(last.stderr)) tail.push({ stream: 'stderr', line })
      }
      const base = { jobId, stage: spec.stage, logTail: tail.lines(), exitCode: last?.exitCode }
      if (status.state !== 'Completed') {
        const why = [status.message, last?.message].filter(Boolean).join('; ')
        return { ...base, state: status.state, message: why || `job ${status.state.toLowerCase()}` }
      }
      const cid = await client.resultCid(jobId)
      if (!cid) return { ...base, state: 'Failed', message: 'job completed but published no ipfs result for /outputs' }
      return { ...base, state: 'Completed', outputs: cid }
    },
  }
}

function splitLines(s: string | undefined): string[] {
  if (!s) return []
  return s.replace(/\n$/, '').split('\n')
}
