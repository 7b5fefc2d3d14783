/**
 * TEST CODE ONLY. A stand-in for a Bacalhau orchestrator + one compute node, for the job tests: no Bacalhau binary
 * can run here. It implements the endpoints of /api/v1/orchestrator that instruct3 calls (PUT/POST /jobs,
 * GET /jobs/{id}, /executions, /results, /logs over a websocket, DELETE /jobs/{id}, GET /nodes) and
 * /api/v1/agent/alive, following bacalhau-project/bacalhau v1.9.3 (the shapes are checked against its
 * pkg/swagger/swagger.json in swagger.test.ts):
 * - JSON shapes: job states as strings (models/job.go JobStateType.MarshalText), execution states as integers,
 *   node type/membership/connection as text ("Compute", "APPROVED", "CONNECTED"), error bodies
 *   {Status, Message, Code, Component, RequestID, Hint?, Details?} (publicapi/apimodels/error.go);
 * - state machine: Pending -> Queued -> Running -> Completed | Failed, or Stopped; the execution is created when
 *   the job is scheduled, so /executions is empty at first;
 * - logs (publicapi/endpoint/orchestrator/job.go logs + orchestrator/endpoint.go ReadLogs): the socket is upgraded
 *   first; with no execution yet ReadLogs fails and the server writes one AsyncResult
 *   {"error": "failed to open log stream for job <id>: no executions found for job <name> with ID <id>, and
 *   version 0", "value": {"Type": 0, "Line": ""}} (lib/concurrency/async_result.go MarshalJSON) and a close frame;
 * - auth (publicapi/middleware/authz.go + authz/api_key_authorizer.go): with `apiKey` set, every path but the open
 *   /api/v1/agent/alive needs `Authorization: Bearer <key>`, else HTTP 401 {Message: "Request Unauthorized",
 *   Code: "Unauthorized", Component: "Authorizer", Details: {reason}}; the websocket handshake too;
 * - nodes: one compute node whose ComputeNodeInfo lists "ipfs" among StorageSources/Publishers only when it is
 *   configured with an IPFS endpoint (executor/util/utils.go, publisher/util/utils.go), and its GPUs.
 * The "compute node" runs the docker task with instruct3's local runner on a shared ContentStore, which plays the
 * IPFS network: inputs are read by CID from it and /outputs is published to it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createHash, randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { ContentStore } from '../../src/store/types.ts'
import { createLocalRunner } from '../../src/jobs/local.ts'
import type { StageJobSpec } from '../../src/jobs/types.ts'

type Exec = {
  ID: string
  JobID: string
  NodeID: string
  ComputeState: { StateType: number; Message?: string }
  DesiredState: { StateType: number }
  PublishedResult: { Type: string; Params: Record<string, unknown> } | null
  RunOutput: { Stdout: string; stderr: string; ExitCode: number } | null
  CreateTime: number
  ModifyTime: number
}
type StoredJob = {
  job: Record<string, any>
  state: string
  message: string
  execs: Exec[]
  logs: { Type: number; Line: string }[]
  listeners: Set<(m: { Type: number; Line: string } | null) => void>
  abort: AbortController
}

export type StandinOptions = {
  store: ContentStore
  /** Delay between state machine steps (default 20 ms). */
  stepMs?: number
  /** Answer the first N requests with 503 (to exercise retries). */
  failFirst?: number
  /** Serve logs over the websocket (default true); false makes the client fall back to RunOutput. */
  websocketLogs?: boolean
  workRoot: string
  /** Require `Authorization: Bearer <apiKey>` (an orchestrator with API.Auth users). */
  apiKey?: string
  /** The apiKey user lacks the `read:node` capability: /nodes answers 403 (authz/capabilities.go). */
  noNodeCapability?: boolean
  /** The compute node: IPFS endpoint configured (default true), GPUs (default 0). */
  node?: { ipfs?: boolean; gpus?: number }
}

/** One websocket log stream as served: the job, the log lines sent, the error sent (if any). */
export type LogStream = { jobId: string; lines: number; error?: string }

