import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../util/paths.ts'
import { Instruct3Error } from '../util/errors.ts'

export type AnvilOptions = {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Load chain state from this file at start and dump it there on exit (`anvil --state`). */
  statePath?: string
  chainId?: number
  /** Funded dev accounts derived from the anvil mnemonic (anvil's default is 10). */
  accounts?: number
  /** Give up when anvil is not listening after this long (default 30 s). */
  timeoutMs?: number
}

export type Anvil = {
  rpcUrl: string
  port: number
  pid: number
  /** Stop anvil (SIGTERM, so `--state` is dumped; SIGKILL after 5 s) and wait for it to exit. */
  close(): Promise<void>
}

/** The anvil executable: the platform binary if present (one process to stop), else the npm wrapper. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  try {
    return require.resolve(`@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}/bin/anvil`)
  } catch {
    const wrapper = join(packageRoot, 'node_modules', '.bin', 'anvil')
    if (existsSync(wrapper)) return wrapper
    throw new Instruct3Error('anvil not found: install @foundry-rs/anvil (a devDependency)', { code: 'ENOANVIL' })
  }
}

/**
 * Start a local anvil on 127.0.0.1 and resolve once it listens. It runs in its own process group,
 * which `close()` (and this process exiting) terminates, so no anvil outlives its owner.
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(opts.chainId ?? 31337)]
  if (opts.statePath) args.push('--state', opts.statePath)
  if (opts.accounts) args.push('--accounts', String(opts.accounts))
  const child = spawn(anvilBinary(), args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal)
    } catch {}
  }
  const onExit = () => killGroup('SIGKILL')
  process.once('exit', onExit)

  const port = await waitListening(child, opts.timeoutMs ?? 30_000).catch((err) => {
    killGroup('SIGKILL')
    process.removeListener('exit', onExit)
    throw err
  })
  // Keep draining anvil's per-transaction log, or a full pipe would stall it.
  child.stdout!.resume()
  child.stderr!.resume()
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  let closing: Promise<void> | undefined
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    close() {
      closing ??= (async () => {
        killGroup('SIGTERM')
        const timer = setTimeout(() => killGroup('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
        process.removeListener('exit', onExit)
      })()
      return closing
    },
  }
}

function waitListening(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const done = (fn: () => void) => {
      clearTimeout(timer)
      child.stdout!.removeListener('data', onOut)
      child.removeListener('exit', onExitEarly)
      fn()
    }
    const onOut = (b: Buffer) => {
      out += b.toString()
      const m = /Listening on [\d.]+:(\d+)/.exec(out)
      if (m) done(() => resolve(Number(m[1])))
    }
    const onExitEarly = (code: number | null) =>
      done(() => reject(new Instruct3Error(`anvil exited (code ${code}) before listening: ${(err || out).trim().slice(-500)}`, { code: 'EANVIL' })))
    const timer = setTimeout(
      () => done(() => reject(new Instruct3Error(`anvil did not start listening within ${timeoutMs} ms`, { code: 'EANVIL' }))),
      timeoutMs,
    )
    child.stdout!.on('data', onOut)
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
    child.once('exit', onExitEarly)
    child.once('error', (e) => done(() => reject(new Instruct3Error(`cannot start anvil: ${e.message}`, { code: 'EANVIL', cause: e }))))
  })
}
