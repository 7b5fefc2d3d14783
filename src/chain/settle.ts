import { parseEventLogs, type Address, type Hex } from 'viem'
import { labelingEscrowAbi } from './generated/index.ts'
import { sendTx, type ChainContext } from './context.ts'
import { getCampaign, getPosition } from './campaign.ts'
import { isProvenFraud, signFraudProof, slashLabeler } from './fraud.ts'
import { issueBadge, rawCid, revokeBadge, type AddBytes, type IssueResult } from './badges.ts'
import type { SettlementBatch } from './batch.ts'
import { Instruct3Error } from '../util/errors.ts'

export const MAX_BATCH_LABELERS = 200

export type Credit = { labeler: Address; accepted: number; qualityBps: number; immediate: bigint; vested: bigint; bonus: bigint }
export type SlashReport = { labeler: Address; goldFailures: number; goldTotal: number; evidenceCid: string; fromStake: bigint; fromVesting: bigint }

export type SettleReport = {
  campaignId: bigint
  /** null when every labeler of the batch was slashed (nothing left to settle). */
  batchIndex: number | null
  txHash: Hex | null
  gasUsed: bigint
  merkleRoot: Hex
  datasetCid: string
  credits: Credit[]
  slashed: SlashReport[]
  badges: IssueResult[]
}

export type SettleOptions = {
  /** Overrides batch.datasetCid. */
  datasetCid?: string
  /** Mint/upgrade badges of the credited labelers and burn those of slashed ones (default true). */
  badges?: boolean
  addBytes?: AddBytes
  onMetadata?: (cid: string, json: string) => void
  onStep?: (step: string) => void
}

/**
 * The labeling service's settlement of one exported batch, signed by the oracle account in `ctx`:
 *  1. labelers whose gold-task failure rate is beyond the campaign's limit are slashed with an
 *     oracle-signed fraud proof (evidence: the dataset CID) and left out of the pay;
 *  2. the others are settled in one transaction (Merkle root, dataset CID, accepted, quality);
 *  3. badges are minted or upgraded for the credited labelers, burned for the slashed ones.
 */
export async function settleBatch(ctx: ChainContext, campaignId: bigint, batch: SettlementBatch, opts: SettleOptions = {}): Promise<SettleReport> {
  const step = opts.onStep ?? (() => {})
  const c = await getCampaign(ctx, campaignId)
  if (batch.chainCampaignId !== null && BigInt(batch.chainCampaignId) !== campaignId) {
    throw new Instruct3Error(`batch is for on-chain campaign ${batch.chainCampaignId}, not ${campaignId}`, { code: 'EBATCH', details: { field: 'chainCampaignId' } })
  }
  const datasetCid = opts.datasetCid ?? batch.datasetCid ?? ''
  const withBadges = opts.badges ?? true

  const positions = await Promise.all(batch.labelers.map((l) => getPosition(ctx, campaignId, l.address)))
  batch.labelers.forEach((l, i) => {
    if (!positions[i].joined) {
      throw new Instruct3Error(`labeler ${l.address} has not staked in campaign ${campaignId}`, { code: 'ENOTJOINED', details: { field: `labelers[${i}].address` } })
    }
  })

  const slashed: SlashReport[] = []
  const pay: typeof batch.labelers = []
  for (const [i, l] of batch.labelers.entries()) {
    if (positions[i].slashed) continue // slashed earlier: never paid again
    if (!isProvenFraud(l.goldFailures, l.goldTotal, c.params.fraudGoldFailBps)) {
      pay.push(l)
      continue
    }
    const evidenceCid = datasetCid || (await rawCid(new TextEncoder().encode(JSON.stringify({ merkleRoot: batch.merkleRoot, labeler: l.address, goldFailures: l.goldFailures, goldTotal: l.goldTotal }))))
    step(`slash ${l.address} (${l.goldFailures}/${l.goldTotal} gold failures)`)
    const proof = { campaignId, labeler: l.address, goldFailures: l.goldFailures, goldTotal: l.goldTotal, evidenceCid }
    const signature = await signFraudProof(ctx.account!, ctx.deployment, proof)
    const r = await slashLabeler(ctx, proof, signature)
    slashed.push({ ...proof, fromStake: r.fromStake, fromVesting: r.fromVesting })
  }

  if (pay.length > MAX_BATCH_LABELERS) {
    throw new Instruct3Error(`batch has ${pay.length} labelers; one settlement takes at most ${MAX_BATCH_LABELERS}: export smaller batches`, { code: 'EBATCH', details: { field: 'labelers' } })
  }
  let batchIndex: number | null = null
  let txHash: Hex | null = null
  let gasUsed = 0n
  const credits: Credit[] = []
  if (pay.length > 0) {
    step(`settle ${pay.length} labelers`)
    const results = pay.map((l) => ({ labeler: l.address, accepted: l.accepted, qualityBps: l.qualityBps }))
    const { receipt, result } = await sendTx(ctx, 'LabelingEscrow.settle', {
      address: ctx.deployment.escrow,
      abi: labelingEscrowAbi,
      functionName: 'settle',
      args: [campaignId, batch.merkleRoot, batch.labelCount, datasetCid, results],
    })
    batchIndex = Number(result)
    txHash = receipt.transactionHash
    gasUsed = receipt.gasUsed
    for (const e of parseEventLogs({ abi: labelingEscrowAbi, logs: receipt.logs, eventName: 'LabelerCredited' })) {
      credits.push({ labeler: e.args.labeler, accepted: e.args.accepted, qualityBps: e.args.qualityBps, immediate: e.args.immediate, vested: e.args.vested, bonus: e.args.bonus })
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
  return { campaignId, batchIndex, txHash, gasUsed, merkleRoot: batch.merkleRoot, datasetCid, credits, slashed, badges }
}
