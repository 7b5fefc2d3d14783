/**
 * Load generation against a running labeling server, from another process: used by
 * `npm run bench -- label` and by the SIGKILL durability test. Labels are signed up front (with
 * libsecp256k1/WASM, which produces the same low-s signatures a wallet does), so the measured
 * process only sends HTTP; the server verifies every signature.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { bytesToHex, hexToBytes, keccak256, toHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import * as ecc from 'tiny-secp256k1'
import { packageRoot } from '../src/util/paths.ts'
import { createApiClient, makeLabel } from '../src/labeling/client.ts'
import { contentHash } from '../src/labeling/canonical.ts'
import { labelDigest, labelMessage } from '../src/labeling/signature.ts'
import type { TaskView } from '../src/labeling/tasks.ts'

export type SpawnedServer = { url: string; proc: ChildProcess; stderrTail: () => string; stop(): Promise<void> }

/** Start `instruct3 label serve` as a child process on an ephemeral port. */
export async function spawnLabelingServer(db: string, extra: string[] = [], nodeArgs: string[] = []): Promise<SpawnedServer> {
  const proc = spawn(process.execPath, [...nodeArgs, join(packageRoot, 'bin', 'instruct3.js'), 'label', 'serve', '--db', db, '--port', '0', '--quiet-requests', '--no-rate-limit', '--max-leases', '1000000', '--no-build-web', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)))
  const url = await new Promise<string>((res, rej) => {
    let out = ''
    const t = setTimeout(() => rej(new Error('server did not start in 30 s: ' + err)), 30_000)
    proc.stdout!.on('data', (d) => {
      out += d
      const m = /labeling server at (\S+)/.exec(out)
      if (m) {
        clearTimeout(t)
        res(m[1])
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(t)
      rej(new Error(`server exited (${code}): ${err}`))
    })
  })
  return {
    url,
    proc,
    stderrTail: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await exited
    },
  }
}

export type Prepared = { key: string; cookie: string; body: string; labelHash: Hex }

/** A wallet whose private key we hold (to pre-sign with WASM libsecp256k1). */
function loadWallet(name: string) {
  const pk = keccak256(toHex('instruct3 load wallet ' + name))
  return { pk: hexToBytes(pk), account: privateKeyToAccount(pk) }
}

/**
 * Sign in a requester and `labelers` labelers, create a ranking campaign with `prompts` prompts
 * and overlap = labelers, have every labeler lease every task, and pre-sign one label per lease.
 */
export async function prepareLoad(url: string, opts: { requester: string; labelers: number; prompts: number; k?: number; chainId?: number }): Promise<{ campaign: string; submissions: Prepared[] }> {
  const chainId = opts.chainId ?? 31337
  const req = createApiClient(url)
  const rq = loadWallet(opts.requester)
  const si = await req.signIn(rq.account, { chainId })
  if (si.status !== 200) throw new Error('requester sign-in failed: ' + JSON.stringify(si.body))
  const prompts = Array.from({ length: opts.prompts }, (_, i) => `Load prompt ${i}: explain gas refunds in one paragraph.`)
  const cr = await req.call('POST', '/api/campaigns', { name: 'load', prompts, policy: 'bench/deterministic', kinds: ['ranking'], k: opts.k ?? 4, overlap: Math.max(3, opts.labelers), goldEvery: 1_000_000, leaseSeconds: 3600 })
  if (cr.status !== 201) throw new Error('campaign: ' + JSON.stringify(cr.body))
  const campaign: string = cr.body.campaign.id
  const submissions: Prepared[] = []
  for (let li = 0; li < opts.labelers; li++) {
    const w = loadWallet(`labeler-${li}`)
    const c = createApiClient(url)
    const r = await c.signIn(w.account, { chainId })
    if (r.status !== 200) throw new Error('labeler sign-in failed: ' + JSON.stringify(r.body))
    {
      // The claim returns the leases the labeler holds, topped up to `count`.
      const { status, body } = await c.call<{ tasks: TaskView[] }>('POST', `/api/campaigns/${campaign}/tasks/claim`, { count: opts.prompts })
      if (status !== 200 || body.tasks.length !== opts.prompts) throw new Error(`claim: ${status} ${body.tasks?.length}`)
      for (const t of body.tasks) {
        const ranking = Array.from({ length: t.k }, (_, i) => (i + li + t.taskId) % t.k)
        const label = makeLabel(t, w.account.address, { ranking, likert: ranking.map((x) => 7 - x), flags: {} })
        const labelHash = contentHash(label)
        const sig = ecc.signRecoverable(labelDigest(chainId, labelMessage(label, labelHash)), w.pk)
        const signature = (bytesToHex(sig.signature) + (27 + sig.recoveryId).toString(16)) as Hex
        const key = `L${li}-T${t.taskId}`
        submissions.push({ key, cookie: c.cookie, labelHash, body: JSON.stringify({ taskId: t.taskId, idempotencyKey: `load-${key}`, label, signature }) })
      }
    }
  }
  return { campaign, submissions }
}

