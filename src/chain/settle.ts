import { parseEventLogs, type Address, type Hex } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { sendTx, type ChainContext } from './context.ts'
import { getCampaign, getPosition } from './campaign.ts'
import { isProvenFraud, signFraudProof, slashLabeler } from './fraud.ts'
import { issueBadge, rawCid, revokeBadge, type AddBytes, type IssueResult } from './badges.ts'
import type { BatchManifest } from '../batch/index.ts'
import { Instruct3Error } from '../util/errors.ts'

/** Most labelers one settle transaction carries (LabelingEscrow.MAX_BATCH_LABELERS); larger batches are paged. */
export const MAX_BATCH_LABELERS = 200

/** `accepted` is the number of labels newly paid for (the increase over the settled count). */
export type Credit = { labeler: Address; accepted: number; qualityBps: number; immediate: bigint; vested: bigint; bonusReserved: bigint }
export type SlashReport = { labeler: Address; goldFailures: number; goldTotal: number; evidenceCid: string; fromStake: bigint; fromVesting: bigint; fromBonusReserve: bigint }
/** A labeler of the batch that was not sent to the escrow, and why. */
export type SkipReport = { labeler: Address; reason: 'not-joined' | 'slashed' | 'nothing-new' }
export type PageReport = { txHash: Hex; gasUsed: bigint; labelers: number }

export type SettleReport = {
  campaignId: bigint
  /** The batch index of this export's Merkle root; null when nothing was sent (no new labels). */
  batchIndex: number | null
  /** Hash of the first settle transaction (null when none was sent). */
  txHash: Hex | null
  /** Gas of all settle transactions together. */
  gasUsed: bigint
  pages: PageReport[]
  merkleRoot: Hex
  datasetCid: string
  credits: Credit[]
  slashed: SlashReport[]
  skipped: SkipReport[]
  badges: IssueResult[]
}

export type SettleOptions = {
  /** Overrides batch.datasetCid. */
  datasetCid?: string
  /** Mint/upgrade badges of the credited labelers and burn those of slashed ones (default true). */
  badges?: boolean
  /** Labelers per settle transaction (default and maximum MAX_BATCH_LABELERS). */
  pageSize?: number
  addBytes?: AddBytes
  onMetadata?: (cid: string, json: string) => void
  onStep?: (step: string) => void
}

/**
 * The labeling service's settlement of one exported batch, signed by the oracle account in `ctx`.
 * Incremental and idempotent: the batch carries cumulative accepted counts and the escrow pays only
 * what each labeler's count grew since its last settlement, so settling successive exports (or the
 * same one again, e.g. after a crash half way) pays every label once.
 *  1. labelers who never joined the campaign on chain, were slashed before, or have nothing new
 *     are skipped and reported in `skipped` (they would revert or waste gas);
 *  2. labelers whose gold-task failure rate is beyond the campaign's limit are slashed with an
 *     oracle-signed fraud proof (evidence: the dataset CID) and left out of the pay;
 *  3. the others are settled in pages of at most MAX_BATCH_LABELERS (one transaction each, all
 *     under the batch's Merkle root);
 *  4. badges are minted or upgraded for the credited labelers, burned for the slashed ones.
 */
