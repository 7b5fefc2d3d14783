/**
 * `npm run bench -- label [--rate 500] [--seconds 10] [--labelers 20] [--concurrency 32] [--closed 4000] [--verify-threads N] [--synchronous FULL|NORMAL]`
 *
 * Signed-submission throughput of the labeling server. The server runs as `instruct3 label serve`
 * (SQLite, WAL, synchronous=FULL unless --synchronous NORMAL) in one process; this process is the load generator on loopback.
 * Every submission is pre-signed here (EIP-712, one wallet per labeler); the server verifies each
 * signature, checks the lease and content, and commits before answering.
 *  1. baseline: GET /api/health closed loop (HTTP + framework floor on this machine, same run)
 *  2. open loop at --rate for --seconds: achieved rate, p50/p99/max latency from the scheduled send time
 *  3. closed loop with --concurrency in flight: the saturation throughput
 *  4. GET /api/me/stats as every labeler: first request each (uncached), then a 3 s closed loop
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'node:http'
import { loadWalletAddress, percentile, prepareLoad, runLoad, spawnLabelingServer } from './loadgen.ts'

/** CPU seconds (user + system) a process (or one of its threads) has used, from /proc (Linux). */
function cpuSeconds(pid: number, tid?: number): number {
  try {
    const f = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return NaN
  }
}

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : def
}

async function healthBaseline(url: string, seconds: number, concurrency: number): Promise<number> {
  const u = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  let n = 0
  const end = performance.now() + seconds * 1000
  const get = () => new Promise<void>((res) => request({ host: u.hostname, port: u.port, path: '/api/health', agent }, (r) => r.resume().on('end', () => res())).on('error', () => res()).end())
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) { await get(); n++ } }))
  agent.destroy()
  return n / ((performance.now() - t0) / 1000)
}

/** GET /api/me/stats as the given sessions: each cookie once (cold), then a closed loop for `seconds` (warm). */
async function statsLoad(url: string, cookies: string[], seconds: number, concurrency: number): Promise<{ cold: number[]; warm: number[]; warmRate: number; errors: number }> {
  const u = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  let errors = 0
  const get = (cookie: string) =>
    new Promise<number>((res) => {
      const t = performance.now()
      request({ host: u.hostname, port: u.port, path: '/api/me/stats', agent, headers: { cookie } }, (r) => {
        if (r.statusCode !== 200) errors++
        r.resume().on('end', () => res(performance.now() - t))
      })
        .on('error', () => (errors++, res(performance.now() - t)))
        .end()
    })
  const cold: number[] = []
  for (const c of cookies) cold.push(await get(c))
  const warm: number[] = []
  const end = performance.now() + seconds * 1000
  const t0 = performance.now()
  let i = 0
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) warm.push(await get(cookies[i++ % cookies.length])) }))
  const warmRate = warm.length / ((performance.now() - t0) / 1000)
  agent.destroy()
  return { cold, warm, warmRate, errors }
}

export async function run(args: string[]): Promise<void> {
  const rate = arg(args, 'rate', 500)
  const seconds = arg(args, 'seconds', 10)
  const labelers = arg(args, 'labelers', 20)
  const concurrency = arg(args, 'concurrency', 32)
  const closedN = arg(args, 'closed', 4000)
  const verifyThreads = arg(args, 'verify-threads', -1)
  const si = args.indexOf('--synchronous')
  const synchronous = si >= 0 ? args[si + 1] : 'FULL'
  const total = Math.ceil(rate * seconds) + closedN
  const prompts = Math.ceil(total / labelers)
  const dir = mkdtempSync(join(tmpdir(), 'i3-bench-label-'))
  const srv = await spawnLabelingServer(join(dir, 'labels.sqlite'), ['--requester', loadWalletAddress('requester'), ...(verifyThreads >= 0 ? ['--verify-threads', String(verifyThreads)] : []), '--sqlite-synchronous', synchronous])
  try {
    console.log(`label bench: ${cpus().length} CPUs visible, server pid ${srv.proc.pid} at ${srv.url}, SQLite synchronous=${synchronous}`)
    const base = await healthBaseline(srv.url, 3, concurrency)
    console.log(`baseline  GET /api/health closed loop (c=${concurrency}): ${base.toFixed(0)} req/s`)
    const t0 = performance.now()
    const { submissions } = await prepareLoad(srv.url, { requester: 'requester', labelers, prompts })
    console.log(`setup     ${labelers} labelers x ${prompts} leased ranking tasks (K=4), ${submissions.length} labels pre-signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const open = submissions.slice(0, Math.ceil(rate * seconds))
    const closed = submissions.slice(open.length)
    const o = await runLoad(srv.url, open, { rate })
    const oRate = o.acked.size / o.elapsedS
    const p50 = percentile(o.latenciesMs, 50)
    const p99 = percentile(o.latenciesMs, 99)
    console.log(
      `open loop @${rate}/s for ${seconds}s: ${o.acked.size}/${o.sent} acked, ${oRate.toFixed(0)} labels/s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...o.latenciesMs).toFixed(1)} ms, errors ${JSON.stringify(Object.fromEntries(o.errors))}`,
    )
    const cpu0 = cpuSeconds(srv.proc.pid!)
    const main0 = cpuSeconds(srv.proc.pid!, srv.proc.pid!) // the event-loop thread: the serial bottleneck
    const self0 = process.cpuUsage()
    const c = await runLoad(srv.url, closed, { concurrency })
    const serverCpuMs = ((cpuSeconds(srv.proc.pid!) - cpu0) * 1000) / c.acked.size
    const mainCpuMs = ((cpuSeconds(srv.proc.pid!, srv.proc.pid!) - main0) * 1000) / c.acked.size
    const su = process.cpuUsage(self0)
    const loadCpuMs = (su.user + su.system) / 1000 / c.acked.size
    const cRate = c.acked.size / c.elapsedS
    console.log(
      `closed loop c=${concurrency}: ${c.acked.size}/${c.sent} acked, ${cRate.toFixed(0)} labels/s, p50 ${percentile(c.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(c.latenciesMs, 99).toFixed(1)} ms, errors ${JSON.stringify(Object.fromEntries(c.errors))}`,
    )
    console.log(`cpu       server ${serverCpuMs.toFixed(2)} ms per signed submission, of which event-loop thread ${mainCpuMs.toFixed(2)} ms (=> at most ${(1000 / mainCpuMs).toFixed(0)}/s when it has a core to itself), load generator ${loadCpuMs.toFixed(2)} ms per request; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
    const st = await statsLoad(srv.url, [...new Set(submissions.map((x) => x.cookie))], 3, concurrency)
    console.log(
      `me/stats  ${st.cold.length} labelers with ${prompts} labels each: first request (uncached) p50 ${percentile(st.cold, 50).toFixed(1)} ms, max ${Math.max(...st.cold).toFixed(1)} ms; closed loop c=${concurrency} 3 s: ${st.warmRate.toFixed(0)} req/s, p50 ${percentile(st.warm, 50).toFixed(1)} ms, p99 ${percentile(st.warm, 99).toFixed(1)} ms, errors ${st.errors}`,
    )
    console.log(`ratio     signed submissions / health baseline: ${(cRate / base).toFixed(3)} (saturation), target ${rate}/s with p99 < 100 ms: ${oRate >= rate * 0.98 && p99 < 100 ? 'MET' : 'NOT MET'}`)
  } finally {
    await srv.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) await run(process.argv.slice(2))