export type LoadResult = { sent: number; acked: Map<string, Hex>; errors: Map<string, number>; latenciesMs: number[]; elapsedS: number }

/**
 * Send submissions. `rate` (per second) = open loop: requests leave on schedule whatever the
 * server does, latency counted from the scheduled time (no coordinated omission). Otherwise
 * closed loop with `concurrency` requests in flight.
 */
export async function runLoad(url: string, subs: Prepared[], opts: { rate?: number; concurrency?: number; stopAfterAcks?: number; onAck?: (n: number) => void }): Promise<LoadResult> {
  const u = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const acked = new Map<string, Hex>()
  const errors = new Map<string, number>()
  const lat: number[] = []
  let sent = 0
  let stop = false
  const t0 = performance.now()
  const one = (s: Prepared, scheduled: number) =>
    new Promise<void>((resolve) => {
      sent++
      const req = request(
        { host: u.hostname, port: u.port, method: 'POST', path: '/api/labels', agent, headers: { 'content-type': 'application/json', cookie: s.cookie, 'content-length': Buffer.byteLength(s.body) } },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c) => chunks.push(c))
          res.on('end', () => {
            lat.push(performance.now() - scheduled)
            if (res.statusCode === 201 || res.statusCode === 200) {
              const b = JSON.parse(Buffer.concat(chunks).toString()) as { labelHash: Hex }
              acked.set(s.key, b.labelHash)
              opts.onAck?.(acked.size)
              if (opts.stopAfterAcks && acked.size >= opts.stopAfterAcks) stop = true
            } else errors.set(String(res.statusCode), (errors.get(String(res.statusCode)) ?? 0) + 1)
            resolve()
          })
          res.on('error', () => resolve())
        },
      )
      req.on('error', (e) => {
        errors.set((e as NodeJS.ErrnoException).code ?? 'ERR', (errors.get((e as NodeJS.ErrnoException).code ?? 'ERR') ?? 0) + 1)
        resolve()
      })
      req.end(s.body)
    })
  const inflight = new Set<Promise<void>>()
  if (opts.rate) {
    const interval = 1000 / opts.rate
    for (let i = 0; i < subs.length && !stop; i++) {
      const due = t0 + i * interval
      const wait = due - performance.now()
      if (wait > 1) await new Promise((r) => setTimeout(r, wait))
      const p = one(subs[i], due).then(() => {
        inflight.delete(p)
      })
      inflight.add(p)
    }
  } else {
    let next = 0
    const worker = async () => {
      while (!stop && next < subs.length) {
        const s = subs[next++]
        await one(s, performance.now())
      }
    }
    await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker))
  }
  await Promise.all(inflight)
  const elapsedS = (performance.now() - t0) / 1000
  agent.destroy()
  return { sent, acked, errors, latenciesMs: lat, elapsedS }
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

/** The address of a load wallet (for --requester). */
export const loadWalletAddress = (name: string) => loadWallet(name).account.address
