// What the web app reads from the chain through the labeling server: deployment addresses, a
// campaign's terms, accounting and settlements, and a labeler's positions and badge. Every amount is a
// decimal string in token base units (JSON has no bigint); the browser formats it with the token's
// decimals. Positions are cached for a few seconds per address, because a page polls them and each
// read is one RPC call per campaign. Nothing here signs: the server never holds a user's key.
import { erc20Abi, getAddress, isAddress, type Address, type Hex } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { createChainContext, type ChainContext } from './context.ts'
import { campaignCount, getCampaign } from './campaign.ts'
import { buildBadgeMetadata, datasetsOf, getBadge, rawCid } from './badges.ts'
import { getLabelerOnchainStatus, type LabelerOnchainStatus } from './status.ts'
import type { Deployment } from './deployment.ts'
import { Instruct3Error } from '../util/errors.ts'

export type TokenInfo = { address: Address; symbol: string; decimals: number }

/** GET /api/chain: where the contracts are, and the chain a wallet must be on. */
export type ChainInfo = { chainId: number; rpcUrl: string; escrow: Address; badge: Address; oracle: Address; token: TokenInfo | null }

export type SettlementView = {
  batchIndex: number
  merkleRoot: Hex
  datasetCid: string
  labelCount: number
  labelers: number
  credited: string
  txHash: Hex
  blockNumber: string
}

/** GET /api/chain/campaigns/:id: the on-chain terms a labeler reads before joining, and the requester's accounting. */
export type ChainCampaignView = {
  id: string
  requester: Address
  oracle: Address
  token: TokenInfo
  open: boolean
  batches: number
  /** Unix seconds: when it was closed (0 while open) and when its settlement window ends (0 while open). */
  closedAt: number
  settlementEndsAt: number
  /** The chain's latest block time (unix seconds): what "deadline passed" and "window over" are judged by. */
  chainNow: number
  /** CampaignParams as decimal strings / numbers (every field the deployed ABI has). */
  terms: Record<string, string | number>
  /** budget (unspent), committed (credited, not withdrawn), stakes, funded, paidOut, refunded, ... */
  accounting: Record<string, string>
  settlements: SettlementView[]
}

export type BadgeView = {
  tokenId: string
  level: number
  levelName: string
  tokenURI: string
  /** Dataset CIDs of every settled batch that credited the labeler (escrow events). */
  datasets: string[]
  /** True when the metadata document rebuilt from the chain hashes to the tokenURI's CID. */
  metadataVerified: boolean
}

/** Per joined campaign, besides LabelerCampaignStatus: when the stake can be taken back. */
export type PositionExtra = {
  /** Unix seconds when withdrawStake is allowed: the end of the settlement window (0 while open). */
  stakeUnlocksAt: number
}

/** GET /api/chain/positions/me. */
export type PositionsView = Omit<LabelerOnchainStatus, 'badge' | 'campaigns'> & {
  campaigns: Array<LabelerOnchainStatus['campaigns'][number] & PositionExtra>
  badge: BadgeView | null
  chainNow: number
  readAt: number
}

export type ChainReads = {
  info(): Promise<ChainInfo>
  campaign(id: bigint): Promise<ChainCampaignView>
  positions(address: string, fresh?: boolean): Promise<PositionsView>
  /** Throws (naming the field) unless campaign `id` exists, `requester` created it and the service's oracle settles it. */
  checkLink(id: bigint, requester: string): Promise<void>
}

const jsonify = (o: Record<string, unknown>): Record<string, string | number> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : (v as number)]))

