import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { ContentStore } from '../store/types.ts'
import { dataDir, packageRoot } from '../util/paths.ts'
import { createLogTail } from './log-tail.ts'
import { assertStageSpec, toBacalhauJob } from './spec.ts'
import type { JobResult, JobRunner, RunOptions, StageJobSpec } from './types.ts'
import { assertValidBacalhauJob } from './validate.ts'

export type LocalRunnerInit = {
  /** Where inputs are read from and outputs added to. */
  store: ContentStore
  /** Parent of each job's temporary work directory (default: the OS temp dir). */
  workRoot?: string
  /** Where `<jobId>.log` files go (default: <data dir>/jobs/logs). */
  logDir?: string
  /** How to run the image's `instruct3` entrypoint here (default: this Node running bin/instruct3.js). */
  instruct3Command?: string[]
  /** Host environment variables passed through to the job (the container would have none of them). */
  passEnv?: string[]
  /** Time allowed to read each input from the store (default 30 s). */
  inputTimeoutMs?: number
  /** Between SIGTERM and SIGKILL when a job times out or is stopped (default 2 s). */
  killGraceMs?: number
  /** Keep the work directory (inputs/, outputs/, home/) after the job, for debugging. */
  keepWorkDir?: boolean
}

const DEFAULT_PASS_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'INSTRUCT3_DEBUG']

/**
 * The embedded default runner: the same stage spec a Bacalhau node would run, in a child process.
 * `/inputs/<name>` are materialised from the store into a temp dir, `/outputs` is an empty temp dir that is added
 * back to the store when the job exits 0. The real paths reach the job through INSTRUCT3_INPUTS / INSTRUCT3_OUTPUTS
 * and by rewriting `/inputs/...` and `/outputs` where they appear in the arguments and env values.
 * The child gets its own process group so a timeout kills everything it started.
 */
