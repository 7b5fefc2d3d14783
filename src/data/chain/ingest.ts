/**
 * `instruct3 ingest chain`: blocks, transactions, receipts and logs over JSON-RPC into JSONL.
 *
 * out/
 *   parts/<from>-<to>/ blocks.jsonl transactions.jsonl logs.jsonl events.jsonl rendered.jsonl
 *   cursor.json        next block to fetch + running counts (resume after a crash or Ctrl-C)
 *   train/prompts.jsonl val/prompts.jsonl   "explain this transaction" prompts (split by tx hash)
 *   datasheet.json datasheet.md
 *
 * Memory is bounded by one chunk of blocks: each chunk is fetched (blocks in parallel, up to
 * `concurrency`), written as one part directory atomically, then the cursor moves. A crash leaves
 * complete parts and a cursor that points at the first missing one; nothing is half-written.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Abi } from 'viem'
import { Instruct3Error } from '../../util/errors.ts'
import { writeDirAtomic, writeFileAtomic } from '../../util/atomic.ts'
import { writeFile } from 'node:fs/promises'
import { readJsonl } from '../../util/jsonl.ts'
import { createProgress } from '../../util/progress.ts'
import { sha256Hex, splitOf } from '../hash.ts'
import { truncateText } from '../normalize.ts'
import { createChainRpc, type ChainRpcOptions } from './rpc.ts'
import { createLogDecoder } from './events.ts'
import { blockRecord, logRecord, transactionRecord, type EventRecord, type RpcReceipt, type RpcTransaction } from './records.ts'
import { referenceExplanation, renderTransaction } from './render.ts'

export type IngestOptions = {
  rpcUrl: string
  from: number
  /** Last block, inclusive; 'latest' resolves to the head at start. */
  to: number | 'latest'
  outDir: string
  abis?: Abi[]
  chunkBlocks?: number
  concurrency?: number
  batchSize?: number
  retryCount?: number
  retryDelay?: number
  valFraction?: number
  maxPromptChars?: number
  quiet?: boolean
  /** Stop after this many chunks (tests use it to simulate an interruption). */
  maxChunks?: number
}

export type IngestStats = { blocks: number; transactions: number; logs: number; events: number; eventsByStandard: Record<string, number>; receiptMode: string }

type Cursor = { version: 1; from: number; to: number; next: number; stats: IngestStats }

export type IngestResult = { cursor: Cursor; complete: boolean; seconds: number; prompts?: { train: number; val: number; withReference: number; duplicates: number } }

const pad = (n: number) => String(n).padStart(12, '0')

