// Chain ingest against a REAL anvil with activity created here: ERC-20/721/1155 events, a
// constant-product swap (Uniswap V2 event), a V3-shaped swap, a failed transaction and a plain
// ETH transfer; through a loopback proxy that injects rate limits and hard failures.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { spawnSync } from 'node:child_process'
import { packageRoot } from '../../src/util/paths.ts'
import { join } from 'node:path'
import { ingestChain, loadAbiFile, readChainRecords } from '../../src/data/chain/ingest.ts'
import { createLogDecoder } from '../../src/data/chain/events.ts'
import { call, deploy, loadFixtureContracts, send, startAnvil, type Devnet } from '../../src/data/chain/devnet.ts'
import type { EventRecord, TransactionRecord } from '../../src/data/chain/records.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { loadPrompts } from '../../src/data/formats.ts'

let d: Devnet
let tmp: string
const C = loadFixtureContracts()
const addr: Record<string, string> = {}
let head = 0
let swapOut = 0n

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'i3-anvil-'))
  d = await startAnvil()
  const [a0, a1, a2] = d.accounts
  addr.tokA = await deploy(d, C.Token, ['A', 10n ** 24n])
  addr.tokB = await deploy(d, C.Token, ['B', 10n ** 24n])
  addr.nft = await deploy(d, C.Nft, [])
  addr.multi = await deploy(d, C.Multi, [])
  addr.pair = await deploy(d, C.Pair, [addr.tokA, addr.tokB])
  addr.pool = await deploy(d, C.PoolV3, [])
  await send(d, { to: addr.tokA, data: call(C.Token, 'approve', [addr.pair, 10n ** 30n]) })
  await send(d, { to: addr.tokB, data: call(C.Token, 'approve', [addr.pair, 10n ** 30n]) })
  await send(d, { to: addr.pair, data: call(C.Pair, 'addLiquidity', [10n ** 21n, 2n * 10n ** 21n]) })
  await send(d, { to: addr.tokA, data: call(C.Token, 'transfer', [a1, 5n * 10n ** 18n]) })
  await send(d, { from: a1, to: addr.tokA, data: call(C.Token, 'approve', [addr.pair, 10n ** 19n]) })
  await send(d, { from: a1, to: addr.pair, data: call(C.Pair, 'swap0For1', [10n ** 18n, a2]) })
  swapOut = (10n ** 18n * 2n * 10n ** 21n) / (10n ** 21n + 10n ** 18n)
  await send(d, { to: addr.nft, data: call(C.Nft, 'mint', [a1, 7n]) })
  await send(d, { from: a1, to: addr.nft, data: call(C.Nft, 'setApprovalForAll', [a2, true]) })
  await send(d, { to: addr.multi, data: call(C.Multi, 'mint', [a1, 1n, 50n]) })
  await send(d, { to: addr.multi, data: call(C.Multi, 'mintBatch', [a1, [1n, 2n, 3n], [4n, 5n, 6n]]) })
  await send(d, { to: addr.pool, data: call(C.PoolV3, 'swap', [a2, 10n ** 18n, -(3n * 10n ** 18n)]) })
  await send(d, { to: a2, value: 10n ** 18n })
  // a transaction that is mined but reverts (explicit gas skips estimation)
  await d.rpc('eth_sendTransaction', [{ from: a2, to: addr.tokA, data: call(C.Token, 'transfer', [a0, 1n]), gas: '0x30000' }])
  await d.rpc('evm_mine', [])
  head = Number(BigInt(await d.rpc<string>('eth_blockNumber')))
})

after(async () => {
  await d?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

type Proxy = { url: string; server: Server; stats: { requests: number; limited: number } }
/** Loopback proxy to anvil: every `every`-th HTTP request gets 429; `failBlock` always gets HTTP 500. */
async function proxy(target: string, opts: { every?: number; failBlock?: number } = {}): Promise<Proxy> {
  const stats = { requests: 0, limited: 0 }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      stats.requests++
      if (opts.every && stats.requests % opts.every === 0) {
        stats.limited++
        res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":"rate limited"}')
        return
      }
      if (opts.failBlock !== undefined && body.includes(`"0x${opts.failBlock.toString(16)}"`) && body.includes('eth_getBlockByNumber')) {
        res.writeHead(500).end('boom')
        return
      }
      const u = new URL(target)
      const up = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: { 'content-type': 'application/json' } }, (r) => {
        res.writeHead(r.statusCode ?? 502, { 'content-type': 'application/json' })
        r.pipe(res)
      })
      up.end(body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, stats }
}

