/**
 * A label export (the folder `instruct3 label export` writes, or its CID fetched into a folder) read
 * as training data, after checking it end to end. Nothing in the folder is trusted:
 *
 *  1. every label in labels.jsonl: its labelHash is recomputed from its content, its EIP-712
 *     signature must recover its labeler, and it must belong to the batch's campaign;
 *  2. the Merkle root recomputed from labels.jsonl (label id order, as the export builds it) must
 *     equal batch.json's, and batch.json must list exactly those labels;
 *  3. with a chain check, the escrow must have settled that root for the batch's on-chain campaign;
 *  4. the training rows are rebuilt from the verified labels, not read from comparisons.jsonl:
 *     only accepted labels, not those of labelers whose gold failure rate proves fraud, and each
 *     row's prompt and responses must hash to the taskHash its labelers signed.
 *
 * Any failure throws an Instruct3Error (code ELABELBATCH) naming the file, the label and what failed.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getAddress, type Address, type Hex } from 'viem'
import { Instruct3Error } from '../util/errors.ts'
import { contentHash } from '../labeling/canonical.ts'
import { taskHash } from '../labeling/campaigns.ts'
import { buildMerkleTree, parseBatchManifest, BATCH_VERSION } from './index.ts'
import { mergeRankings } from '../labeling/quality.ts'
import { verifyLabelSignature } from '../labeling/signature.ts'
import { labelMessage } from '../labeling/typed.ts'
import type { LabelContent } from '../labeling/content.ts'
import type { Comparison, Demonstration, RowOrigin } from '../data/formats.ts'

/** Who made the labels: people, the simulated crowd (demo and tests), or a program. */
export type LabelOrigin = RowOrigin

/** Answers whether the escrow settled `root` for on-chain campaign `chainCampaignId` (src/chain). */
export type SettledRootCheck = (chainCampaignId: bigint, root: Hex) => Promise<boolean>

export type LabelBatchCheck = {
  /** The labels' origin; it is written into every row. */
  origin: LabelOrigin
  /** The labeling campaign the batch must be an export of (an export of another one is refused). */
  campaign?: string
  /** With a deployment: checks the root was settled on chain; the batch must then name its on-chain campaign. */
  settled?: SettledRootCheck
  /** A labeler whose gold failure rate is above this (bps, like the escrow's fraudGoldFailBps) is left out. Default 3000. */
  fraudGoldFailBps?: number
}

export type BatchLabelerSummary = { address: Address; labels: number; accepted: number; used: number; qualityBps: number; goldFailures: number; goldTotal: number; fraud: boolean }

export type VerifiedLabelBatch = {
  dir: string
  campaignId: string
  chainCampaignId: string | null
  merkleRoot: Hex
  datasetCid: string | null
  origin: LabelOrigin
  /** Labels in the batch, and signatures verified (the same number, or the batch was refused). */
  labels: number
  signaturesVerified: number
  /** Accepted labels of labelers not proven fraudulent: the ones the rows below are built from. */
  labelsUsed: number
  settledOnChain: boolean
  labelers: BatchLabelerSummary[]
  comparisons: Comparison[]
  demonstrations: Demonstration[]
}

type LabelRow = { id: number; labelHash: Hex; labeler: string; kind: string; campaign: string; taskId: number; content: LabelContent; signature: Hex; chainId: number; accepted: boolean }

const fail = (msg: string, details: Record<string, unknown>): never => {
  throw new Instruct3Error(msg, { code: 'ELABELBATCH', details })
}

function readJsonlRows(file: string): Array<{ line: number; value: Record<string, unknown> }> {
  if (!existsSync(file)) fail('missing file of the label export', { file })
  const out: Array<{ line: number; value: Record<string, unknown> }> = []
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.trim()) return
      try {
        out.push({ line: i + 1, value: JSON.parse(text) })
      } catch {
        fail('not valid JSON', { file, line: i + 1 })
      }
    })
  return out
}