export function createChainReads(deployment: Deployment, opts: { cacheMs?: number; now?: () => number } = {}): ChainReads {
  const ctx: ChainContext = createChainContext({ deployment })
  const cacheMs = opts.cacheMs ?? 3000
  const now = opts.now ?? Date.now
  const tokens = new Map<string, Promise<TokenInfo>>()
  // Per address: when it was read, at which block, and the read (a promise, so concurrent requests share it).
  const cache = new Map<string, { at: number; block: bigint; value: Promise<PositionsView> }>()

  const tokenInfo = (address: Address): Promise<TokenInfo> => {
    let t = tokens.get(address)
    if (!t) {
      t = Promise.all([
        ctx.publicClient.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
        ctx.publicClient.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
      ]).then(([symbol, decimals]) => ({ address, symbol, decimals }))
      t.catch(() => tokens.delete(address)) // a failed read is retried next time
      tokens.set(address, t)
    }
    return t
  }

  const fromBlock = BigInt(deployment.blockNumber)

  async function badgeOf(labeler: Address): Promise<BadgeView | null> {
    const b = await getBadge(ctx, labeler)
    if (!b) return null
    const datasets = await datasetsOf(ctx, labeler)
    // The service writes the document it minted; rebuilding it from the chain and hashing it shows
    // whether the tokenURI still describes the labeler's settled work (a later settlement may not
    // have upgraded the badge yet).
    const doc = JSON.stringify(await buildBadgeMetadata(ctx, labeler, b.level), null, 2)
    const metadataVerified = `ipfs://${await rawCid(new TextEncoder().encode(doc))}` === b.tokenURI
    return { tokenId: b.tokenId.toString(), level: b.level, levelName: b.levelName, tokenURI: b.tokenURI, datasets, metadataVerified }
  }

  const escrow = { address: deployment.escrow, abi: labelingEscrowAbi } as const
  const chainNow = async () => Number((await ctx.publicClient.getBlock()).timestamp)

  async function readPositions(address: Address): Promise<PositionsView> {
    const s = await getLabelerOnchainStatus(address, ctx)
    const campaigns = await Promise.all(
      s.campaigns.map(async (c) => {
        const id = BigInt(c.campaignId)
        const ends = await ctx.publicClient.readContract({ ...escrow, functionName: 'settlementEndsAt', args: [id] })
        return { ...c, stakeUnlocksAt: Number(ends) }
      }),
    )
    return { ...s, campaigns, badge: await badgeOf(address), chainNow: await chainNow(), readAt: now() }
  }

  return {
    async info() {
      return {
        chainId: deployment.chainId,
        rpcUrl: deployment.rpcUrl,
        escrow: deployment.escrow,
        badge: deployment.badge,
        oracle: deployment.oracle,
        token: deployment.token ? await tokenInfo(deployment.token) : null,
      }
    },

    async campaign(id) {
      if (id < 1n || id > (await campaignCount(ctx))) throw new Instruct3Error(`no campaign ${id} on chain`, { code: 'ENOCAMPAIGN', details: { field: 'id' } })
      const c = await getCampaign(ctx, id)
      const events = await ctx.publicClient.getContractEvents({
        address: deployment.escrow,
        abi: labelingEscrowAbi,
        eventName: 'BatchSettled',
        args: { campaignId: id },
        fromBlock,
      })
      const { params, id: _id, requester, oracle, token, open, batches, closedAt, ...accounting } = c
      const ends = await ctx.publicClient.readContract({ ...escrow, functionName: 'settlementEndsAt', args: [id] })
      return {
        id: id.toString(),
        requester,
        oracle,
        token: await tokenInfo(token),
        open,
        batches,
        closedAt: Number(closedAt),
        settlementEndsAt: Number(ends),
        chainNow: await chainNow(),
        terms: jsonify(params),
        accounting: jsonify(accounting) as Record<string, string>,
        settlements: events.map((e) => ({
          batchIndex: Number(e.args.batchIndex),
          merkleRoot: e.args.merkleRoot!,
          datasetCid: e.args.datasetCid ?? '',
          labelCount: Number(e.args.labelCount),
          labelers: Number(e.args.labelers),
          credited: (e.args.credited ?? 0n).toString(),
          txHash: e.transactionHash,
          blockNumber: e.blockNumber.toString(),
        })),
      }
    },

    async positions(address, fresh = false) {
      if (!isAddress(address)) throw new Instruct3Error('not an address', { code: 'EADDRESS', details: { field: 'address' } })
      const key = getAddress(address)
      const hit = cache.get(key)
      if (hit && !fresh && now() - hit.at < cacheMs) return hit.value
      // A read of positions costs one RPC call per campaign scanned (up to 500), so `fresh` re-reads only
      // when a block was mined since the cached read: positions change only with blocks, and a client
      // looping on ?fresh=1 costs the node one eth_blockNumber per request, not a scan.
      const block = await ctx.publicClient.getBlockNumber({ cacheTime: 0 })
      if (hit && hit.block === block) return hit.value
      const value = readPositions(key)
      value.catch(() => cache.delete(key))
      cache.set(key, { at: now(), block, value })
      // Bounded: the cache keeps at most 10,000 addresses (oldest first out).
      if (cache.size > 10_000) cache.delete(cache.keys().next().value!)
      return value
    },

    async checkLink(id, requester) {
      const n = await campaignCount(ctx)
      if (id < 1n || id > n) throw new Instruct3Error(`no campaign ${id} on chain (there are ${n})`, { code: 'ENOCAMPAIGN', details: { field: 'chainCampaignId' } })
      const c = await getCampaign(ctx, id)
      if (c.requester !== getAddress(requester)) {
        throw new Instruct3Error(`on-chain campaign ${id} was created by ${c.requester}, not by you`, { code: 'ENOTREQUESTER', details: { field: 'chainCampaignId' } })
      }
      if (c.oracle !== deployment.oracle) {
        throw new Instruct3Error(`on-chain campaign ${id} is settled by ${c.oracle}, not by this service's oracle ${deployment.oracle}`, { code: 'EWRONGORACLE', details: { field: 'chainCampaignId' } })
      }
    },
  }
}
