import { Instruct3Error } from '../util/errors.ts'
import type { BacalhauJob, Execution, ExecutionLog, SpecConfig } from './bacalhau-model.ts'
import { executionStateName } from './bacalhau-model.ts'
import type { JobLogLine, JobState } from './types.ts'
import { TERMINAL_JOB_STATES } from './types.ts'
import { assertValidBacalhauJob } from './validate.ts'

/**
 * A client for Bacalhau's orchestrator API (v1.5+, /api/v1/orchestrator). Requests are retried on network errors,
 * 429 and 5xx with exponential backoff (base * 2^attempt, capped), a bounded number of times; 4xx answers are
 * Bacalhau's verdict and are not retried. When the orchestrator cannot be reached at all the error says so.
 */
export type BacalhauClientInit = {
  /** e.g. http://127.0.0.1:1234 (Bacalhau's default API port). */
  apiUrl: string
  /** Attempts per request, including the first (default 4). */
  attempts?: number
  /** First backoff delay (default 250 ms); doubles each retry up to maxBackoffMs (default 4 s). */
  backoffMs?: number
  maxBackoffMs?: number
  /** Per-request timeout (default 15 s). */
  requestTimeoutMs?: number
  /**
   * Authorization header value for orchestrators with API.Auth (v1.9 pkg/authz: "Bearer <api key>" or
   * "Basic <base64 user:pass>"). Default: from BACALHAU_API_KEY, else BACALHAU_API_USERNAME + BACALHAU_API_PASSWORD
   * (the names the bacalhau CLI reads, pkg/common/constants.go).
   */
  authorization?: string
  /** Where the default authorization is read from (default process.env). */
  env?: NodeJS.ProcessEnv
  /** How often logs() asks /executions whether the job has an execution yet (default 500 ms). */
  executionPollMs?: number
}

/** The Authorization header the bacalhau CLI would send, from its environment variables; undefined without them. */
export function bacalhauAuthFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.BACALHAU_API_KEY) return `Bearer ${env.BACALHAU_API_KEY}`
  if (env.BACALHAU_API_USERNAME && env.BACALHAU_API_PASSWORD) {
    return `Basic ${Buffer.from(`${env.BACALHAU_API_USERNAME}:${env.BACALHAU_API_PASSWORD}`).toString('base64')}`
  }
  return undefined
}

export type SubmitResult = { jobId: string; evaluationId: string; warnings: string[] }
export type JobStatus = { jobId: string; name: string; state: JobState; message: string; job: BacalhauJob }
export type ExecutionSummary = {
  id: string
  nodeId: string
  state: string
  desiredState: string
  message: string
  exitCode?: number
  stdout?: string
  stderr?: string
  published?: SpecConfig
}
/** A node as GET /api/v1/orchestrator/nodes lists it (models.NodeState; only the fields instruct3 reads). */
export type NodeSummary = {
  id: string
  type: string
  membership: string
  connection: string
  engines: string[]
  publishers: string[]
  storageSources: string[]
  /** MaxCapacity.GPU: GPUs the node has. */
  gpus: number
}
export type LogsOptions = {
  follow?: boolean
  executionId?: string
  onLine: (line: JobLogLine) => void
  signal?: AbortSignal
}

export type BacalhauClient = {
  readonly apiUrl: string
  alive(): Promise<boolean>
  /** Validate (Bacalhau's rules) then PUT the job. An invalid job is never sent. */
  submit(job: BacalhauJob): Promise<SubmitResult>
  status(jobId: string): Promise<JobStatus>
  executions(jobId: string): Promise<ExecutionSummary[]>
  /** Nodes the orchestrator knows (GET /api/v1/orchestrator/nodes). */
  nodes(): Promise<NodeSummary[]>
  /** Published results (ipfs publisher: {Type: "ipfs", Params: {CID}}). */
  results(jobId: string): Promise<SpecConfig[]>
  /** The CID of the first ipfs result, if any. */
  resultCid(jobId: string): Promise<string | undefined>
  stop(jobId: string, reason?: string): Promise<{ evaluationId: string }>
  /**
   * Stream logs over the orchestrator's websocket until it closes (job finished, or `follow` false and history sent).
   * Bacalhau answers "no executions found" (and closes) while the job has no execution yet (v1.9.3
   * pkg/orchestrator/endpoint.go ReadLogs), so this first polls /executions until one exists; it returns without
   * opening the socket if the job ends before any execution was created.
   */
  logs(jobId: string, opts: LogsOptions): Promise<void>
  /** Poll until the job reaches Completed, Failed or Stopped. */
  wait(jobId: string, opts?: { pollMs?: number; timeoutMs?: number; onState?: (s: JobStatus) => void; signal?: AbortSignal }): Promise<JobStatus>
}

