/**
 * A local anvil devnet with generated activity, for the ingest tests and benchmark: spawn
 * node_modules/.bin/anvil on a free loopback port, deploy the fixture contracts (precompiled
 * bytecode, test/data/fixtures/contracts.json) and send transfers, approvals and swaps.
 * Anvil's accounts are unlocked, so `eth_sendTransaction` needs no signing here.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeDeployData, encodeFunctionData, type Abi, type Hex } from 'viem'
import { packageRoot } from '../../util/paths.ts'
import { Instruct3Error } from '../../util/errors.ts'

export type Devnet = { url: string; accounts: string[]; rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>; batch<T = unknown>(calls: Array<[string, unknown[]]>): Promise<T[]>; stop(): Promise<void> }

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
}

export async function startAnvil(extraArgs: string[] = []): Promise<Devnet> {
  const bin = join(packageRoot, 'node_modules', '.bin', 'anvil')
  if (!existsSync(bin)) throw new Instruct3Error('anvil not installed (devDependency @foundry-rs/anvil)', { details: { file: bin } })
  const port = await freePort()
  const child: ChildProcess = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--accounts', '10', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d) => (log = (log + d).slice(-4000)))
  child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)))
  const url = `http://127.0.0.1:${port}`
  let id = 0
  const post = async (body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return res.json()
  }
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const r = (await post({ jsonrpc: '2.0', id: ++id, method, params })) as { result?: T; error?: { message: string } }
    if (r.error) throw new Error(`${method}: ${r.error.message}`)
    return r.result as T
  }
  const batch = async <T>(calls: Array<[string, unknown[]]>): Promise<T[]> => {
    const base = id
    id += calls.length
    const r = (await post(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: base + i + 1, method, params })))) as Array<{ id: number; result?: T; error?: { message: string } }>
    const byId = new Map(r.map((x) => [x.id, x]))
    return calls.map((c, i) => {
      const x = byId.get(base + i + 1)
      if (!x || x.error) throw new Error(`${c[0]}: ${x?.error?.message ?? 'no response'}`)
      return x.result as T
    })
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      await rpc('eth_chainId')
      break
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Instruct3Error(`anvil did not start: ${log.slice(-500)}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const accounts = await rpc<string[]>('eth_accounts')
  return {
    url,
    accounts,
    rpc,
    batch,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
    },
  }
}

type Artifact = { abi: Abi; bytecode: Hex }
export function loadFixtureContracts(): Record<'Token' | 'Nft' | 'Multi' | 'Pair' | 'PoolV3', Artifact> {
  const f = join(packageRoot, 'test', 'data', 'fixtures', 'contracts.json')
  return JSON.parse(readFileSync(f, 'utf8')).contracts
}

export async function waitReceipt(d: Devnet, hash: string): Promise<{ status: string; contractAddress: string | null; blockNumber: string }> {
  for (let i = 0; i < 200; i++) {
    const r = await d.rpc<{ status: string; contractAddress: string | null; blockNumber: string } | null>('eth_getTransactionReceipt', [hash])
    if (r) return r
    await new Promise((res) => setTimeout(res, 20))
  }
  throw new Error(`no receipt for ${hash}`)
}

export async function deploy(d: Devnet, a: Artifact, args: unknown[], from = d.accounts[0]): Promise<string> {
  const data = encodeDeployData({ abi: a.abi, bytecode: a.bytecode, args })
  const hash = await d.rpc<string>('eth_sendTransaction', [{ from, data, gas: '0x500000' }])
  const r = await waitReceipt(d, hash)
  if (r.status !== '0x1' || !r.contractAddress) throw new Error('deploy failed')
  return r.contractAddress
}

export function call(a: Artifact, fn: string, args: unknown[]): Hex {
  return encodeFunctionData({ abi: a.abi, functionName: fn, args } as Parameters<typeof encodeFunctionData>[0])
}

/** Send a transaction and wait for its receipt (automine). */
export async function send(d: Devnet, tx: { from?: string; to: string; data?: Hex; value?: bigint }): Promise<string> {
  const hash = await d.rpc<string>('eth_sendTransaction', [{ from: tx.from ?? d.accounts[0], to: tx.to, data: tx.data ?? '0x', value: `0x${(tx.value ?? 0n).toString(16)}`, gas: '0x200000' }])
  const r = await waitReceipt(d, hash)
  if (r.status !== '0x1') throw new Error(`tx ${hash} reverted`)
  return hash
}
