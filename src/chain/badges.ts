import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import type { Address, Hex } from 'viem'
import { labelerBadgeAbi, labelingEscrowAbi } from './generated/index.ts'
import { sendTx, type ChainContext } from './context.ts'

export const LEVEL_NAMES = ['none', 'Contributor', 'Bronze', 'Silver', 'Gold'] as const

/** Adds bytes to a content store and returns the CID (e.g. ContentStore.addBytes). */
export type AddBytes = (bytes: Uint8Array) => Promise<{ toString(): string }>

export type BadgeMetadata = {
  name: string
  description: string
  labeler: Address
  level: number
  levelName: string
  totalAccepted: number
  avgQualityBps: number
  settlements: number
  datasets: string[]
  /** Expertise categories the labeler qualified in on the labeling service, with their level (issue 20). */
  categories?: BadgeCategory[]
  attributes: Array<{ trait_type: string; value: string | number }>
}

/** A category from the labeling service's qualifications (src/labeling/qualify.ts), e.g. {category: 'governance', level: 1, levelName: 'qualified'}. */
export type BadgeCategory = { category: string; level: number; levelName: string }

export type BadgeInfo = { tokenId: bigint; level: number; levelName: string; tokenURI: string }

/**
 * CIDv1 (raw, sha2-256) of a small document: the CID Helia and Kubo give a single-block file added
 * with raw leaves, so the URI can be minted before (or without) the document being pinned.
 */
export async function rawCid(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString()
}

/** Dataset CIDs of every settled batch that credited `labeler` (read from the escrow's events). */
export async function datasetsOf(ctx: ChainContext, labeler: Address): Promise<string[]> {
  const fromBlock = BigInt(ctx.deployment.blockNumber) > 10n ? BigInt(ctx.deployment.blockNumber) - 10n : 0n
  const escrow = { address: ctx.deployment.escrow, abi: labelingEscrowAbi, fromBlock } as const
  const credited = await ctx.publicClient.getContractEvents({ ...escrow, eventName: 'LabelerCredited', args: { labeler } })
  const settled = await ctx.publicClient.getContractEvents({ ...escrow, eventName: 'BatchSettled' })
  const cidOf = new Map(settled.map((e) => [`${e.args.campaignId}/${e.args.batchIndex}`, e.args.datasetCid ?? '']))
  const out: string[] = []
  for (const e of credited) {
    const cid = cidOf.get(`${e.args.campaignId}/${e.args.batchIndex}`)
    if (cid && !out.includes(cid)) out.push(cid)
  }
  return out
}

export async function buildBadgeMetadata(ctx: ChainContext, labeler: Address, level: number, categories: BadgeCategory[] = []): Promise<BadgeMetadata> {
  const [totalAccepted, avgQualityBps, settlements] = await ctx.publicClient.readContract({
    address: ctx.deployment.escrow,
    abi: labelingEscrowAbi,
    functionName: 'labelerStats',
    args: [labeler],
  })
  const datasets = await datasetsOf(ctx, labeler)
  const levelName = LEVEL_NAMES[level] ?? String(level)
  return {
    name: `instruct3 Labeler Badge: ${levelName}`,
    description: 'Soulbound badge certifying a labeler\'s level and the datasets they labeled for instruct3 (levels in docs/chain.md).',
    labeler,
    level,
    levelName,
    totalAccepted: Number(totalAccepted),
    avgQualityBps,
    settlements,
    datasets,
    attributes: [
      { trait_type: 'Level', value: level },
      { trait_type: 'Level name', value: levelName },
      { trait_type: 'Accepted labels', value: Number(totalAccepted) },
      { trait_type: 'Mean quality (bps)', value: avgQualityBps },
      { trait_type: 'Datasets', value: datasets.length },
      ...categories.map((c) => ({ trait_type: `Category: ${c.category}`, value: c.levelName })),
    ],
    ...(categories.length ? { categories } : {}),
  }
}

export async function getBadge(ctx: ChainContext, labeler: Address): Promise<BadgeInfo | null> {
  const badge = { address: ctx.deployment.badge, abi: labelerBadgeAbi } as const
  const tokenId = await ctx.publicClient.readContract({ ...badge, functionName: 'tokenIdOf', args: [labeler] })
  const balance = await ctx.publicClient.readContract({ ...badge, functionName: 'balanceOf', args: [labeler] })
  if (balance === 0n) return null
  const [level, tokenURI] = await Promise.all([
    ctx.publicClient.readContract({ ...badge, functionName: 'levelOf', args: [tokenId] }),
    ctx.publicClient.readContract({ ...badge, functionName: 'tokenURI', args: [tokenId] }),
  ])
  return { tokenId, level, levelName: LEVEL_NAMES[level] ?? String(level), tokenURI }
}

export type IssueResult = { labeler: Address; action: 'minted' | 'upgraded' | 'unchanged' | 'none'; level: number; tokenURI?: string; metadata?: BadgeMetadata; txHash?: Hex }

/**
 * Mint the labeler's badge, or upgrade it to the level their settled work now earns with fresh
 * metadata (new dataset CIDs). The context's account must hold ISSUER_ROLE (the oracle).
 * `addBytes` puts the metadata JSON in a content store; without it the CID is computed locally.
 */
export async function issueBadge(ctx: ChainContext, labeler: Address, opts: { addBytes?: AddBytes; onMetadata?: (cid: string, json: string) => void; categories?: BadgeCategory[] } = {}): Promise<IssueResult> {
  const badge = { address: ctx.deployment.badge, abi: labelerBadgeAbi } as const
  const earned = await ctx.publicClient.readContract({ ...badge, functionName: 'levelFor', args: [labeler] })
  if (earned === 0) return { labeler, action: 'none', level: 0 }
  const current = await getBadge(ctx, labeler)
  const level = Math.max(earned, current?.level ?? 0)
  const metadata = await buildBadgeMetadata(ctx, labeler, level, opts.categories)
  const json = JSON.stringify(metadata, null, 2)
  const bytes = new TextEncoder().encode(json)
  const cid = opts.addBytes ? (await opts.addBytes(bytes)).toString() : await rawCid(bytes)
  opts.onMetadata?.(cid, json)
  const tokenURI = `ipfs://${cid}`
  if (current && current.tokenURI === tokenURI) return { labeler, action: 'unchanged', level, tokenURI, metadata }
  const functionName = current ? 'upgrade' : 'mint'
  const { receipt } = await sendTx(ctx, `LabelerBadge.${functionName}`, { ...badge, functionName, args: [labeler, tokenURI] })
  return { labeler, action: current ? 'upgraded' : 'minted', level, tokenURI, metadata, txHash: receipt.transactionHash }
}

/** Burn a labeler's badge (issuer only), e.g. after proven fraud. Returns false when there is none. */
export async function revokeBadge(ctx: ChainContext, labeler: Address): Promise<boolean> {
  const current = await getBadge(ctx, labeler)
  if (!current) return false
  await sendTx(ctx, 'LabelerBadge.burn', { address: ctx.deployment.badge, abi: labelerBadgeAbi, functionName: 'burn', args: [current.tokenId] })
  return true
}