const JOB_STATES: readonly JobState[] = ['Undefined', 'Pending', 'Queued', 'Running', 'Completed', 'Failed', 'Stopped']

export function createBacalhauClient(init: BacalhauClientInit): BacalhauClient {
  let base: URL
  try {
    base = new URL(init.apiUrl)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)')
  } catch {
    throw new Instruct3Error(`invalid Bacalhau API URL "${init.apiUrl}" (expected http://host:port)`, { code: 'ECONFIG', details: { field: 'bacalhau-api' } })
  }
  const root = base.href.replace(/\/+$/, '')
  const attempts = Math.max(1, init.attempts ?? 4)
  const backoffMs = init.backoffMs ?? 250
  const maxBackoffMs = init.maxBackoffMs ?? 4000
  const requestTimeoutMs = init.requestTimeoutMs ?? 15_000
  const authorization = init.authorization ?? bacalhauAuthFromEnv(init.env ?? process.env)
  const auth: Record<string, string> = authorization ? { authorization } : {}
  const executionPollMs = init.executionPollMs ?? 500

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${root}${path}`
    let lastCause: unknown
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1)))
      let res: Response
      try {
        res = await fetch(url, {
          method,
          headers: body === undefined ? { accept: 'application/json', ...auth } : { 'content-type': 'application/json', accept: 'application/json', ...auth },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(requestTimeoutMs),
        })
      } catch (cause) {
        lastCause = cause
        continue // connection refused, DNS, reset, timeout: try again
      }
      const text = await res.text()
      if (res.ok) {
        try {
          return (text === '' ? {} : JSON.parse(text)) as T
        } catch (cause) {
          throw new Instruct3Error(`Bacalhau API returned invalid JSON for ${method} ${path}`, { code: 'EBACALHAU', details: { url }, cause })
        }
      }
      const apiErr = parseApiError(text)
      if (res.status === 429 || res.status >= 500) {
        lastCause = new Error(`HTTP ${res.status}: ${apiErr.message}`)
        continue
      }
      const authHint =
        res.status === 401 ? (authorization ? ' (the orchestrator refused our credentials)' : ' (the orchestrator requires credentials: set BACALHAU_API_KEY, or BACALHAU_API_USERNAME and BACALHAU_API_PASSWORD)') : ''
      throw new Instruct3Error(`Bacalhau API ${method} ${path} failed (HTTP ${res.status}): ${apiErr.message}${apiErr.reason ? `: ${apiErr.reason}` : ''}${apiErr.hint ? ` (hint: ${apiErr.hint})` : ''}${authHint}`, {
        code: res.status === 404 ? 'ENOTFOUND' : 'EBACALHAU',
        details: { url, status: res.status, bacalhauCode: apiErr.code },
      })
    }
    const why = describeCause(lastCause)
    throw new Instruct3Error(`cannot reach the Bacalhau orchestrator at ${root} after ${attempts} attempts (${why}); is \`bacalhau serve\` running and --bacalhau-api right?`, {
      code: 'EUNREACHABLE',
      details: { url, attempts },
      cause: lastCause,
    })
  }

  const enc = encodeURIComponent
  const toStatus = (job: BacalhauJob & { ID?: string }): JobStatus => {
    const raw = job.State?.StateType
    const state = JOB_STATES.find((s) => s.toLowerCase() === String(raw ?? '').toLowerCase()) ?? 'Undefined'
    return { jobId: job.ID ?? '', name: job.Name ?? '', state, message: job.State?.Message ?? '', job }
  }

  const client: BacalhauClient = {
    apiUrl: root,
    async alive() {
      try {
        await request('GET', '/api/v1/agent/alive')
        return true
      } catch (e) {
        if (e instanceof Instruct3Error && e.code === 'EUNREACHABLE') return false
        throw e
      }
    },
    async submit(job) {
      const report = assertValidBacalhauJob(job)
      const r = await request<{ JobID: string; EvaluationID: string; Warnings?: string[] | null }>('PUT', '/api/v1/orchestrator/jobs', { Job: job })
      if (!r.JobID) throw new Instruct3Error('Bacalhau accepted the job but returned no JobID', { code: 'EBACALHAU', details: { url: root } })
      return { jobId: r.JobID, evaluationId: r.EvaluationID ?? '', warnings: [...report.warnings, ...(r.Warnings ?? [])] }
    },
    async status(jobId) {
      const r = await request<{ Job: BacalhauJob & { ID?: string } }>('GET', `/api/v1/orchestrator/jobs/${enc(jobId)}`)
      return toStatus(r.Job)
    },
    async executions(jobId) {
      const r = await request<{ Items?: Execution[] | null }>('GET', `/api/v1/orchestrator/jobs/${enc(jobId)}/executions`)
      return (r.Items ?? []).map((e) => ({
        id: e.ID,
        nodeId: e.NodeID ?? '',
        state: executionStateName(e.ComputeState?.StateType),
        desiredState: desiredStateName(e.DesiredState?.StateType),
        message: e.ComputeState?.Message ?? '',
        exitCode: e.RunOutput?.ExitCode,
        stdout: e.RunOutput?.Stdout,
        stderr: e.RunOutput?.stderr,
        published: e.PublishedResult ?? undefined,
      }))
    },
    async nodes() {
      const r = await request<{ Nodes?: NodeStateWire[] | null }>('GET', '/api/v1/orchestrator/nodes')
      return (r.Nodes ?? []).map((n) => {
        const c = n.Info?.ComputeNodeInfo
        return {
          id: n.Info?.NodeID ?? '',
          type: String(n.Info?.NodeType ?? ''),
          membership: String(n.Membership ?? ''),
          connection: String(n.ConnectionState?.Status ?? n.Connection ?? ''),
          engines: c?.ExecutionEngines ?? [],
          publishers: c?.Publishers ?? [],
          storageSources: c?.StorageSources ?? [],
          gpus: Number(c?.MaxCapacity?.GPU ?? 0),
        }
      })
    },
    async results(jobId) {
      const r = await request<{ Items?: SpecConfig[] | null }>('GET', `/api/v1/orchestrator/jobs/${enc(jobId)}/results`)
      return r.Items ?? []
    },
    async resultCid(jobId) {
      for (const item of await client.results(jobId)) {
        const cid = item.Params?.CID
        if (item.Type === 'ipfs' && typeof cid === 'string' && cid !== '') return cid
      }
      return undefined
    },
    async stop(jobId, reason) {
      // StopJobRequest binds {"reason": ...} from the JSON body (the field has no query tag)
      const r = await request<{ EvaluationID?: string }>('DELETE', `/api/v1/orchestrator/jobs/${enc(jobId)}`, reason ? { reason } : undefined)
      return { evaluationId: r.EvaluationID ?? '' }
    },
    async logs(jobId, opts) {
      // wait for an execution: before it exists the orchestrator answers the socket with "no executions found"
      for (;;) {
        if (opts.signal?.aborted) return
        if (opts.executionId || (await client.executions(jobId)).length > 0) break
        if (TERMINAL_JOB_STATES.includes((await client.status(jobId)).state)) {
          if ((await client.executions(jobId)).length > 0) break
          return
        }
        await sleep(executionPollMs)
      }
      const u = new URL(`${root}/api/v1/orchestrator/jobs/${enc(jobId)}/logs`)
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
      if (opts.follow) u.searchParams.set('follow', 'true')
      if (opts.executionId) u.searchParams.set('execution_id', opts.executionId)
      return streamLogs(u.href, opts, auth)
    },
    async wait(jobId, opts = {}) {
      const pollMs = opts.pollMs ?? 1000
      const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity
      let last = ''
      for (;;) {
        if (opts.signal?.aborted) throw new Instruct3Error('stopped waiting for the job', { code: 'EABORT', details: { jobId } })
        const s = await client.status(jobId)
        if (s.state !== last) {
          last = s.state
          opts.onState?.(s)
        }
        if (TERMINAL_JOB_STATES.includes(s.state)) return s
        if (Date.now() > deadline) {
          throw new Instruct3Error(`job ${jobId} still ${s.state} after ${Math.round(opts.timeoutMs! / 1000)}s`, { code: 'ETIMEOUT', details: { jobId } })
        }
        await sleep(pollMs)
      }
    },
  }
  return client
}