/** Read, verify and turn into rows one label export folder (see the module comment). */
export async function verifyLabelBatch(dir: string, check: LabelBatchCheck): Promise<VerifiedLabelBatch> {
  const batchFile = join(dir, 'batch.json')
  if (!existsSync(batchFile)) fail('not a label export: batch.json is missing', { file: batchFile })
  let batch: Record<string, any>
  try {
    batch = JSON.parse(readFileSync(batchFile, 'utf8'))
  } catch (cause) {
    return fail(`cannot read batch manifest (${(cause as Error).message})`, { file: batchFile })
  }
  if (batch.version !== BATCH_VERSION) fail(`batch manifest version ${JSON.stringify(batch.version)}, expected ${BATCH_VERSION}: export the campaign again`, { file: batchFile, field: 'version' })
  if (typeof batch.campaignId !== 'string') fail('campaignId must be a string', { file: batchFile, field: 'campaignId' })
  const campaignId: string = batch.campaignId
  if (check.campaign !== undefined && campaignId !== check.campaign)
    fail(`export of campaign ${campaignId}, expected campaign ${check.campaign}`, { file: batchFile, field: 'campaignId' })
  const chainId = Number(batch.eip712?.domain?.chainId ?? 31337)

  // 1. every label: hash, signature, campaign
  const labelsFile = join(dir, 'labels.jsonl')
  const rows = readJsonlRows(labelsFile)
  const labels: LabelRow[] = []
  for (const { line, value } of rows) {
    const l = value as unknown as LabelRow
    const where = { file: labelsFile, line, label: l.labelHash }
    if (!l.content || typeof l.content !== 'object') fail('label has no content', { ...where, field: 'content' })
    const h = contentHash(l.content)
    if (h !== l.labelHash) fail(`labelHash ${l.labelHash} is not the hash of the label's content (${h})`, { ...where, field: 'labelHash' })
    if (l.content.campaign !== campaignId || l.campaign !== campaignId)
      fail(`label ${l.labelHash} belongs to campaign ${l.content.campaign}, not to this batch's campaign ${campaignId} (moved between batches?)`, { ...where, field: 'campaign' })
    if (typeof l.labeler !== 'string' || l.content.labeler?.toLowerCase() !== l.labeler.toLowerCase()) fail(`label ${l.labelHash}: labeler does not match the signed content`, { ...where, field: 'labeler' })
    if (typeof l.signature !== 'string' || !l.signature) fail(`label ${l.labelHash} has no signature`, { ...where, field: 'signature' })
    if (!l.content.guidelines || typeof l.content.guidelines.version !== 'number') fail(`label ${l.labelHash} names no guidelines version`, { ...where, field: 'content.guidelines' })
    const ok = verifyLabelSignature(chainId, l.labeler as Address, labelMessage(l.content, l.labelHash), l.signature)
    if (!ok) fail(`signature of label ${l.labelHash} does not recover its labeler ${l.labeler}`, { ...where, field: 'signature' })
    labels.push(l)
  }

  // 2. the root, from the labels themselves; batch.json must list exactly these labels
  const tree = buildMerkleTree(labels.map((l) => l.labelHash))
  if (tree.root !== String(batch.merkleRoot).toLowerCase())
    fail(`Merkle root ${batch.merkleRoot} of batch.json does not match the root ${tree.root} recomputed from labels.jsonl`, { file: batchFile, field: 'merkleRoot' })
  // shapes, ranges and every label's proof against the root (throws EBATCH naming the field)
  parseBatchManifest(batch, batchFile)
  if (batch.labelCount !== labels.length || batch.labels.length !== labels.length)
    fail(`batch.json lists ${batch.labels.length} labels (labelCount ${batch.labelCount}); labels.jsonl has ${labels.length}`, { file: batchFile, field: 'labelCount' })
  labels.forEach((l, i) => {
    const b = batch.labels[i]
    if (b?.labelHash !== l.labelHash || Boolean(b.accepted) !== Boolean(l.accepted))
      fail(`batch.json label ${i} (${b?.labelHash}) differs from labels.jsonl line ${i + 1} (${l.labelHash}, accepted ${l.accepted})`, { file: batchFile, field: `labels[${i}]` })
  })

  // 3. settled on chain for this campaign
  let settledOnChain = false
  if (check.settled) {
    if (batch.chainCampaignId === null || batch.chainCampaignId === undefined)
      fail('a chain deployment is configured but the batch names no on-chain campaign (chainCampaignId)', { file: batchFile, field: 'chainCampaignId' })
    settledOnChain = await check.settled(BigInt(batch.chainCampaignId), tree.root)
    if (!settledOnChain)
      fail(`Merkle root ${tree.root} was not settled by the escrow for on-chain campaign ${batch.chainCampaignId}`, { file: batchFile, field: 'merkleRoot' })
  }

  // 4. rows from accepted labels of labelers who did not fail gold beyond the fraud limit
  const limit = check.fraudGoldFailBps ?? 3000
  const labelers: BatchLabelerSummary[] = (batch.labelers as Array<Record<string, number | string>>).map((r) => {
    const goldFailures = Number(r.goldFailures ?? 0)
    const goldTotal = Number(r.goldTotal ?? 0)
    const address = getAddress(String(r.address))
    const mine = labels.filter((l) => l.labeler.toLowerCase() === address.toLowerCase())
    return { address, labels: mine.length, accepted: mine.filter((l) => l.accepted).length, used: 0, qualityBps: Number(r.qualityBps), goldFailures, goldTotal, fraud: goldTotal > 0 && goldFailures * 10_000 > goldTotal * limit }
  })
  const fraud = new Set(labelers.filter((l) => l.fraud).map((l) => l.address.toLowerCase()))
  const used = labels.filter((l) => l.accepted && !fraud.has(l.labeler.toLowerCase()))
  for (const s of labelers) s.used = used.filter((l) => l.labeler.toLowerCase() === s.address.toLowerCase()).length

  const comparisons = rankingRows(dir, campaignId, used, check.origin)
  const demonstrations = demonstrationRows(dir, campaignId, used, check.origin)
  return {
    dir,
    campaignId,
    chainCampaignId: batch.chainCampaignId == null ? null : String(batch.chainCampaignId),
    merkleRoot: tree.root,
    datasetCid: batch.datasetCid ?? null,
    origin: check.origin,
    labels: labels.length,
    signaturesVerified: labels.length,
    labelsUsed: used.length,
    settledOnChain,
    labelers,
    comparisons,
    demonstrations,
  }
}

