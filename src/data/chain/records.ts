/**
 * Flat JSONL records for ingested chain data (close to ethereum-etl's columns, camelCase).
 * Quantities are decimal strings (they overflow JS numbers); small counters are numbers.
 */
export type RpcBlock = Record<string, unknown> & { number: string; hash: string; transactions: Array<RpcTransaction | string> }
export type RpcTransaction = Record<string, unknown> & { hash: string }
export type RpcLog = { address: string; topics: string[]; data: string; logIndex: string; transactionHash: string; transactionIndex: string; blockNumber: string; blockHash: string; removed?: boolean }
export type RpcReceipt = Record<string, unknown> & { transactionHash: string; logs: RpcLog[] }

export type BlockRecord = {
  number: number
  hash: string
  parentHash: string
  timestamp: number
  miner: string
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string | null
  size: number | null
  transactionCount: number
}

export type TransactionRecord = {
  hash: string
  blockNumber: number
  blockHash: string
  blockTimestamp: number
  transactionIndex: number
  from: string
  to: string | null
  value: string
  nonce: number
  gas: string
  gasPrice: string | null
  maxFeePerGas: string | null
  maxPriorityFeePerGas: string | null
  input: string
  type: number
  status: number | null
  gasUsed: string | null
  cumulativeGasUsed: string | null
  effectiveGasPrice: string | null
  contractAddress: string | null
}

export type LogRecord = {
  blockNumber: number
  blockHash: string
  transactionHash: string
  transactionIndex: number
  logIndex: number
  address: string
  data: string
  topics: string[]
}

export type EventRecord = LogRecord & { standard: string; event: string; args: Record<string, unknown> }

const dec = (h: unknown): string | null => (typeof h === 'string' && h.startsWith('0x') ? BigInt(h === '0x' ? 0 : h).toString() : null)
const num = (h: unknown): number | null => (typeof h === 'string' && h.startsWith('0x') ? Number(BigInt(h === '0x' ? 0 : h)) : typeof h === 'number' ? h : null)
const lc = (s: unknown): string | null => (typeof s === 'string' ? s.toLowerCase() : null)

export function blockRecord(b: RpcBlock): BlockRecord {
  return {
    number: num(b.number)!,
    hash: lc(b.hash)!,
    parentHash: lc(b.parentHash) ?? '',
    timestamp: num(b.timestamp) ?? 0,
    miner: lc(b.miner) ?? '',
    gasUsed: dec(b.gasUsed) ?? '0',
    gasLimit: dec(b.gasLimit) ?? '0',
    baseFeePerGas: dec(b.baseFeePerGas),
    size: num(b.size),
    transactionCount: b.transactions.length,
  }
}

export function transactionRecord(t: RpcTransaction, b: BlockRecord, r: RpcReceipt | undefined): TransactionRecord {
  return {
    hash: lc(t.hash)!,
    blockNumber: b.number,
    blockHash: b.hash,
    blockTimestamp: b.timestamp,
    transactionIndex: num(t.transactionIndex) ?? 0,
    from: lc(t.from) ?? '',
    to: lc(t.to),
    value: dec(t.value) ?? '0',
    nonce: num(t.nonce) ?? 0,
    gas: dec(t.gas) ?? '0',
    gasPrice: dec(t.gasPrice),
    maxFeePerGas: dec(t.maxFeePerGas),
    maxPriorityFeePerGas: dec(t.maxPriorityFeePerGas),
    input: typeof t.input === 'string' ? t.input : '0x',
    type: num(t.type) ?? 0,
    status: r ? num(r.status) : null,
    gasUsed: r ? dec(r.gasUsed) : null,
    cumulativeGasUsed: r ? dec(r.cumulativeGasUsed) : null,
    effectiveGasPrice: r ? dec(r.effectiveGasPrice) : null,
    contractAddress: r ? lc(r.contractAddress) : null,
  }
}

export function logRecord(l: RpcLog): LogRecord {
  return {
    blockNumber: num(l.blockNumber)!,
    blockHash: lc(l.blockHash)!,
    transactionHash: lc(l.transactionHash)!,
    transactionIndex: num(l.transactionIndex) ?? 0,
    logIndex: num(l.logIndex) ?? 0,
    address: lc(l.address)!,
    data: l.data,
    topics: l.topics.map((x) => x.toLowerCase()),
  }
}