async function all<T>(out: string, kind: 'events' | 'transactions'): Promise<T[]> {
  const r: T[] = []
  for await (const x of readChainRecords<T>(out, kind)) r.push(x)
  return r
}

test('ingest decodes every standard event the test created, with backoff on 429s', async () => {
  const p = await proxy(d.url, { every: 4 })
  const out = join(tmp, 'run1')
  const abiFile = join(tmp, 'pair.abi.json')
  writeFileSync(abiFile, JSON.stringify({ abi: C.Pair.abi }))
  try {
    const r = await ingestChain({ rpcUrl: p.url, from: 0, to: 'latest', outDir: out, abis: [loadAbiFile(abiFile)], chunkBlocks: 4, concurrency: 3, retryDelay: 5, quiet: true })
    assert.equal(r.complete, true)
    assert.ok(p.stats.limited > 0, 'the proxy rate-limited some requests')
    assert.equal(r.cursor.stats.blocks, head + 1)
    assert.equal(r.cursor.stats.receiptMode, 'block')
    const ev = await all<EventRecord>(out, 'events')
    const kinds = new Set(ev.map((e) => `${e.standard}:${e.event}`))
    for (const k of ['erc20:Transfer', 'erc20:Approval', 'erc721:Transfer', 'erc721/erc1155:ApprovalForAll', 'erc1155:TransferSingle', 'erc1155:TransferBatch', 'uniswap-v2:Swap', 'uniswap-v3:Swap', 'user:Sync'])
      assert.ok(kinds.has(k), `missing ${k} in ${[...kinds].join(', ')}`)
    const swap = ev.find((e) => e.standard === 'uniswap-v2')!
    assert.equal(swap.address, addr.pair.toLowerCase())
    assert.equal(swap.args.amount1Out, swapOut.toString())
    assert.equal(swap.args.to, d.accounts[2].toLowerCase())
    const v3 = ev.find((e) => e.standard === 'uniswap-v3')!
    assert.equal(v3.args.amount1, (-(3n * 10n ** 18n)).toString())
    assert.equal(v3.args.tick, -5)
    const batch = ev.find((e) => e.event === 'TransferBatch')!
    assert.deepEqual(batch.args.values, ['4', '5', '6'])
    const nft = ev.find((e) => e.standard === 'erc721' && e.event === 'Transfer')!
    assert.equal(nft.args.tokenId, '7')
    const txs = await all<TransactionRecord>(out, 'transactions')
    assert.equal(txs.filter((t) => t.status === 0).length, 1)
    assert.ok(txs.some((t) => t.value === (10n ** 18n).toString() && t.input === '0x'))
    const prompts = [...(await loadPrompts(join(out, 'train/prompts.jsonl'))), ...(existsSync(join(out, 'val/prompts.jsonl')) && readFileSync(join(out, 'val/prompts.jsonl'), 'utf8').trim() ? await loadPrompts(join(out, 'val/prompts.jsonl')) : [])]
    const text = prompts.map((p) => p.prompt + '\n>> ' + (p.reference ?? '')).join('\n')
    assert.match(text, /Uniswap V2 Swap on pair/)
    assert.match(text, /sent 1 ETH to/)
    assert.match(text, /failed \(reverted\)/)
    for (const p of prompts) assert.ok(p.prompt.length <= 640)
    // without the user ABI, Sync stays undecoded
    assert.equal(createLogDecoder().decode(ev.find((e) => e.event === 'Sync')!), null)
  } finally {
    p.server.close()
  }
})

