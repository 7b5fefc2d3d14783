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
export function jaxChild(name: string, spec: unknown, threads: number, timeoutMs = 600_000): Promise<Record<string, unknown>> {
  const env = { ...process.env, INSTRUCT3_THREADS: String(threads) }
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
