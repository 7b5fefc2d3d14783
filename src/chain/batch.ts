import { readFileSync } from 'node:fs'
import { getAddress, isAddress, type Address, type Hex } from 'viem'
import { Instruct3Error } from '../util/errors.ts'
import { verifyMerkleProof } from '../labeling/merkle.ts'

/**
 * The parts of the labeling export's batch.json (see /docs/labeling.md, "batch manifest") that
 * settlement needs. Extra fields are allowed and ignored.
 */
export type BatchLabeler = { address: Address; accepted: number; qualityBps: number; goldFailures: number; goldTotal: number }
export type BatchLabel = { labelHash: Hex; labeler: Address; kind: string; proof: Hex[] }
export type SettlementBatch = {
  version: 1
  campaignId: string
  chainCampaignId: string | null
  merkleRoot: Hex
  labelCount: number
  labels: BatchLabel[]
  labelers: BatchLabeler[]
  datasetCid: string | null
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/

/** Read and check a batch.json: shapes, score ranges, and that every label proof verifies against the root. */
export function readBatchFile(file: string): SettlementBatch {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new Instruct3Error(`cannot read batch manifest (${(cause as Error).message})`, { code: 'EBATCH', details: { file }, cause })
  }
  return parseBatch(raw, file)
}

export function parseBatch(raw: unknown, file = 'batch.json'): SettlementBatch {
  const fail = (field: string, msg: string): never => {
    throw new Instruct3Error(msg, { code: 'EBATCH', details: { file, field } })
  }
  if (typeof raw !== 'object' || raw === null) fail('', 'batch manifest must be a JSON object')
  const b = raw as Record<string, unknown>
  if (b.version !== 1) fail('version', `unsupported version ${JSON.stringify(b.version)} (expected 1)`)
  if (typeof b.campaignId !== 'string') fail('campaignId', 'must be a string')
  if (b.chainCampaignId !== null && b.chainCampaignId !== undefined && !/^\d+$/.test(String(b.chainCampaignId))) {
    fail('chainCampaignId', 'must be a decimal string or null')
  }
  if (typeof b.merkleRoot !== 'string' || !BYTES32.test(b.merkleRoot)) fail('merkleRoot', 'must be 0x + 32 bytes hex')
  if (!Number.isInteger(b.labelCount) || (b.labelCount as number) < 0) fail('labelCount', 'must be a non-negative integer')
  if (!Array.isArray(b.labels)) fail('labels', 'must be an array')
  if (!Array.isArray(b.labelers) || (b.labelers as unknown[]).length === 0) fail('labelers', 'must be a non-empty array')
  if (b.datasetCid !== null && b.datasetCid !== undefined && typeof b.datasetCid !== 'string') fail('datasetCid', 'must be a string or null')

  const labels = (b.labels as Record<string, unknown>[]).map((l, i) => {
    const at = `labels[${i}]`
    if (typeof l?.labelHash !== 'string' || !BYTES32.test(l.labelHash)) fail(`${at}.labelHash`, 'must be 0x + 32 bytes hex')
    if (!isAddress(String(l.labeler))) fail(`${at}.labeler`, 'must be an address')
    if (!Array.isArray(l.proof) || !(l.proof as unknown[]).every((p) => typeof p === 'string' && BYTES32.test(p))) fail(`${at}.proof`, 'must be an array of bytes32')
    return { labelHash: l.labelHash as Hex, labeler: getAddress(String(l.labeler)), kind: String(l.kind ?? ''), proof: l.proof as Hex[] }
  })
  if (labels.length !== b.labelCount) fail('labelCount', `is ${b.labelCount} but labels has ${labels.length} entries`)

  const seen = new Set<string>()
  const labelers = (b.labelers as Record<string, unknown>[]).map((l, i) => {
    const at = `labelers[${i}]`
    if (!isAddress(String(l?.address))) fail(`${at}.address`, 'must be an address')
    const address = getAddress(String(l.address))
    if (seen.has(address)) fail(`${at}.address`, `duplicate labeler ${address}`)
    seen.add(address)
    for (const k of ['accepted', 'goldFailures', 'goldTotal'] as const) {
      if (!Number.isInteger(l[k] ?? 0) || (Number(l[k] ?? 0)) < 0 || Number(l[k] ?? 0) > 0xffffffff) fail(`${at}.${k}`, 'must be an integer in 0..2^32-1')
    }
    if (!Number.isInteger(l.qualityBps) || (l.qualityBps as number) < 0 || (l.qualityBps as number) > 10_000) fail(`${at}.qualityBps`, 'must be an integer in 0..10000')
    if (Number(l.goldFailures ?? 0) > Number(l.goldTotal ?? 0)) fail(`${at}.goldFailures`, 'exceeds goldTotal')
    return { address, accepted: l.accepted as number, qualityBps: l.qualityBps as number, goldFailures: Number(l.goldFailures ?? 0), goldTotal: Number(l.goldTotal ?? 0) }
  })
  const acceptedSum = labelers.reduce((s, l) => s + l.accepted, 0)
  if (acceptedSum > labels.length) fail('labelers', `accepted counts sum to ${acceptedSum}, more than the ${labels.length} labels`)

  // Every label's proof must open the root: otherwise the on-chain commitment would not let
  // anyone check a label against the settled batch (LabelingEscrow.isLabelInBatch).
  const root = b.merkleRoot as Hex
  labels.forEach((l, i) => {
    if (!verifyMerkleProof(l.proof, root, l.labelHash)) fail(`labels[${i}].proof`, 'does not verify against merkleRoot')
  })
  return {
    version: 1,
    campaignId: b.campaignId as string,
    chainCampaignId: b.chainCampaignId == null ? null : String(b.chainCampaignId),
    merkleRoot: root,
    labelCount: labels.length,
    labels,
    labelers,
    datasetCid: (b.datasetCid as string | null | undefined) ?? null,
  }
}
