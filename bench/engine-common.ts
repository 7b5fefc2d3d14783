/**
 * Shared helpers for the engine benchmarks (bench/train.ts, bench/generate.ts): child processes (one per
 * engine setting, so threads are per process and peak RSS is per setting), PyTorch detection, tables.
 */
import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { cpus } from 'node:os'

export const benchDir = dirname(fileURLToPath(import.meta.url))
export const PYTHON = process.env.INSTRUCT3_TORCH_PYTHON ?? '/usr/bin/python3'

/** Debian's OpenBLAS misbehaves with tuning variables meant for other tools: unset them for PyTorch. */
function torchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.OPENBLAS_CORETYPE
  delete env.OPENBLAS_L2_SIZE
  return env
}

export function torchVersion(): string | null {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { env: torchEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)
  if (!line) throw new Error(`no JSON result in child output:\n${stdout}`)
  return JSON.parse(line)
}

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve(lastJsonLine(stdout))
    })
  })
}

/** Run `npm run bench -- <name> --child <json>` in a fresh Node process with INSTRUCT3_THREADS set. */
export function jaxChild(name: string, spec: unknown, threads: number, timeoutMs = 600_000, extraEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const env = { ...process.env, INSTRUCT3_THREADS: String(threads), ...extraEnv }
  return runChild(process.execPath, [join(benchDir, 'main.ts'), name, '--child', JSON.stringify(spec)], env, timeoutMs)
}

export function torchChild(script: string, spec: unknown, timeoutMs = 600_000): Promise<Record<string, unknown>> {
  return runChild(PYTHON, [join(benchDir, script), JSON.stringify(spec)], torchEnv(), timeoutMs)
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024
}

/** Parse `--key value` / `--flag` arguments. */
export function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!a.startsWith('--')) continue
    const next = args[i + 1]
    if (next !== undefined && !next.startsWith('--')) out[a.slice(2)] = args[++i]
    else out[a.slice(2)] = 'true'
  }
  return out
}

export function machineLine(): string {
  const cpu = cpus()
  return `${cpu.length} x ${cpu[0]?.model ?? '?'}, Node ${process.version}, load average ${loadAvg()}`
}

function loadAvg(): string {
  try {
    return execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')
  } catch {
    return '?'
  }
}

/** A Markdown table (so the output can be pasted into docs). */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

type Group = { key: string; kind: string; ms: number; calls: number; flops: number }

/**
 * Summarise jax-js kernel traces (profiler.startTrace() makes every dispatch a performance.measure entry
 * with the kernel's expression, output size and reduction) into a per-kernel-kind breakdown:
 * matmul (a sum over products of two inputs; GFLOP/s from 2 * size * K), reductions, elementwise
 * kernels and CPU routines (gather/scatter...). `wallMs` is the wall time of the traced steps: the rest is
 * JS-side work (tracing the jit cache lookup, dispatch, host transfers).
 */
export function kernelBreakdown(entries: PerformanceEntry[], wallMs: number, steps: number): string {
  const groups = new Map<string, Group>()
  let kernelMs = 0
  for (const e of entries) {
    const props = new Map<string, string>(((e as PerformanceMeasure).detail as { devtools?: { properties?: [string, string][] } })?.devtools?.properties ?? [])
    let kind: string
    let key: string
    let flops = 0
    if (!e.name.startsWith('Kernel[')) {
      kind = `routine ${e.name}`
      key = `${e.name} ${props.get('inputShapes') ?? ''} -> ${props.get('outputShapes') ?? ''}`
    } else {
      const size = Number(props.get('size'))
      const red = props.get('reduction')
      const exp = props.get('exp') ?? ''
      if (red && red.startsWith('Add:') && /^\(GV_\d+<[^>]*>\{[^}]*\}\[[^\]]*\] \* GV_\d+</.test(exp)) {
        const K = Number(red.slice(4))
        kind = 'matmul'
        key = `matmul out=${size} K=${K}`
        flops = 2 * size * K
      } else if (red) {
        kind = 'reduction'
        key = `reduce ${red} out=${size}`
      } else {
        kind = 'elementwise'
        key = `elementwise size=${size}`
      }
    }
    const g = groups.get(key) ?? { key, kind, ms: 0, calls: 0, flops: 0 }
    g.ms += e.duration
    g.calls++
    g.flops += flops
    groups.set(key, g)
    kernelMs += e.duration
  }
  const kinds = new Map<string, Group>()
  for (const g of groups.values()) {
    const k = kinds.get(g.kind) ?? { key: g.kind, kind: g.kind, ms: 0, calls: 0, flops: 0 }
    k.ms += g.ms
    k.calls += g.calls
    k.flops += g.flops
    kinds.set(g.kind, k)
  }
  const pct = (ms: number) => `${((100 * ms) / wallMs).toFixed(1)}%`
  const gfs = (g: Group) => (g.flops ? (g.flops / (g.ms / 1000) / 1e9).toFixed(1) : '-')
  const perStep = (ms: number) => (ms / steps).toFixed(1)
  const byKind = [...kinds.values()].sort((a, b) => b.ms - a.ms).map((g) => [g.key, String(g.calls / steps), perStep(g.ms), pct(g.ms), gfs(g)])
  byKind.push(['(outside kernels: JS, dispatch, transfers)', '-', perStep(wallMs - kernelMs), pct(wallMs - kernelMs), '-'])
  byKind.push(['total wall', '-', perStep(wallMs), '100%', '-'])
  const top = [...groups.values()].sort((a, b) => b.ms - a.ms).slice(0, 15).map((g) => [g.key, String(g.calls / steps), perStep(g.ms), pct(g.ms), gfs(g)])
  return [
    table(['kernel kind', 'calls/step', 'ms/step', 'share', 'GFLOP/s'], byKind),
    '',
    table(['top kernels', 'calls/step', 'ms/step', 'share', 'GFLOP/s'], top),
  ].join('\n')
}