/**
 * Read the orchestrator's log websocket: each text message is a JSON AsyncResult {value: {Type, Line}, error}
 * (Type 1 stdout, 2 stderr). Uses Node 22's built-in WebSocket (a WHATWG client).
 */
function streamLogs(url: string, opts: LogsOptions, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket
    try {
      // Node's WebSocket (undici) takes extra handshake headers in its init object; the DOM type does not know them
      ws = new WebSocket(url, { headers } as unknown as string[])
    } catch (cause) {
      return reject(new Instruct3Error(`cannot open the log stream ${url}`, { code: 'EBACALHAU', cause }))
    }
    let failed: Instruct3Error | null = null
    let opened = false
    const onAbort = () => ws.close()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    ws.addEventListener('open', () => (opened = true))
    ws.addEventListener('message', (ev: MessageEvent) => {
      let msg: { value?: ExecutionLog; error?: unknown }
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString('utf8'))
      } catch {
        return
      }
      const err = msg.error
      if (err !== undefined && err !== null && !(typeof err === 'object' && Object.keys(err).length === 0) && err !== '') {
        failed = new Instruct3Error(`Bacalhau log stream error: ${typeof err === 'string' ? err : JSON.stringify(err)}`, { code: 'EBACALHAU', details: { url } })
        return
      }
      const v = msg.value
      if (!v || typeof v.Line !== 'string') return
      const stream = v.Type === 2 ? 'stderr' : 'stdout'
      // a message may carry several lines, or one line with its newline
      const lines = v.Line.replace(/\r?\n$/, '').split(/\r?\n/)
      for (const line of lines) opts.onLine({ stream, line })
    })
    ws.addEventListener('error', () => {
      if (!failed) failed = new Instruct3Error(opened ? `log stream ${url} broke` : `cannot open the log stream ${url}`, { code: 'EBACALHAU', details: { url } })
      // Node's WebSocket does not always fire 'close' after a failed handshake: settle here
      if (!opened) {
        opts.signal?.removeEventListener('abort', onAbort)
        reject(failed)
      }
    })
    ws.addEventListener('close', () => {
      opts.signal?.removeEventListener('abort', onAbort)
      if (failed && !opts.signal?.aborted) reject(failed)
      else resolve()
    })
  })
}

