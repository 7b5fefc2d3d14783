/**
 * Task (d): explain a transaction, from REAL mainnet transactions recorded by ethereum-etl
 * (onchain/ethereum-etl/test_stream/*: flattened transactions and logs of four blocks), rendered
 * exactly as `ingest chain` renders them. A reference exists only for simple transactions
 * (template over decoded facts, see chain/render.ts); the rest become prompts without a reference.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLogDecoder } from '../chain/events.ts'
import type { EventRecord, TransactionRecord } from '../chain/records.ts'
import { referenceExplanation, renderTransaction } from '../chain/render.ts'
import { splitOf } from '../hash.ts'
import { truncateText } from '../normalize.ts'
import type { RowProblem } from '../sources.ts'
import type { TaskItem, TaskOptions } from './common.ts'

type Row = Record<string, unknown>

/** JSON lines with big integers kept exact (JSON.parse source access, Node >= 21). */
function readExact(file: string, onProblem: (p: RowProblem) => void): Row[] {
  const reviver = function (this: unknown, _k: string, v: unknown, ctx?: { source?: string }) {
    return typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? ctx.source : v
  }
  const out: Row[] = []
  readFileSync(file, 'utf8').split('\n').forEach((l, i) => {
    if (!l.trim()) return
    try {
      out.push(JSON.parse(l, reviver as (k: string, v: unknown) => unknown))
    } catch (e) {
      onProblem({ file, line: i + 1, message: `invalid JSON (${(e as Error).message})` })
    }
  })
  return out
}

const s = (v: unknown) => (v === null || v === undefined ? null : String(v))

/** Only ~300 recorded transactions: a larger validation share than the corpus's 5% keeps the eval meaningful. */
export const EXPLAIN_VAL_FRACTION = 0.2

export const EXPLAIN_HEAD = 'Explain what this Ethereum transaction did.\n\n'

export async function explainTransactionItems(dataDir: string, o: TaskOptions, onProblem: (p: RowProblem) => void): Promise<{ items: TaskItem[]; promptsOnly: Array<{ id: string; prompt: string; split: 'train' | 'val' }> }> {
  const root = join(dataDir, 'onchain', 'ethereum-etl', 'test_stream')
  const items: TaskItem[] = []
  const promptsOnly: Array<{ id: string; prompt: string; split: 'train' | 'val' }> = []
  if (!existsSync(root)) return { items, promptsOnly }
  const decoder = createLogDecoder()
  for (const dir of readdirSync(root).sort()) {
    const txFile = join(root, dir, 'expected_transactions.json')
    const logFile = join(root, dir, 'expected_logs.json')
    if (!existsSync(txFile) || !existsSync(logFile)) continue
    const logsByTx = new Map<string, Row[]>()
    for (const l of readExact(logFile, onProblem)) {
      const h = String(l.transaction_hash)
      logsByTx.set(h, [...(logsByTx.get(h) ?? []), l])
    }
    for (const t of readExact(txFile, onProblem)) {
      const tx: TransactionRecord = {
        hash: String(t.hash), blockNumber: Number(t.block_number), blockHash: String(t.block_hash), blockTimestamp: Number(t.block_timestamp),
        transactionIndex: Number(t.transaction_index), from: String(t.from_address), to: s(t.to_address), value: String(t.value ?? 0), nonce: Number(t.nonce),
        gas: String(t.gas), gasPrice: s(t.gas_price), maxFeePerGas: s(t.max_fee_per_gas), maxPriorityFeePerGas: s(t.max_priority_fee_per_gas),
        input: String(t.input ?? '0x'), type: Number(t.transaction_type ?? 0),
        // pre-Byzantium receipts have no status (null): rendered as "unknown status"
        status: t.receipt_status === null || t.receipt_status === undefined ? null : Number(t.receipt_status),
        gasUsed: s(t.receipt_gas_used), cumulativeGasUsed: s(t.receipt_cumulative_gas_used), effectiveGasPrice: s(t.receipt_effective_gas_price), contractAddress: s(t.receipt_contract_address),
      }
      const events: EventRecord[] = []
      let other = 0
      for (const l of (logsByTx.get(tx.hash) ?? []).sort((a, b) => Number(a.log_index) - Number(b.log_index))) {
        const lr = { blockNumber: tx.blockNumber, blockHash: tx.blockHash, transactionHash: tx.hash, transactionIndex: tx.transactionIndex, logIndex: Number(l.log_index), address: String(l.address), data: String(l.data), topics: (l.topics as string[]) ?? [] }
        const d = decoder.decode(lr)
        if (d) events.push({ ...lr, ...d })
        else other++
      }
      const prompt = EXPLAIN_HEAD + truncateText(renderTransaction(tx, events, other), o.maxChars - EXPLAIN_HEAD.length)
      const reference = tx.status === null && events.length === 0 && tx.input !== '0x' ? undefined : referenceExplanation(tx, events, other)
      const id = `explain-transaction:${tx.hash}`
      const split = splitOf(tx.hash, EXPLAIN_VAL_FRACTION)
      if (reference) items.push({ id, task: 'explain-transaction', prompt, reference, split })
      else promptsOnly.push({ id, prompt, split })
    }
  }
  return { items, promptsOnly }
}
