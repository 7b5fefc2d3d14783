/**
 * Event decoding for ingested logs: the common token and DEX events plus any ABI the user gives.
 *
 * Several standards share a topic0 (ERC-20 and ERC-721 `Transfer(address,address,uint256)` differ
 * only in which arguments are indexed), so each topic0 maps to a list of candidate ABI items that
 * are tried in order with strict decoding; the first that fits the log's topic count and data wins.
 * User ABI events are tried before the built-in ones.
 */
import { decodeEventLog, parseAbi, toEventSelector, type Abi, type AbiEvent, type Hex } from 'viem'

export type Standard = 'erc20' | 'erc721' | 'erc721/erc1155' | 'erc1155' | 'uniswap-v2' | 'uniswap-v3' | 'weth' | 'user'

export type RawLog = { address: string; topics: string[]; data: string; logIndex?: number | string; transactionHash?: string; blockNumber?: number | string }

export type DecodedEvent = {
  standard: Standard
  event: string
  /** Arguments by name; integers as decimal strings (JSON has no bigint), addresses lower-case. */
  args: Record<string, unknown>
}

const KNOWN: Array<{ standard: Standard; abi: string }> = [
  { standard: 'erc20', abi: 'event Transfer(address indexed from, address indexed to, uint256 value)' },
  { standard: 'erc721', abi: 'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)' },
  // Some early tokens indexed nothing; ethereum-etl counts these as transfers too.
  { standard: 'erc20', abi: 'event Transfer(address from, address to, uint256 value)' },
  { standard: 'erc20', abi: 'event Approval(address indexed owner, address indexed spender, uint256 value)' },
  { standard: 'erc721', abi: 'event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)' },
  { standard: 'erc721/erc1155', abi: 'event ApprovalForAll(address indexed owner, address indexed operator, bool approved)' },
  { standard: 'erc1155', abi: 'event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)' },
  { standard: 'erc1155', abi: 'event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)' },
  { standard: 'uniswap-v2', abi: 'event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)' },
  { standard: 'uniswap-v3', abi: 'event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)' },
  { standard: 'weth', abi: 'event Deposit(address indexed dst, uint256 wad)' },
  { standard: 'weth', abi: 'event Withdrawal(address indexed src, uint256 wad)' },
]

type Candidate = { standard: Standard; item: AbiEvent }

export type LogDecoder = {
  decode(log: RawLog): DecodedEvent | null
  /** Number of candidate event signatures known. */
  readonly size: number
}

/** JSON-safe copy of decoded args: bigint -> decimal string, addresses lower-cased, arrays/tuples recursed. */
export function jsonArgs(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'string') return /^0x[0-9a-fA-F]{40}$/.test(v) ? v.toLowerCase() : v
  if (Array.isArray(v)) return v.map(jsonArgs)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonArgs(x)]))
  return v
}

export function createLogDecoder(userAbis: Abi[] = []): LogDecoder {
  const byTopic = new Map<string, Candidate[]>()
  const add = (standard: Standard, item: AbiEvent) => {
    const sel = toEventSelector(item).toLowerCase()
    const list = byTopic.get(sel) ?? []
    list.push({ standard, item })
    byTopic.set(sel, list)
  }
  const known = KNOWN.map((k) => ({ standard: k.standard, item: parseAbi([k.abi])[0] as AbiEvent }))
  const layout = (e: AbiEvent) => `${toEventSelector(e)}:${e.inputs.map((i) => (i.indexed ? 1 : 0)).join('')}`
  const knownLayouts = new Set(known.map((k) => layout(k.item)))
  // A user ABI that restates a standard event (a pair's own Swap) keeps the standard's label.
  for (const abi of userAbis) for (const item of abi) if (item.type === 'event' && !item.anonymous && !knownLayouts.has(layout(item))) add('user', item)
  for (const k of known) add(k.standard, k.item)
  let size = 0
  for (const l of byTopic.values()) size += l.length
  return {
    size,
    decode(log) {
      const t0 = log.topics[0]?.toLowerCase()
      if (!t0) return null
      for (const c of byTopic.get(t0) ?? []) {
        try {
          const d = decodeEventLog({ abi: [c.item], data: log.data as Hex, topics: log.topics as [Hex, ...Hex[]], strict: true })
          return { standard: c.standard, event: d.eventName as string, args: jsonArgs(d.args) as Record<string, unknown> }
        } catch {
          // wrong indexed layout for this candidate: try the next one
        }
      }
      return null
    },
  }
}
