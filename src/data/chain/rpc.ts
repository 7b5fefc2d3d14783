/**
 * JSON-RPC access for chain ingest, on viem's HTTP transport: requests made in the same tick are
 * sent as one JSON-RPC batch, and viem retries rate limits (HTTP 429, -32005, 429-in-body, 5xx)
 * with exponential backoff (retryDelay * 2^n, or the server's Retry-After).
 *
 * Receipts come from `eth_getBlockReceipts` (one call per block) when the node has it, else from
 * one `eth_getTransactionReceipt` per transaction (batched).
 */
import { createClient, http, type Client } from 'viem'
import type { RpcBlock, RpcReceipt } from './records.ts'

export type ChainRpcOptions = { url: string; batchSize?: number; retryCount?: number; retryDelay?: number; timeoutMs?: number }

export type ChainRpc = {
  blockNumber(): Promise<number>
  getBlockWithReceipts(n: number): Promise<{ block: RpcBlock; receipts: RpcReceipt[] }>
  /** How receipts are fetched, once known. */
  readonly receiptMode: 'block' | 'tx' | 'unknown'
}

const hex = (n: number) => `0x${n.toString(16)}`

function isUnsupported(err: unknown): boolean {
  for (let e = err as { code?: number; cause?: unknown; details?: string } | undefined; e; e = e.cause as typeof e) {
    if (e.code === -32601 || e.code === -32004) return true
    if (typeof e.details === 'string' && /method not found|not supported|does not exist|unknown method/i.test(e.details)) return true
  }
  return false
}

export function createChainRpc(o: ChainRpcOptions): ChainRpc {
  const client: Client = createClient({
    transport: http(o.url, {
      batch: { batchSize: o.batchSize ?? 100, wait: 0 },
      retryCount: o.retryCount ?? 5,
      retryDelay: o.retryDelay ?? 250,
      timeout: o.timeoutMs ?? 30_000,
    }),
  })
  const request = (method: string, params: unknown[]) => (client.request as (a: { method: string; params: unknown[] }) => Promise<unknown>)({ method, params })
  let mode: 'block' | 'tx' | 'unknown' = 'unknown'

  async function receiptsByTx(block: RpcBlock): Promise<RpcReceipt[]> {
    const hashes = block.transactions.map((t) => (typeof t === 'string' ? t : t.hash))
    return (await Promise.all(hashes.map((h) => request('eth_getTransactionReceipt', [h])))) as RpcReceipt[]
  }

  return {
    get receiptMode() {
      return mode
    },
    async blockNumber() {
      return Number(BigInt((await request('eth_blockNumber', [])) as string))
    },
    async getBlockWithReceipts(n) {
      const block = (await request('eth_getBlockByNumber', [hex(n), true])) as RpcBlock | null
      if (!block) throw new Error(`block ${n} not found (beyond the chain head?)`)
      if (block.transactions.length === 0) return { block, receipts: [] }
      if (mode !== 'tx') {
        try {
          const receipts = (await request('eth_getBlockReceipts', [hex(n)])) as RpcReceipt[] | null
          if (receipts && receipts.length === block.transactions.length) {
            mode = 'block'
            return { block, receipts }
          }
        } catch (err) {
          if (!isUnsupported(err)) throw err
        }
        mode = 'tx'
      }
      return { block, receipts: await receiptsByTx(block) }
    },
  }
}