/** Origin only: RPC URLs often carry an API key in the path or query, which must not land in a datasheet. */
export function redactRpcUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.hostname}${u.port ? ':' + u.port : ''}`
  } catch {
    return '(invalid url)'
  }
}

function readCursor(outDir: string): Cursor | null {
  const f = join(outDir, 'cursor.json')
  if (!existsSync(f)) return null
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Cursor
  } catch (cause) {
    throw new Instruct3Error('cursor file is not valid JSON; remove it to start over', { details: { file: f }, cause })
  }
}

/** Run `fn` over items with at most `limit` in flight; results in input order. */
async function pool<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

export async function ingestChain(o: IngestOptions): Promise<IngestResult> {
  const t0 = performance.now()
  const rpcOpts: ChainRpcOptions = { url: o.rpcUrl, batchSize: o.batchSize, retryCount: o.retryCount, retryDelay: o.retryDelay }
  const rpc = createChainRpc(rpcOpts)
  const decoder = createLogDecoder(o.abis ?? [])
  let to: number
  if (o.to === 'latest') {
    try {
      to = await rpc.blockNumber()
    } catch (cause) {
      throw new Instruct3Error(`RPC failed: eth_blockNumber (${(cause as Error).message.split('\n')[0]})`, { code: 'ERPC', details: { rpc: redactRpcUrl(o.rpcUrl) }, cause })
    }
  } else to = o.to
  if (!Number.isInteger(o.from) || o.from < 0 || to < o.from) throw new Instruct3Error(`bad block range ${o.from}..${to}`, { details: { field: 'from/to' } })

  let cursor = readCursor(o.outDir)
  if (cursor && (cursor.from !== o.from || cursor.to !== to))
    throw new Instruct3Error(`output folder holds an ingest of blocks ${cursor.from}..${cursor.to}, not ${o.from}..${to}; use another --out`, { details: { file: join(o.outDir, 'cursor.json') } })
  cursor ??= { version: 1, from: o.from, to, next: o.from, stats: { blocks: 0, transactions: 0, logs: 0, events: 0, eventsByStandard: {}, receiptMode: 'unknown' } }

  const chunk = o.chunkBlocks ?? 25
  const progress = createProgress({ label: 'ingest', total: to - o.from + 1, unit: 'blocks', quiet: o.quiet })
  progress.set(cursor.next - o.from)
  let chunks = 0
  while (cursor.next <= to) {
    if (o.maxChunks !== undefined && chunks >= o.maxChunks) break
    const a = cursor.next
    const b = Math.min(to, a + chunk - 1)
    const numbers = Array.from({ length: b - a + 1 }, (_, i) => a + i)
    const fetched = await pool(numbers, o.concurrency ?? 4, async (n) => {
      try {
        return await rpc.getBlockWithReceipts(n)
      } catch (cause) {
        const msg = (cause as Error).message.split('\n')[0]
        throw new Instruct3Error(`RPC failed for block ${n} after retries: ${msg}`, { code: 'ERPC', details: { block: n, rpc: redactRpcUrl(o.rpcUrl) }, cause })
      }
    })
    const lines = { blocks: [] as string[], transactions: [] as string[], logs: [] as string[], events: [] as string[], rendered: [] as string[] }
    const st = cursor.stats
    for (const { block, receipts } of fetched) {
      const br = blockRecord(block)
      lines.blocks.push(JSON.stringify(br))
      st.blocks++
      const byHash = new Map<string, RpcReceipt>(receipts.map((r) => [r.transactionHash.toLowerCase(), r]))
      for (const t of block.transactions) {
        if (typeof t === 'string') continue
        const rec = byHash.get(t.hash.toLowerCase())
        const tr = transactionRecord(t as RpcTransaction, br, rec)
        lines.transactions.push(JSON.stringify(tr))
        st.transactions++
        const events: EventRecord[] = []
        let other = 0
        for (const l of rec?.logs ?? []) {
          if (l.removed) continue
          const lr = logRecord(l)
          lines.logs.push(JSON.stringify(lr))
          st.logs++
          const d = decoder.decode(lr)
          if (!d) {
            other++
            continue
          }
          const ev: EventRecord = { ...lr, ...d }
          events.push(ev)
          lines.events.push(JSON.stringify(ev))
          st.events++
          st.eventsByStandard[d.standard] = (st.eventsByStandard[d.standard] ?? 0) + 1
        }
        const text = renderTransaction(tr, events, other)
        const reference = referenceExplanation(tr, events, other)
        lines.rendered.push(JSON.stringify({ hash: tr.hash, blockNumber: tr.blockNumber, text, ...(reference ? { reference } : {}) }))
      }
    }
    st.receiptMode = rpc.receiptMode
    await writeDirAtomic(join(o.outDir, 'parts', `${pad(a)}-${pad(b)}`), async (dir) => {
      for (const [k, v] of Object.entries(lines)) await writeFile(join(dir, `${k}.jsonl`), v.length ? v.join('\n') + '\n' : '')
    })
    cursor = { ...cursor, next: b + 1 }
    await writeFileAtomic(join(o.outDir, 'cursor.json'), JSON.stringify(cursor, null, 2) + '\n')
    chunks++
    progress.set(cursor.next - o.from, { tx: st.transactions })
  }
  progress.done()
  const complete = cursor.next > to
  const result: IngestResult = { cursor, complete, seconds: (performance.now() - t0) / 1000 }
  if (complete) result.prompts = await finalize(o, cursor)
  return result
}

/** Stream every part's records of one kind, in block order. */
export async function* readChainRecords<T = unknown>(outDir: string, kind: 'blocks' | 'transactions' | 'logs' | 'events' | 'rendered'): AsyncGenerator<T> {
  const parts = join(outDir, 'parts')
  if (!existsSync(parts)) return
  for (const d of readdirSync(parts).filter((x) => /^\d{12}-\d{12}$/.test(x)).sort()) {
    for await (const r of readJsonl<T>(join(parts, d, `${kind}.jsonl`))) yield r.value
  }
}

/** Write the explain-transaction prompt sets and the datasheet (two streaming passes over the parts). */
async function finalize(o: IngestOptions, cursor: Cursor) {
  const valFraction = o.valFraction ?? 0.05
  const maxChars = o.maxPromptChars ?? 640
  const head = 'Explain what this Ethereum transaction did.\n\n'
  const counts = { train: 0, val: 0, withReference: 0, duplicates: 0 }
  for (const split of ['train', 'val'] as const) {
    // Exact-duplicate prompts (same rendering) are dropped; the set holds 16-hex-char hash prefixes.
    const seen = new Set<string>()
    async function* lines(): AsyncGenerator<Uint8Array> {
      for await (const r of readChainRecords<{ hash: string; text: string; reference?: string }>(o.outDir, 'rendered')) {
        if (splitOf(r.hash, valFraction) !== split) continue
        const prompt = head + truncateText(r.text, maxChars - head.length)
        const h = sha256Hex(prompt).slice(0, 16)
        if (seen.has(h)) {
          counts.duplicates++
          continue
        }
        seen.add(h)
        counts[split]++
        if (r.reference) counts.withReference++
        yield Buffer.from(JSON.stringify({ id: `explain-transaction:${r.hash}`, prompt, task: 'explain-transaction', ...(r.reference ? { reference: r.reference } : {}) }) + '\n')
      }
    }
    await writeFileAtomic(join(o.outDir, split, 'prompts.jsonl'), lines())
  }
  const s = cursor.stats
  const sheet = {
    name: 'instruct3 chain ingest',
    source: { rpc: redactRpcUrl(o.rpcUrl), from: cursor.from, to: cursor.to, receiptMode: s.receiptMode },
    license: 'public blockchain data (no copyright claimed by this project)',
    counts: { ...s, prompts: counts },
    schema: {
      blocks: 'number, hash, parentHash, timestamp, miner, gasUsed, gasLimit, baseFeePerGas, size, transactionCount',
      transactions: 'hash, blockNumber, blockHash, blockTimestamp, transactionIndex, from, to, value, nonce, gas, gasPrice, maxFeePerGas, maxPriorityFeePerGas, input, type, status, gasUsed, cumulativeGasUsed, effectiveGasPrice, contractAddress',
      logs: 'blockNumber, blockHash, transactionHash, transactionIndex, logIndex, address, data, topics',
      events: 'log fields + standard, event, args (integers as decimal strings)',
      prompts: '{id, prompt, task: "explain-transaction", reference?} (reference only for simple transactions, from a template over decoded facts)',
    },
    split: `sha256 of the transaction hash, ${valFraction} to val`,
    dedup: 'blocks and transactions are unique by construction (one pass over a block range); prompts with an identical rendering are dropped',
  }
  await writeFileAtomic(join(o.outDir, 'datasheet.json'), JSON.stringify(sheet, null, 2) + '\n')
  const md = [
    '# Datasheet: chain ingest', '',
    `Blocks ${cursor.from}..${cursor.to} from ${sheet.source.rpc} (receipts by ${s.receiptMode}).`, '',
    `- blocks: ${s.blocks}`, `- transactions: ${s.transactions}`, `- logs: ${s.logs}`, `- decoded events: ${s.events} (${Object.entries(s.eventsByStandard).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`,
    `- explain-transaction prompts: ${counts.train} train / ${counts.val} val, ${counts.withReference} with a template reference, ${counts.duplicates} duplicate renderings dropped`, '',
    `Split: ${sheet.split}. Dedup: ${sheet.dedup}. License: ${sheet.license}.`, '',
    '## Schema', '', ...Object.entries(sheet.schema).map(([k, v]) => `- ${k}: ${v}`),
  ].join('\n') + '\n'
  await writeFileAtomic(join(o.outDir, 'datasheet.md'), md)
  return counts
}

/** Read a user ABI: a JSON array, or an artifact object with an `abi` field (Foundry, Hardhat). */
export function loadAbiFile(file: string): Abi {
  let v: unknown
  try {
    v = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new Instruct3Error('ABI file is not readable JSON', { details: { file }, cause })
  }
  const abi = Array.isArray(v) ? v : (v as { abi?: unknown })?.abi
  if (!Array.isArray(abi)) throw new Instruct3Error('ABI must be a JSON array or an object with an "abi" array', { details: { file, field: 'abi' } })
  abi.forEach((x, i) => {
    if (!x || typeof x !== 'object' || typeof (x as { type?: unknown }).type !== 'string') throw new Instruct3Error('ABI item without a "type"', { details: { file, field: `abi[${i}]` } })
  })
  return abi as Abi
}