export function createLocalRunner(init: LocalRunnerInit): JobRunner {
  const killGraceMs = init.killGraceMs ?? 2000
  return {
    kind: 'local',
    async run(spec: StageJobSpec, opts: RunOptions = {}): Promise<JobResult> {
      // Same checks as for Bacalhau, so a spec that runs here also submits there.
      assertStageSpec(spec)
      assertValidBacalhauJob(toBacalhauJob(spec))

      const jobId = `local-${spec.stage}-${randomBytes(4).toString('hex')}`
      const logDir = init.logDir ?? join(dataDir(), 'jobs', 'logs')
      await mkdir(logDir, { recursive: true })
      const logFile = join(logDir, `${jobId}.log`)
      const log = createWriteStream(logFile)
      const tail = createLogTail(40, (l) => {
        log.write(l.stream === 'stderr' ? `[stderr] ${l.line}\n` : `${l.line}\n`)
        opts.onLog?.(l)
      })
      const result = (state: JobResult['state'], extra: Partial<JobResult> = {}): JobResult => ({
        jobId,
        stage: spec.stage,
        state,
        logTail: tail.lines(),
        logFile,
        ...extra,
      })

      await mkdir(init.workRoot ?? tmpdir(), { recursive: true })
      const work = await mkdtemp(join(init.workRoot ?? tmpdir(), `instruct3-${spec.stage}-`))
      const inputsDir = join(work, 'inputs')
      const outputsDir = join(work, 'outputs')
      try {
        await mkdir(inputsDir)
        await mkdir(outputsDir)
        await mkdir(join(work, 'home'))
        for (const input of spec.inputs) {
          try {
            await init.store.get(input.cid, join(inputsDir, input.name), { timeoutMs: init.inputTimeoutMs ?? 30_000, signal: opts.signal })
          } catch (cause) {
            tail.push({ stream: 'stderr', line: `instruct3: cannot materialise input ${input.name} (${input.cid}): ${(cause as Error).message}` })
            return result('Failed', { message: `input "${input.name}" (${input.cid}) could not be read from the store: ${(cause as Error).message}` })
          }
        }

        const rewrite = (s: string) => rewritePaths(s, inputsDir, outputsDir)
        const argv = jobCommand(spec, init.instruct3Command, rewrite)
        const env: Record<string, string> = {}
        for (const k of init.passEnv ?? DEFAULT_PASS_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!
        for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = rewrite(v)
        Object.assign(env, {
          INSTRUCT3_INPUTS: inputsDir,
          INSTRUCT3_OUTPUTS: outputsDir,
          INSTRUCT3_JOB_ID: jobId,
          INSTRUCT3_STAGE: spec.stage,
          // like the image's INSTRUCT3_HOME=/tmp/instruct3: the job's scratch state never touches the caller's
          INSTRUCT3_HOME: join(work, 'home'),
        })
        const cwd = spec.workingDir ? rewrite(spec.workingDir) : work
        const timeoutS = spec.timeouts?.executionSeconds || spec.timeouts?.totalSeconds || 0

        const exit = await runChild(argv, { cwd, env, timeoutMs: timeoutS * 1000, killGraceMs, signal: opts.signal }, (stream, text) =>
          tail.chunk(stream, text),
        )
        tail.flush()
        if (exit.kind === 'error') return result('Failed', { message: `could not start ${argv[0]}: ${exit.error.message}` })
        if (exit.kind === 'timeout') return result('Failed', { message: `timed out after ${timeoutS}s (process group killed)` })
        if (exit.kind === 'aborted') return result('Stopped', { message: 'stopped by the caller' })
        if (exit.code !== 0) {
          const why = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`
          return result('Failed', { exitCode: exit.code ?? undefined, message: why })
        }
        const cid = await init.store.addDirectory(outputsDir, { pin: true })
        return result('Completed', { exitCode: 0, outputs: cid.toString() })
      } finally {
        await new Promise<void>((resolve) => log.end(resolve))
        if (!init.keepWorkDir) await rm(work, { recursive: true, force: true })
      }
    },
  }
}

/**
 * The local argv for a spec: the image's `instruct3` entrypoint (the default) becomes this Node running
 * bin/instruct3.js (or `instruct3Command`); any other entrypoint runs as given. Arguments go through `rewrite`.
 */
export function jobCommand(spec: Pick<StageJobSpec, 'entrypoint' | 'args'>, instruct3Command?: string[], rewrite: (s: string) => string = (s) => s): string[] {
  const entry = spec.entrypoint ?? ['instruct3']
  const head = entry[0] === 'instruct3' ? (instruct3Command ?? [process.execPath, join(packageRoot, 'bin', 'instruct3.js')]) : [entry[0]]
  return [...head, ...[...entry.slice(1), ...spec.args].map(rewrite)]
}

/** Replace the container paths /inputs and /outputs where they start a path inside `s`. */
export function rewritePaths(s: string, inputsDir: string, outputsDir: string): string {
  return s.replace(/(^|[\s=:,'"<>|;(])\/(inputs|outputs)(?=$|[/\s,:'";)|&<>])/g, (_m, pre: string, which: string) =>
    pre + (which === 'inputs' ? inputsDir : outputsDir),
  )
}

type ChildExit =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'error'; error: Error }

function runChild(
  argv: string[],
  o: { cwd: string; env: Record<string, string>; timeoutMs: number; killGraceMs: number; signal?: AbortSignal },
  onData: (stream: 'stdout' | 'stderr', text: string) => void,
): Promise<ChildExit> {
  return new Promise((resolve) => {
    // detached: the child leads a new process group, so kill(-pid) reaches its children too
    const child = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let ended: 'timeout' | 'aborted' | null = null
    let graceTimer: NodeJS.Timeout | undefined
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig)
      } catch {
        // already gone
      }
    }
    const stop = (why: 'timeout' | 'aborted') => {
      if (ended) return
      ended = why
      killGroup('SIGTERM')
      graceTimer = setTimeout(() => killGroup('SIGKILL'), o.killGraceMs)
    }
    const timer = o.timeoutMs > 0 ? setTimeout(() => stop('timeout'), o.timeoutMs) : undefined
    const onAbort = () => stop('aborted')
    o.signal?.addEventListener('abort', onAbort, { once: true })
    if (o.signal?.aborted) onAbort()
    child.stdout.setEncoding('utf8').on('data', (t: string) => onData('stdout', t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => onData('stderr', t))
    let spawnError: Error | null = null
    child.on('error', (e) => (spawnError = e))
    // A container ends with its main process: kill whatever it left in its group, which also closes the pipes
    // that a leftover background process would otherwise hold open (and 'close' would never come).
    child.on('exit', () => killGroup('SIGKILL'))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      // The group leader is gone; make sure nothing it left behind survives a timeout or stop.
      if (ended) {
        killGroup('SIGKILL')
        clearTimeout(graceTimer)
      }
      if (spawnError) resolve({ kind: 'error', error: spawnError })
      else if (ended) resolve({ kind: ended })
      else resolve({ kind: 'exit', code, signal })
    })
  })
}