/** One comparison per ranking task: the Copeland merge of the used rankings, over what the labelers saw. */
function rankingRows(dir: string, campaignId: string, used: LabelRow[], origin: LabelOrigin): Comparison[] {
  const byTask = new Map<number, LabelRow[]>()
  for (const l of used) if (l.kind === 'ranking') (byTask.get(l.content.taskId) ?? byTask.set(l.content.taskId, []).get(l.content.taskId)!).push(l)
  if (byTask.size === 0) return []
  // prompt and responses come from the export's comparisons.jsonl, bound to the signed taskHash
  const file = join(dir, 'comparisons.jsonl')
  const shown = new Map<number, { prompt: string; responses: string[]; line: number }>()
  for (const { line, value } of readJsonlRows(file)) {
    const m = /^(.*)\/(\d+)$/.exec(String(value.id))
    if (!m || m[1] !== campaignId) fail(`comparison id ${JSON.stringify(value.id)} is not of campaign ${campaignId}`, { file, line, field: 'id' })
    shown.set(Number(m![2]), { prompt: String(value.prompt), responses: value.responses as string[], line })
  }
  const out: Comparison[] = []
  for (const [taskId, ls] of [...byTask].sort((a, b) => a[0] - b[0])) {
    const s = shown.get(taskId)
    if (!s) fail(`no prompt and responses for ranking task ${taskId} (labels ${ls.map((l) => l.labelHash).join(', ')})`, { file, field: 'id' })
    const h = taskHash(campaignId, 'ranking', { prompt: s!.prompt, outputs: s!.responses })
    for (const l of ls) if (l.content.taskHash !== h) fail(`label ${l.labelHash} signed task hash ${l.content.taskHash}, but the prompt and responses of task ${taskId} hash to ${h}`, { file, line: s!.line, field: 'responses' })
    const merged = mergeRankings(ls.map((l) => l.content.ranking!), s!.responses.length)
    // the pipeline's format has no empty responses: an empty policy sample leaves the row (its rank with it)
    const keep = s!.responses.map((r, i) => (r.trim() ? i : -1)).filter((i) => i >= 0)
    const ranks = [...new Set(keep.map((i) => merged[i]))].sort((a, b) => a - b)
    const ranking = keep.map((i) => ranks.indexOf(merged[i]))
    if (keep.length < 2 || new Set(ranking).size < 2) continue
    out.push({ id: `${campaignId}/${taskId}`, prompt: s!.prompt, responses: keep.map((i) => s!.responses[i]), ranking, origin })
  }
  return out
}

/** Accepted demonstrations, each bound to the signed taskHash of its prompt. */
function demonstrationRows(dir: string, campaignId: string, used: LabelRow[], origin: LabelOrigin): Demonstration[] {
  const demos = used.filter((l) => l.kind === 'demonstration')
  if (demos.length === 0) return []
  const file = join(dir, 'demonstrations.jsonl')
  const prompts = new Map<string, string>()
  for (const { value } of readJsonlRows(file)) prompts.set(String(value.id), String(value.prompt))
  return demos.map((l) => {
    const prompt = prompts.get(l.labelHash)
    if (prompt === undefined) fail(`no prompt for demonstration ${l.labelHash}`, { file, label: l.labelHash })
    if (taskHash(campaignId, 'demonstration', { prompt: prompt! }) !== l.content.taskHash) fail(`demonstration ${l.labelHash}: the prompt does not hash to its signed task hash`, { file, label: l.labelHash, field: 'prompt' })
    return { id: l.labelHash, prompt: prompt!, response: l.content.response!, labeler: l.labeler, signature: l.signature, origin }
  })
}