export async function settleBatch(ctx: ChainContext, campaignId: bigint, batch: BatchManifest, opts: SettleOptions = {}): Promise<SettleReport> {
  const step = opts.onStep ?? (() => {})
  const c = await getCampaign(ctx, campaignId)
  if (batch.chainCampaignId !== null && BigInt(batch.chainCampaignId) !== campaignId) {
    throw new Instruct3Error(`batch is for on-chain campaign ${batch.chainCampaignId}, not ${campaignId}`, { code: 'EBATCH', details: { field: 'chainCampaignId' } })
  }
  const pageSize = opts.pageSize ?? MAX_BATCH_LABELERS
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_BATCH_LABELERS) {
    throw new Instruct3Error(`pageSize must be an integer in 1..${MAX_BATCH_LABELERS}`, { code: 'EARG', details: { field: 'pageSize' } })
  }
  const datasetCid = opts.datasetCid ?? batch.datasetCid ?? ''
  const withBadges = opts.badges ?? true

  const positions = await Promise.all(batch.labelers.map((l) => getPosition(ctx, campaignId, l.address)))
  const skipped: SkipReport[] = []
  const slashed: SlashReport[] = []
  const pay: BatchManifest['labelers'] = []
  for (const [i, l] of batch.labelers.entries()) {
    const p = positions[i]
    if (!p.joined) {
      skipped.push({ labeler: l.address, reason: 'not-joined' })
      step(`skip ${l.address}: never joined campaign ${campaignId} on chain`)
      continue
    }
    if (p.slashed) {
      skipped.push({ labeler: l.address, reason: 'slashed' })
      continue
    }
    if (isProvenFraud(l.goldFailures, l.goldTotal, c.params.fraudGoldFailBps)) {
      const evidenceCid = datasetCid || (await rawCid(new TextEncoder().encode(JSON.stringify({ merkleRoot: batch.merkleRoot, labeler: l.address, goldFailures: l.goldFailures, goldTotal: l.goldTotal }))))
      step(`slash ${l.address} (${l.goldFailures}/${l.goldTotal} gold failures)`)
      const proof = { campaignId, labeler: l.address, goldFailures: l.goldFailures, goldTotal: l.goldTotal, evidenceCid }
      const signature = await signFraudProof(ctx.account!, ctx.deployment, proof)
      const r = await slashLabeler(ctx, proof, signature)
      slashed.push({ ...proof, fromStake: r.fromStake, fromVesting: r.fromVesting, fromBonusReserve: r.fromBonusReserve })
      continue
    }
    if (l.accepted <= p.settledAccepted) {
      skipped.push({ labeler: l.address, reason: 'nothing-new' })
      continue
    }
    pay.push(l)
  }

  let batchIndex: number | null = null
  const pages: PageReport[] = []
  const credits: Credit[] = []
  for (let at = 0; at < pay.length; at += pageSize) {
    const page = pay.slice(at, at + pageSize)
    step(`settle labelers ${at + 1}-${at + page.length} of ${pay.length}`)
    const results = page.map((l) => ({ labeler: l.address, accepted: l.accepted, qualityBps: l.qualityBps }))
    const { receipt, result } = await sendTx(ctx, 'LabelingEscrow.settle', {
      address: ctx.deployment.escrow,
      abi: labelingEscrowAbi,
      functionName: 'settle',
      args: [campaignId, batch.merkleRoot, batch.labelCount, datasetCid, results],
    })
    batchIndex = Number(result)
    pages.push({ txHash: receipt.transactionHash, gasUsed: receipt.gasUsed, labelers: page.length })
    for (const e of parseEventLogs({ abi: labelingEscrowAbi, logs: receipt.logs, eventName: 'LabelerCredited' })) {
      credits.push({ labeler: e.args.labeler, accepted: e.args.accepted, qualityBps: e.args.qualityBps, immediate: e.args.immediate, vested: e.args.vested, bonusReserved: e.args.bonusReserved })
    }
  }

  const badges: IssueResult[] = []
  if (withBadges) {
    for (const s of slashed) if (await revokeBadge(ctx, s.labeler)) step(`badge of ${s.labeler} burned`)
    for (const cr of credits) {
      const r = await issueBadge(ctx, cr.labeler, { addBytes: opts.addBytes, onMetadata: opts.onMetadata })
      step(`badge of ${cr.labeler}: ${r.action} (level ${r.level})`)
      badges.push(r)
    }
  }
  const gasUsed = pages.reduce((s, p) => s + p.gasUsed, 0n)
  return { campaignId, batchIndex, txHash: pages[0]?.txHash ?? null, gasUsed, pages, merkleRoot: batch.merkleRoot, datasetCid, credits, slashed, skipped, badges }
}
