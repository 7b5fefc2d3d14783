// Chain ingest against REAL mainnet JSON-RPC responses (ethereum-etl's test resources): a loopback
// stand-in serves the recorded responses, and the outputs are compared with ethereum-etl's expected rows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ingestChain, readChainRecords } from '../../src/data/chain/ingest.ts'
import { createLogDecoder } from '../../src/data/chain/events.ts'
import type { BlockRecord, EventRecord, LogRecord, TransactionRecord } from '../../src/data/chain/records.ts'
import { sharedDataDir } from '../../src/util/paths.ts'

const ETL = join(sharedDataDir(), 'onchain', 'ethereum-etl')

/** JSON lines with integers kept exact (as strings when they exceed 2^53). */
function readJsonLines(file: string): Array<Record<string, unknown>> {
  const reviver = function (this: unknown, _k: string, v: unknown, ctx?: { source?: string }) {
    return typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? ctx.source : v
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l, reviver as (k: string, v: unknown) => unknown))
}

/** Serve recorded responses: eth_getBlockByNumber / eth_getTransactionReceipt from the web3_response files. */
async function standIn(dir: string): Promise<{ url: string; server: Server; methods: string[] }> {
  const files = readdirSync(dir).filter((f) => f.startsWith('web3_response.'))
  const methods: string[] = []
  const answer = (req: { id: unknown; method: string; params: unknown[] }) => {
    methods.push(req.method)
    let name: string | undefined
    if (req.method === 'eth_getBlockByNumber') name = `web3_response.eth_getBlockByNumber_${req.params[0]}_${req.params[1] ? 'true' : 'false'}.json`
    if (req.method === 'eth_getTransactionReceipt') name = `web3_response.eth_getTransactionReceipt_${req.params[0]}.json`
    if (name && files.includes(name)) return { jsonrpc: '2.0', id: req.id, result: JSON.parse(readFileSync(join(dir, name), 'utf8')).result }
    return { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: `the method ${req.method} does not exist/is not available` } }
  }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const j = JSON.parse(body)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(Array.isArray(j) ? j.map(answer) : answer(j)))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, methods }
}

test('ingest of real mainnet blocks 1755634-1755635 matches ethereum-etl expected blocks, transactions, logs and token transfers', async () => {
  const dir = join(ETL, 'test_stream', 'blocks_1755634_1755635')
  const s = await standIn(dir)
  const out = mkdtempSync(join(tmpdir(), 'i3-etl-'))
  try {
    const r = await ingestChain({ rpcUrl: s.url, from: 1755634, to: 1755635, outDir: out, quiet: true })
    assert.equal(r.complete, true)
    assert.equal(r.cursor.stats.receiptMode, 'tx') // the stand-in has no eth_getBlockReceipts: fallback used
    assert.ok(s.methods.includes('eth_getBlockReceipts') && s.methods.includes('eth_getTransactionReceipt'))

    const blocks: BlockRecord[] = []
    for await (const b of readChainRecords<BlockRecord>(out, 'blocks')) blocks.push(b)
    const eb = readJsonLines(join(dir, 'expected_blocks.json'))
    assert.deepEqual(blocks.map((b) => [b.number, b.hash, b.parentHash, b.miner, b.timestamp, b.transactionCount, b.gasUsed, b.gasLimit, b.size]),
      eb.map((b) => [b.number, b.hash, b.parent_hash, b.miner, b.timestamp, b.transaction_count, String(b.gas_used), String(b.gas_limit), b.size]))

    const txs: TransactionRecord[] = []
    for await (const t of readChainRecords<TransactionRecord>(out, 'transactions')) txs.push(t)
    const et = readJsonLines(join(dir, 'expected_transactions.json'))
    assert.equal(txs.length, et.length)
    assert.deepEqual(txs.map((t) => [t.hash, t.nonce, t.transactionIndex, t.from, t.to, t.value, t.gas, t.gasPrice, t.input, t.blockNumber, t.gasUsed, t.cumulativeGasUsed, t.contractAddress, t.type]),
      et.map((t) => [t.hash, t.nonce, t.transaction_index, t.from_address, t.to_address, String(t.value), String(t.gas), String(t.gas_price), t.input, t.block_number, String(t.receipt_gas_used), String(t.receipt_cumulative_gas_used), t.receipt_contract_address, t.transaction_type]))

    const logs: LogRecord[] = []
    for await (const l of readChainRecords<LogRecord>(out, 'logs')) logs.push(l)
    const el = readJsonLines(join(dir, 'expected_logs.json'))
    assert.deepEqual(logs.map((l) => [l.logIndex, l.transactionHash, l.address, l.data, l.topics, l.blockNumber]),
      el.map((l) => [l.log_index, l.transaction_hash, l.address, l.data, l.topics, l.block_number]))

    const events: EventRecord[] = []
    for await (const e of readChainRecords<EventRecord>(out, 'events')) events.push(e)
    const transfers = events.filter((e) => e.event === 'Transfer').map((e) => [e.address, e.args.from, e.args.to, e.args.value ?? e.args.tokenId, e.transactionHash, e.logIndex])
    const ett = readJsonLines(join(dir, 'expected_token_transfers.json'))
    assert.deepEqual(transfers, ett.map((t) => [t.token_address, t.from_address, t.to_address, String(t.value), t.transaction_hash, t.log_index]))

    const prompts = readFileSync(join(out, 'train', 'prompts.jsonl'), 'utf8') + readFileSync(join(out, 'val', 'prompts.jsonl'), 'utf8')
    assert.match(prompts, /ERC-20 Transfer of 5000000000000000000 units of token 0xbb9b…9413/)
    assert.match(readFileSync(join(out, 'datasheet.md'), 'utf8'), /transactions: 2/)
  } finally {
    s.server.close()
    rmSync(out, { recursive: true, force: true })
  }
})