/** models.NodeState as it goes on the wire (NodeType, Membership and connection Status marshal as text). */
type NodeStateWire = {
  Info?: {
    NodeID?: string
    NodeType?: string | number
    ComputeNodeInfo?: { ExecutionEngines?: string[]; Publishers?: string[]; StorageSources?: string[]; MaxCapacity?: { GPU?: number } }
  }
  Membership?: string
  Connection?: string
  ConnectionState?: { Status?: string }
}

function desiredStateName(v: unknown): string {
  const names = ['Pending', 'Running', 'Stopped']
  if (typeof v === 'number' && v >= 0 && v < names.length) return names[v]
  return typeof v === 'string' ? v : `Unknown(${String(v)})`
}

/** Bacalhau's error body: {Status, Message, Code, Hint, RequestID, Component, Details} (v1.9.3 apimodels/error.go). */
function parseApiError(text: string): { message: string; code?: string; hint?: string; reason?: string } {
  try {
    const j = JSON.parse(text) as { Message?: string; message?: string; Code?: string; Hint?: string; Details?: Record<string, string> }
    const message = j.Message ?? j.message
    if (message) return { message, code: j.Code, hint: j.Hint, reason: j.Details?.reason }
  } catch {
    // not JSON
  }
  return { message: text.trim().slice(0, 300) || 'no details' }
}

function describeCause(cause: unknown): string {
  if (!cause) return 'no answer'
  const e = cause as { message?: string; cause?: { code?: string; message?: string }; name?: string }
  if (e.name === 'TimeoutError') return 'request timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(cause)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