test('an RPC failure is reported with its block number, leaves complete parts only, and resume gives identical output', async () => {
  const failAt = 9
  const bad = await proxy(d.url, { failBlock: failAt })
  const out = join(tmp, 'run2')
  try {
    await assert.rejects(ingestChain({ rpcUrl: bad.url, from: 0, to: head, outDir: out, chunkBlocks: 4, batchSize: 1, retryCount: 2, retryDelay: 1, quiet: true }), (e: Instruct3Error) => {
      assert.ok(e instanceof Instruct3Error)
      assert.equal(e.details.block, failAt)
      assert.match(e.message, new RegExp(`block ${failAt}`))
      return true
    })
  } finally {
    bad.server.close()
  }
  const cursor = JSON.parse(readFileSync(join(out, 'cursor.json'), 'utf8'))
  assert.equal(cursor.next, 8) // chunks 0-3 and 4-7 done; 8-11 holds the failing block
  assert.deepEqual(readdirSync(join(out, 'parts')).filter((x) => !x.startsWith('.')), ['000000000000-000000000003', '000000000004-000000000007'])
  assert.ok(!existsSync(join(out, 'train')))
  // a different range into the same folder is refused
  await assert.rejects(ingestChain({ rpcUrl: d.url, from: 1, to: head, outDir: out, quiet: true }), /holds an ingest of blocks 0\.\./)
  // interrupted once more by maxChunks, then resumed to the end
  const r1 = await ingestChain({ rpcUrl: d.url, from: 0, to: head, outDir: out, chunkBlocks: 4, maxChunks: 1, quiet: true })
  assert.equal(r1.complete, false)
  const r2 = await ingestChain({ rpcUrl: d.url, from: 0, to: head, outDir: out, chunkBlocks: 4, quiet: true })
  assert.equal(r2.complete, true)
  const clean = join(tmp, 'run3')
  await ingestChain({ rpcUrl: d.url, from: 0, to: head, outDir: clean, chunkBlocks: 4, quiet: true })
  for (const f of ['train/prompts.jsonl', 'val/prompts.jsonl', 'datasheet.json'])
    assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(clean, f), 'utf8'), f)
  for (const part of readdirSync(join(clean, 'parts')))
    for (const k of ['blocks', 'transactions', 'logs', 'events', 'rendered'])
      assert.equal(readFileSync(join(out, 'parts', part, `${k}.jsonl`), 'utf8'), readFileSync(join(clean, 'parts', part, `${k}.jsonl`), 'utf8'))
  assert.doesNotMatch(readFileSync(join(out, 'datasheet.json'), 'utf8'), new RegExp(`:${new URL(bad.url).port}`)) // only the resumed URL's origin
})

test('bad ABI files and bad ranges are clear errors', async () => {
  const f = join(tmp, 'bad.abi.json')
  writeFileSync(f, '{"abi": [{"name": "x"}]}')
  assert.throws(() => loadAbiFile(f), /bad\.abi\.json: field "abi\[0\]"/)
  writeFileSync(f, 'not json')
  assert.throws(() => loadAbiFile(f), /not readable JSON/)
  await assert.rejects(ingestChain({ rpcUrl: d.url, from: 5, to: 2, outDir: join(tmp, 'x'), quiet: true }), /bad block range/)
})

test('decoder: ERC-20 vs ERC-721 by topic count, unindexed transfers, malformed logs', () => {
  const dec = createLogDecoder()
  const T = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
  const w = (x: string) => '0x' + x.replace(/^0x/, '').padStart(64, '0')
  const a = '0x' + '11'.repeat(20)
  const b = '0x' + '22'.repeat(20)
  assert.deepEqual(dec.decode({ address: a, topics: [T, w(a), w(b)], data: w('0x05') }), { standard: 'erc20', event: 'Transfer', args: { from: a, to: b, value: '5' } })
  assert.deepEqual(dec.decode({ address: a, topics: [T, w(a), w(b), w('0x07')], data: '0x' }), { standard: 'erc721', event: 'Transfer', args: { from: a, to: b, tokenId: '7' } })
  assert.deepEqual(dec.decode({ address: a, topics: [T], data: w(a) + w(b).slice(2) + w('0x09').slice(2) }), { standard: 'erc20', event: 'Transfer', args: { from: a, to: b, value: '9' } })
  assert.equal(dec.decode({ address: a, topics: [T, w(a), w(b)], data: '0x' }), null)
  assert.equal(dec.decode({ address: a, topics: [], data: '0x' }), null)
})

test('the CLI runs an ingest end to end and exits 1 with a clear message on bad input', () => {
  const bin = join(packageRoot, 'bin', 'instruct3.js')
  const out = join(tmp, 'cli')
  const ok = spawnSync(process.execPath, [bin, 'ingest', 'chain', '--rpc', d.url, '--from', '0', '--to', 'latest', '--out', out, '--quiet'], { encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, new RegExp(`ingested blocks 0\\.\\.${head}: ${head + 1} blocks`))
  assert.ok(existsSync(join(out, 'datasheet.md')))
  const bad = spawnSync(process.execPath, [bin, 'ingest', 'chain', '--rpc', d.url, '--from', 'x', '--to', '3', '--out', join(tmp, 'cli2')], { encoding: 'utf8' })
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /--from must be a non-negative integer/)
})