/** ethereum-etl's token-transfer rule: topic0 = Transfer and topics + data words = 4. */
function etlTransfers(logs: Array<{ address: string; topics: string[]; data: string; transactionHash: string; logIndex: number }>, decode = createLogDecoder()) {
  const out: unknown[][] = []
  for (const l of logs) {
    const d = decode.decode(l)
    if (d?.event !== 'Transfer' || (d.standard !== 'erc20' && d.standard !== 'erc721')) continue
    out.push([l.address.toLowerCase(), d.args.from, d.args.to, String(d.args.value ?? d.args.tokenId), l.transactionHash, l.logIndex])
  }
  return out
}

test('decoding the logs of two full 2023 mainnet blocks gives exactly ethereum-etl expected token transfers', () => {
  const dir = join(ETL, 'test_stream', 'blocks_17173049_17173050')
  const logs = readJsonLines(join(dir, 'expected_logs.json')).map((l) => ({ address: String(l.address), topics: l.topics as string[], data: String(l.data), transactionHash: String(l.transaction_hash), logIndex: Number(l.log_index) }))
  const got = etlTransfers(logs)
  const want = readJsonLines(join(dir, 'expected_token_transfers.json')).map((t) => [t.token_address, t.from_address, t.to_address, String(t.value), t.transaction_hash, t.log_index])
  assert.equal(want.length, 291)
  assert.deepEqual(got, want)
  // the same blocks also carry swaps: they decode too
  const dec = createLogDecoder()
  const swaps = logs.map((l) => dec.decode(l)).filter((d) => d?.event === 'Swap')
  assert.ok(swaps.some((s) => s!.standard === 'uniswap-v2') && swaps.some((s) => s!.standard === 'uniswap-v3'))
})

test('decoding ethereum-etl logs.csv matches expected_token_transfers.csv', () => {
  const dir = join(ETL, 'test_extract_token_transfers_job', 'logs')
  const parseCsv = (text: string) => {
    const rows: string[][] = []
    for (const line of text.split('\n').filter(Boolean)) {
      const cells: string[] = []
      let cur = ''
      let q = false
      for (const ch of line) {
        if (ch === '"') q = !q
        else if (ch === ',' && !q) {
          cells.push(cur)
          cur = ''
        } else cur += ch
      }
      cells.push(cur)
      rows.push(cells)
    }
    const [head, ...body] = rows
    return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])))
  }
  const logs = parseCsv(readFileSync(join(dir, 'logs.csv'), 'utf8')).map((l) => ({ address: l.address, topics: l.topics ? l.topics.split(',') : [], data: l.data, transactionHash: l.transaction_hash, logIndex: Number(l.log_index) }))
  const want = parseCsv(readFileSync(join(dir, 'expected_token_transfers.csv'), 'utf8')).map((t) => [t.token_address, t.from_address, t.to_address, t.value, t.transaction_hash, Number(t.log_index)])
  assert.ok(want.length > 0)
  assert.deepEqual(etlTransfers(logs), want)
})
