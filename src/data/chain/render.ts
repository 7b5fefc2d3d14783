/**
 * A compact, human-readable rendering of one transaction for prompts (a small model has a
 * 256-512 token context): short addresses, decoded events one per line, raw integer amounts
 * (token decimals are unknown without extra calls, and a wrong scale would teach wrong facts).
 */
import type { EventRecord, TransactionRecord } from './records.ts'

export const shortAddr = (a: string | null | undefined) => (a ? (a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a) : 'none')

/** Wei as ETH with up to 6 decimals, exact (bigint arithmetic). */
export function formatEth(wei: string): string {
  const w = BigInt(wei)
  const whole = w / 10n ** 18n
  const frac = (w % 10n ** 18n).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '')
  const s = frac ? `${whole}.${frac}` : `${whole}`
  return s === '0' && w > 0n ? '<0.000001' : s
}

export function renderEvent(e: Pick<EventRecord, 'standard' | 'event' | 'args' | 'address'>): string {
  const a = e.args as Record<string, string>
  const tok = shortAddr(e.address)
  switch (`${e.standard}:${e.event}`) {
    case 'erc20:Transfer':
      return `ERC-20 Transfer of ${a.value} units of token ${tok} from ${shortAddr(a.from)} to ${shortAddr(a.to)}`
    case 'erc721:Transfer':
      return `ERC-721 Transfer of token #${a.tokenId} of ${tok} from ${shortAddr(a.from)} to ${shortAddr(a.to)}`
    case 'erc20:Approval':
      return `ERC-20 Approval: ${shortAddr(a.owner)} lets ${shortAddr(a.spender)} spend ${a.value} units of ${tok}`
    case 'erc721:Approval':
      return `ERC-721 Approval: ${shortAddr(a.owner)} approves ${shortAddr(a.approved)} for token #${a.tokenId} of ${tok}`
    case 'erc721/erc1155:ApprovalForAll':
      return `ApprovalForAll: ${shortAddr(a.owner)} ${String(a.approved) === 'true' ? 'approves' : 'revokes'} operator ${shortAddr(a.operator)} on ${tok}`
    case 'erc1155:TransferSingle':
      return `ERC-1155 TransferSingle of ${a.value} of id ${a.id} of ${tok} from ${shortAddr(a.from)} to ${shortAddr(a.to)}`
    case 'erc1155:TransferBatch':
      return `ERC-1155 TransferBatch of ${(a.ids as unknown as string[]).length} ids of ${tok} from ${shortAddr(a.from)} to ${shortAddr(a.to)}`
    case 'uniswap-v2:Swap':
      return `Uniswap V2 Swap on pair ${tok}: in ${a.amount0In}/${a.amount1In}, out ${a.amount0Out}/${a.amount1Out} (token0/token1), to ${shortAddr(a.to)}`
    case 'uniswap-v3:Swap':
      return `Uniswap V3 Swap on pool ${tok}: amount0 ${a.amount0}, amount1 ${a.amount1} (pool's view), recipient ${shortAddr(a.recipient)}`
    case 'weth:Deposit':
      return `WETH Deposit of ${formatEth(a.wad)} ETH by ${shortAddr(a.dst)}`
    case 'weth:Withdrawal':
      return `WETH Withdrawal of ${formatEth(a.wad)} ETH by ${shortAddr(a.src)}`
    default: {
      const args = Object.entries(a).map(([k, v]) => `${k}=${typeof v === 'string' ? shortAddr(v.length === 42 ? v : v.length > 24 ? v.slice(0, 22) + '…' : v) : JSON.stringify(v)}`)
      return `${e.event}(${args.join(', ')}) on ${tok}`
    }
  }
}

export function renderTransaction(tx: TransactionRecord, events: EventRecord[], otherLogs: number, maxEvents = 8): string {
  const when = new Date(tx.blockTimestamp * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  const status = tx.status === null ? 'unknown status' : tx.status === 1 ? 'succeeded' : 'failed'
  const lines = [`Transaction ${shortAddr(tx.hash)} in block ${tx.blockNumber} (${when}), ${status}.`]
  const target = tx.to ? `to ${shortAddr(tx.to)}` : tx.contractAddress ? `creating contract ${shortAddr(tx.contractAddress)}` : 'creating a contract'
  const fee = tx.gasUsed && tx.effectiveGasPrice ? `, fee ${formatEth((BigInt(tx.gasUsed) * BigInt(tx.effectiveGasPrice)).toString())} ETH` : ''
  lines.push(`From ${shortAddr(tx.from)} ${target}, value ${formatEth(tx.value)} ETH${fee}.`)
  if (tx.input && tx.input !== '0x' && tx.to) lines.push(`Calls method ${tx.input.slice(0, 10)} with ${Math.max(0, (tx.input.length - 10) / 2)} bytes of arguments.`)
  if (events.length) {
    lines.push('Events:')
    for (const e of events.slice(0, maxEvents)) lines.push(`- ${renderEvent(e)}`)
    if (events.length > maxEvents) lines.push(`- … ${events.length - maxEvents} more decoded events`)
  }
  if (otherLogs) lines.push(`${otherLogs} other log${otherLogs > 1 ? 's' : ''} not decoded.`)
  return lines.join('\n')
}

/**
 * A template reference answer for the simple cases only (plain ETH transfer, one token transfer,
 * one swap); anything else has no reference. Built from decoded facts, so it is exact but plain.
 */
export function referenceExplanation(tx: TransactionRecord, events: EventRecord[], otherLogs: number): string | undefined {
  if (tx.status === 0) return `The transaction from ${shortAddr(tx.from)} failed (reverted), so it changed no balances except paying the fee.`
  if (otherLogs) return undefined
  if (events.length === 0 && (tx.input === '0x' || !tx.input) && tx.to) return `${shortAddr(tx.from)} sent ${formatEth(tx.value)} ETH to ${shortAddr(tx.to)}.`
  if (events.length === 1) {
    const e = events[0]
    const a = e.args as Record<string, string>
    if (e.standard === 'erc20' && e.event === 'Transfer') return `${shortAddr(a.from)} transferred ${a.value} units of the ERC-20 token ${shortAddr(e.address)} to ${shortAddr(a.to)}.`
    if (e.standard === 'erc721' && e.event === 'Transfer') return `${shortAddr(a.from)} transferred NFT #${a.tokenId} of ${shortAddr(e.address)} to ${shortAddr(a.to)}.`
    if (e.standard === 'erc20' && e.event === 'Approval') return `${shortAddr(a.owner)} approved ${shortAddr(a.spender)} to spend ${a.value} units of token ${shortAddr(e.address)}.`
  }
  const swaps = events.filter((e) => e.event === 'Swap')
  if (swaps.length === 1) return `A token swap on ${swaps[0].standard === 'uniswap-v3' ? 'a Uniswap V3 pool' : 'a Uniswap V2 pair'} ${shortAddr(swaps[0].address)}, with ${events.length - 1} related token events.`
  return undefined
}
