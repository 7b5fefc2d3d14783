// `npm run bench -- ingest [--txs N] [--per-block N]`: chain ingest throughput against a local anvil.
// Generates N transactions (half ERC-20 transfers with a log each, half plain ETH transfers) in
// blocks of --per-block, then ingests them twice: the default settings (batched JSON-RPC, 4 blocks
// in flight) and a baseline in the same run (no batching, one block at a time). Prints blocks/s,
// tx/s and peak RSS of this process during each ingest (anvil runs in its own process).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ingestChain, type IngestOptions } from '../src/data/chain/ingest.ts'
import { call, deploy, loadFixtureContracts, startAnvil } from '../src/data/chain/devnet.ts'

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : def
}

export async function run(args: string[]): Promise<void> {
  const total = arg(args, 'txs', 10_000)
  const perBlock = arg(args, 'per-block', 100)
  const d = await startAnvil(['--gas-limit', '100000000'])
  const tmp = mkdtempSync(join(tmpdir(), 'i3-bench-ingest-'))
  try {
    const C = loadFixtureContracts()
    const token = await deploy(d, C.Token, ['Bench', 10n ** 30n])
    // give every account tokens so transfers can come from all of them
    for (const a of d.accounts.slice(1)) await d.rpc('eth_sendTransaction', [{ from: d.accounts[0], to: token, data: call(C.Token, 'transfer', [a, 10n ** 27n]), gas: '0x20000' }])
    await d.rpc('evm_setAutomine', [false])
    const first = Number(BigInt(await d.rpc<string>('eth_blockNumber'))) + 1
    const t0 = performance.now()
    let sent = 0
    while (sent < total) {
      const n = Math.min(perBlock, total - sent)
      const calls: Array<[string, unknown[]]> = []
      for (let i = 0; i < n; i++) {
        const k = sent + i
        const from = d.accounts[k % d.accounts.length]
        const to = d.accounts[(k + 1) % d.accounts.length]
        calls.push(['eth_sendTransaction', [k % 2 === 0
          ? { from, to: token, data: call(C.Token, 'transfer', [to, BigInt(k + 1)]), gas: '0x20000' }
          : { from, to, value: `0x${(k + 1).toString(16)}`, gas: '0x5208' }]])
      }
      await d.batch(calls)
      await d.rpc('evm_mine', [])
      sent += n
    }
    const last = Number(BigInt(await d.rpc<string>('eth_blockNumber')))
    const genS = (performance.now() - t0) / 1000
    console.log(`generated ${total} txs in blocks ${first}..${last} (${perBlock}/block) on anvil in ${genS.toFixed(1)} s`)

    const measure = async (label: string, o: Partial<IngestOptions>) => {
      let peak = process.memoryUsage().rss
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
      const t = performance.now()
      const cpu0 = process.cpuUsage()
      const r = await ingestChain({ rpcUrl: d.url, from: first, to: last, outDir: join(tmp, label), quiet: true, ...o })
      const s = (performance.now() - t) / 1000
      clearInterval(timer)
      const cpu = process.cpuUsage(cpu0)
      const cpuS = (cpu.user + cpu.system) / 1e6
      peak = Math.max(peak, process.memoryUsage().rss)
      const st = r.cursor.stats
      if (st.transactions !== total) throw new Error(`expected ${total} txs, ingested ${st.transactions}`)
      const row = { label, seconds: s, blocksPerS: st.blocks / s, txPerS: st.transactions / s, peakRssMiB: peak / 2 ** 20, events: st.events, clientCpuS: cpuS }
      console.log(`${label.padEnd(34)} ${s.toFixed(2).padStart(7)} s | ${row.blocksPerS.toFixed(1).padStart(7)} blocks/s | ${row.txPerS.toFixed(0).padStart(6)} tx/s | peak RSS ${row.peakRssMiB.toFixed(0)} MiB | client CPU ${cpuS.toFixed(2)} s (${((cpuS / st.transactions) * 1e6).toFixed(0)} µs/tx) | ${st.events} events decoded`)
      return row
    }
    // baseline first; every run reads the same mined blocks
    const base = await measure('baseline (no batch, 1 block at once)', { batchSize: 1, concurrency: 1, chunkBlocks: 25 })
    const def = await measure('default (batch 100, 4 in flight)', {})
    const wide = await measure('batch 100, 8 in flight, chunk 50', { concurrency: 8, chunkBlocks: 50 })
    console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} cores; wall time minus client CPU is time spent waiting on anvil`)
    console.log(`speed-up over baseline: default ${(def.txPerS / base.txPerS).toFixed(2)}x, wide ${(wide.txPerS / base.txPerS).toFixed(2)}x`)
  } finally {
    await d.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
}