export type Standin = {
  url: string
  submissions: number
  requests: string[]
  jobs: Map<string, StoredJob>
  logStreams: LogStream[]
  /** The raw JSON bodies of the responses, by "METHOD path" (for the swagger check). */
  responses: { route: string; status: number; body: unknown }[]
  /** The raw JSON request bodies, by "METHOD path". */
  bodies: { route: string; body: unknown }[]
  /** Query parameters of every request (websocket handshakes as "WS path"). */
  queries: { route: string; query: URLSearchParams }[]
  /** The raw text messages sent over log websockets. */
  logMessages: string[]
  close(): Promise<void>
}

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped'])

export async function startStandin(opts: StandinOptions): Promise<Standin> {
  const stepMs = opts.stepMs ?? 20
  const jobs = new Map<string, StoredJob>()
  const runner = createLocalRunner({ store: opts.store, workRoot: opts.workRoot, logDir: `${opts.workRoot}/logs`, killGraceMs: 200 })
  let failLeft = opts.failFirst ?? 0
  const sockets = new Set<Duplex>()
  const self: Standin = { url: '', submissions: 0, requests: [], jobs, logStreams: [], responses: [], bodies: [], queries: [], logMessages: [], close: async () => {} }
  const nodeId = 'n-standin'

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const req = (res as ServerResponse & { req: IncomingMessage }).req
    self.responses.push({ route: `${req.method} ${new URL(req.url!, 'http://x').pathname}`, status, body })
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const apiError = (res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}) =>
    send(res, status, { Status: status, Message: message, Code: code, Component: 'standin', RequestID: randomUUID(), ...extra })
  /** authz.go: the reason a request is refused, or undefined when it may pass. */
  const authFailure = (req: IncomingMessage, path: string): string | undefined => {
    if (!opts.apiKey || path === '/api/v1/agent/alive') return undefined
    const h = req.headers.authorization
    if (!h) return 'Missing Authorization header'
    if (h !== `Bearer ${opts.apiKey}`) return 'invalid API key'
    return undefined
  }
  const nodeState = () => {
    const ipfs = opts.node?.ipfs ?? true
    const gpus = opts.node?.gpus ?? 0
    const res = { CPU: 4, Memory: 8 * 2 ** 30, Disk: 100 * 2 ** 30, GPU: gpus }
    return {
      Info: {
        NodeID: nodeId,
        NodeType: 'Compute',
        Labels: { Architecture: 'amd64', 'Operating-System': 'linux' },
        SupportedProtocols: ['ncl/v1'],
        ComputeNodeInfo: {
          ExecutionEngines: ['docker', 'wasm'],
          Publishers: ['local', 'noop', 's3', ...(ipfs ? ['ipfs'] : [])],
          StorageSources: ['inline', 'localDirectory', 's3', 'urlDownload', ...(ipfs ? ['ipfs'] : [])],
          MaxCapacity: res,
          QueueCapacity: { CPU: 0, Memory: 0, Disk: 0, GPU: 0 },
          AvailableCapacity: res,
          MaxJobRequirements: res,
          RunningExecutions: 0,
          EnqueuedExecutions: 0,
          address: '127.0.0.1',
        },
        BacalhauVersion: { Major: '1', Minor: '9', GitVersion: 'v1.9.3', GitCommit: '2b0ed139', BuildDate: '2026-08-09T23:18:47Z', GOOS: 'linux', GOARCH: 'amd64' },
      },
      Membership: 'APPROVED',
      ConnectionState: { Status: 'CONNECTED', ConnectedSince: new Date().toISOString(), LastHeartbeat: new Date().toISOString() },
      Connection: 'CONNECTED',
    }
  }

  const emit = (j: StoredJob, m: { Type: number; Line: string } | null) => {
    if (m) j.logs.push(m)
    for (const l of j.listeners) l(m)
  }
  const finish = (j: StoredJob, state: string, message: string) => {
    j.state = state
    j.message = message
    emit(j, null)
  }

  async function execute(id: string) {
    const j = jobs.get(id)!
    await sleep(stepMs)
    if (TERMINAL.has(j.state)) return
    j.state = 'Queued'
    await sleep(stepMs)
    if (TERMINAL.has(j.state)) return
    const now = Date.now() * 1e6
    const ex: Exec = {
      ID: `e-${randomUUID()}`,
      JobID: id,
      NodeID: nodeId,
      ComputeState: { StateType: 5 }, // BidAccepted
      DesiredState: { StateType: 1 }, // Running
      PublishedResult: null,
      RunOutput: null,
      CreateTime: now,
      ModifyTime: now,
    }
    j.execs.push(ex)
    j.state = 'Running'
    await sleep(stepMs)
    if (TERMINAL.has(j.state)) return
    ex.ComputeState = { StateType: 6 } // Running
    const task = j.job.Tasks[0]
    const p = task.Engine.Params
    const spec: StageJobSpec = {
      name: j.job.Name,
      stage: task.Name,
      image: p.Image,
      entrypoint: p.Entrypoint,
      args: p.Parameters ?? [],
      inputs: (task.InputSources ?? []).map((s: any) => ({ name: s.Target.replace(/^\/inputs\//, ''), cid: s.Source.Params.CID })),
      env: Object.fromEntries((p.EnvironmentVariables ?? []).map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)])),
      timeouts: { executionSeconds: task.Timeouts?.ExecutionTimeout ?? 0 },
    }
    let stdout = ''
    let stderr = ''
    const r = await runner.run(spec, {
      signal: j.abort.signal,
      onLog: (l) => {
        if (l.stream === 'stdout') stdout += l.line + '\n'
        else stderr += l.line + '\n'
        emit(j, { Type: l.stream === 'stdout' ? 1 : 2, Line: l.line + '\n' })
      },
    })
    if (j.state === 'Stopped') return
    ex.RunOutput = { Stdout: stdout, stderr, ExitCode: r.exitCode ?? -1 }
    if (r.state === 'Completed') {
      ex.ComputeState = { StateType: 7 } // Publishing
      await sleep(stepMs)
      ex.PublishedResult = { Type: 'ipfs', Params: { CID: r.outputs } }
      ex.ComputeState = { StateType: 9 } // Completed
      ex.DesiredState = { StateType: 2 }
      finish(j, 'Completed', '')
    } else {
      ex.ComputeState = { StateType: 10, Message: r.message } // Failed
      ex.DesiredState = { StateType: 2 }
      finish(j, 'Failed', `failed to execute: ${r.message}`)
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x')
    self.requests.push(`${req.method} ${url.pathname}`)
    self.queries.push({ route: `${req.method} ${url.pathname}`, query: url.searchParams })
    if (failLeft > 0) {
      failLeft--
      return apiError(res, 503, 'ServiceUnavailable', 'orchestrator starting')
    }
    const denied = authFailure(req, url.pathname)
    if (denied) {
      return apiError(res, 401, 'Unauthorized', 'Request Unauthorized', { Component: 'Authorizer', Hint: 'Unauthorized principal. Event has been recorded.', Details: { reason: denied } })
    }
    const m = /^\/api\/v1\/orchestrator\/jobs(?:\/([^/]+))?(?:\/(executions|results|logs))?$/.exec(url.pathname)
    if (url.pathname === '/api/v1/agent/alive' && req.method === 'GET') return send(res, 200, { Status: 'OK' })
    if (url.pathname === '/api/v1/orchestrator/nodes' && req.method === 'GET') {
      if (opts.noNodeCapability) {
        return apiError(res, 403, 'Forbidden', 'Request Forbidden', {
          Component: 'Authorizer',
          Hint: 'Check if user have access to this resource. Event has been recorded.',
          Details: { reason: "user 'standin' does not have the required capability 'read:node'" },
        })
      }
      return send(res, 200, { Nodes: [nodeState()], NextToken: '' })
    }
    if (!m) return apiError(res, 404, 'NotFound', `no route ${req.method} ${url.pathname}`)
    const [, id, sub] = m
    if (!id && (req.method === 'PUT' || req.method === 'POST')) {
      const body = JSON.parse((await readBody(req)) || '{}')
      self.bodies.push({ route: `${req.method} ${url.pathname}`, body: structuredClone(body) })
      const job = body.Job
      // the server's own minimal checks (the client is expected to validate fully before sending)
      if (!job || !job.Type || !Array.isArray(job.Tasks) || job.Tasks.length === 0 || !job.Tasks[0].Engine?.Type) {
        return apiError(res, 400, 'ValidationError', 'invalid job spec')
      }
      self.submissions++
      const jobId = `j-${randomUUID()}`
      job.ID = jobId
      job.Namespace ||= 'default'
      jobs.set(jobId, { job, state: 'Pending', message: '', execs: [], logs: [], listeners: new Set(), abort: new AbortController() })
      void execute(jobId)
      return send(res, 200, { JobID: jobId, EvaluationID: `ev-${randomUUID()}`, Warnings: [] })
    }
    const j = id ? jobs.get(id) : undefined
    if (!j) return apiError(res, 404, 'NotFound', `job not found: ${id}`)
    if (!sub && req.method === 'GET') {
      const out = { ...j.job, State: { StateType: j.state, Message: j.message } }
      const extra = url.searchParams.get('include') === 'executions' ? { Executions: { Items: j.execs } } : {}
      return send(res, 200, { Job: out, ...extra })
    }
    if (!sub && req.method === 'DELETE') {
      if (TERMINAL.has(j.state)) return apiError(res, 400, 'BadRequest', `job ${id} is already in terminal state ${j.state}`)
      const body = await readBody(req)
      const reason = body ? (JSON.parse(body).reason ?? '') : ''
      for (const ex of j.execs) {
        ex.ComputeState = { StateType: 11, Message: reason } // Cancelled
        ex.DesiredState = { StateType: 2 }
      }
      finish(j, 'Stopped', reason || 'job stopped by user')
      j.abort.abort()
      return send(res, 200, { EvaluationID: `ev-${randomUUID()}` })
    }
    if (sub === 'executions' && req.method === 'GET') return send(res, 200, { Items: j.execs, NextToken: '' })
    if (sub === 'results' && req.method === 'GET') {
      return send(res, 200, { Items: j.execs.filter((e) => e.PublishedResult).map((e) => e.PublishedResult), NextToken: '' })
    }
    return apiError(res, 405, 'MethodNotAllowed', `${req.method} ${url.pathname}`)
  })

  // GET /jobs/{id}/logs: a minimal RFC 6455 server (handshake, unmasked text frames, close frame).
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const url = new URL(req.url!, 'http://x')
    self.requests.push(`WS ${url.pathname}`)
    self.queries.push({ route: `WS ${url.pathname}`, query: url.searchParams })
    const m = /^\/api\/v1\/orchestrator\/jobs\/([^/]+)\/logs$/.exec(url.pathname)
    const j = m ? jobs.get(m[1]) : undefined
    const key = req.headers['sec-websocket-key']
    const denied = authFailure(req, url.pathname)
    if (denied) {
      const body = JSON.stringify({ Status: 401, Message: 'Request Unauthorized', Code: 'Unauthorized', Component: 'Authorizer', Details: { reason: denied } })
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
      return
    }
    if (!j || typeof key !== 'string' || opts.websocketLogs === false) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
    const stream: LogStream = { jobId: j.job.ID, lines: 0 }
    self.logStreams.push(stream)
    const text = (s: string) => {
      self.logMessages.push(s)
      socket.write(frame(0x1, Buffer.from(s)))
    }
    const close = () => {
      j.listeners.delete(listener)
      socket.write(frame(0x8, Buffer.from([0x03, 0xe8]))) // 1000 normal closure
      setTimeout(() => socket.end(), 20)
    }
    if (j.execs.length === 0) {
      // ReadLogs: no execution yet -> logs() writes the error as one AsyncResult, then the close frame
      stream.error = `failed to open log stream for job ${j.job.ID}: no executions found for job ${j.job.Name ?? ''} with ID ${j.job.ID}, and version 0`
      text(JSON.stringify({ error: stream.error, value: { Type: 0, Line: '' } }))
      socket.write(frame(0x8, Buffer.from([0x03, 0xe8])))
      return void setTimeout(() => socket.end(), 20)
    }
    const line = (l: { Type: number; Line: string }) => {
      stream.lines++
      text(JSON.stringify({ value: l }))
    }
    const listener = (msg: { Type: number; Line: string } | null) => (msg ? line(msg) : close())
    for (const l of j.logs) line(l)
    if (url.searchParams.get('follow') === 'true' && !TERMINAL.has(j.state)) j.listeners.add(listener)
    else close()
  })

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  self.close = async () => {
    for (const j of jobs.values()) j.abort.abort()
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
  return self
}

function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
  if (n >= 126 && n < 65536) {
    head[0] = 0x80 | opcode
    head[1] = 126
    head.writeUInt16BE(n, 2)
  } else if (n >= 65536) {
    head[0] = 0x80 | opcode
    head[1] = 127
    head.writeBigUInt64BE(BigInt(n), 2)
  }
  return Buffer.concat([head, payload])
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (s += c))
    req.on('end', () => resolve(s))
    req.on('error', reject)
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
