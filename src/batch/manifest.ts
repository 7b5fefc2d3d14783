import { readFileSync } from 'node:fs'
import { getAddress, isAddress, type Address, type Hex } from 'viem'
import { Instruct3Error } from '../util/errors.ts'
import { verifyMerkleProof } from './merkle.ts'

/** Version of batch.json written by this code. Version 1 hashed leaves once; it is refused. */
export const BATCH_VERSION = 2

/** One signed label of the batch and its Merkle proof against `merkleRoot`. */
export type BatchLabel = { labelHash: Hex; labeler: Address; kind: string; proof: Hex[]; accepted: boolean }

/**
 * One labeler's standing in the campaign at export time. `accepted` is CUMULATIVE (every accepted
 * label of the campaign so far, not only new ones): the escrow pays only the increase over what it
 * already settled, so exports can be settled in any order and more than once.
 */
export type BatchLabeler = { address: Address; accepted: number; qualityBps: number; goldFailures: number; goldTotal: number }

/** EIP-712 domain and types the labels were signed with, so anyone can re-check every signature. */
export type BatchEip712 = { domain: Record<string, unknown>; types: Record<string, unknown>; primaryType: string }

/** batch.json: the contract between the labeling export and on-chain settlement (docs/labeling.md). */
export type BatchManifest = {
  version: typeof BATCH_VERSION
  campaignId: string
  /** The LabelingEscrow campaign id (decimal string), or null when the campaign is off-chain. */
  chainCampaignId: string | null
  createdAt: string
  merkleRoot: Hex
  labelCount: number
  labels: BatchLabel[]
  labelers: BatchLabeler[]
  datasetCid: string | null
  eip712: BatchEip712 | null
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const U32 = 0xffffffff

/** Read and check a batch.json file; errors name the file and the field. */
export function readBatchManifest(file: string): BatchManifest {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new Instruct3Error(`cannot read batch manifest (${(cause as Error).message})`, { code: 'EBATCH', details: { file }, cause })
  }
  return parseBatchManifest(raw, file)
}

/**
 * Check a parsed batch.json: shapes, ranges, no duplicate labeler, accepted counts within the labels,
 * and that every label's proof opens `merkleRoot` (otherwise the on-chain commitment would not let
 * anyone check a label against the settled batch). Throws EBATCH naming `file` and the field.
 */
export function parseBatchManifest(raw: unknown, file = 'batch.json'): BatchManifest {
  const fail = (field: string, msg: string): never => {
    throw new Instruct3Error(`${file}: ${field ? `${field} ` : ''}${msg}`, { code: 'EBATCH', details: { file, field } })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('', 'must be a JSON object')
  const b = raw as Record<string, unknown>
  if (b.version !== BATCH_VERSION) {
    fail('version', `is ${JSON.stringify(b.version)}; expected ${BATCH_VERSION} (version 1 hashed Merkle leaves once: export the campaign again)`)
  }
  if (typeof b.campaignId !== 'string' || b.campaignId === '') fail('campaignId', 'must be a non-empty string')
  if (b.chainCampaignId != null && !/^\d+$/.test(String(b.chainCampaignId))) fail('chainCampaignId', 'must be a decimal string or null')
  if (typeof b.merkleRoot !== 'string' || !BYTES32.test(b.merkleRoot)) fail('merkleRoot', 'must be 0x + 32 bytes hex')
  if (!Number.isInteger(b.labelCount) || (b.labelCount as number) < 0 || (b.labelCount as number) > U32) fail('labelCount', 'must be an integer in 0..2^32-1')
  if (!Array.isArray(b.labels)) fail('labels', 'must be an array')
  if (!Array.isArray(b.labelers)) fail('labelers', 'must be an array')
  if (b.datasetCid != null && typeof b.datasetCid !== 'string') fail('datasetCid', 'must be a string or null')
  if (b.createdAt != null && typeof b.createdAt !== 'string') fail('createdAt', 'must be an ISO date string')
  if (b.eip712 != null && typeof b.eip712 !== 'object') fail('eip712', 'must be an object or null')

  const labels = (b.labels as unknown[]).map((v, i): BatchLabel => {
    const at = `labels[${i}]`
    const l = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
    if (typeof l.labelHash !== 'string' || !BYTES32.test(l.labelHash)) fail(`${at}.labelHash`, 'must be 0x + 32 bytes hex')
    if (!isAddress(String(l.labeler), { strict: false })) fail(`${at}.labeler`, 'must be an address')
    if (!Array.isArray(l.proof) || !(l.proof as unknown[]).every((p) => typeof p === 'string' && BYTES32.test(p))) fail(`${at}.proof`, 'must be an array of bytes32')
    if (l.accepted !== undefined && typeof l.accepted !== 'boolean') fail(`${at}.accepted`, 'must be a boolean')
    return { labelHash: (l.labelHash as string).toLowerCase() as Hex, labeler: getAddress(String(l.labeler)), kind: String(l.kind ?? ''), proof: l.proof as Hex[], accepted: l.accepted !== false }
  })
  if (labels.length !== b.labelCount) fail('labelCount', `is ${b.labelCount} but labels has ${labels.length} entries`)

  const seen = new Set<string>()
  const labelers = (b.labelers as unknown[]).map((v, i): BatchLabeler => {
    const at = `labelers[${i}]`
    const l = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
    if (!isAddress(String(l.address), { strict: false })) fail(`${at}.address`, 'must be an address')
    const address = getAddress(String(l.address))
    if (seen.has(address)) fail(`${at}.address`, `duplicate labeler ${address}`)
    seen.add(address)
    const int = (k: string, max: number): number => {
      const x = l[k] ?? 0
      if (!Number.isInteger(x) || (x as number) < 0 || (x as number) > max) fail(`${at}.${k}`, `must be an integer in 0..${max}`)
      return x as number
    }
    const r = { address, accepted: int('accepted', U32), qualityBps: int('qualityBps', 10_000), goldFailures: int('goldFailures', U32), goldTotal: int('goldTotal', U32) }
    if (l.qualityBps === undefined) fail(`${at}.qualityBps`, 'is missing')
    if (r.goldFailures > r.goldTotal) fail(`${at}.goldFailures`, `${r.goldFailures} exceeds goldTotal ${r.goldTotal}`)
    if (r.accepted > labels.length) fail(`${at}.accepted`, `${r.accepted} is more than the ${labels.length} labels of the batch`)
    return r
  })
  const acceptedSum = labelers.reduce((s, l) => s + l.accepted, 0)
  if (acceptedSum > labels.length) fail('labelers', `accepted counts sum to ${acceptedSum}, more than the ${labels.length} labels`)

  const root = (b.merkleRoot as string).toLowerCase() as Hex
  labels.forEach((l, i) => {
    if (!verifyMerkleProof(l.proof, root, l.labelHash)) fail(`labels[${i}].proof`, 'does not verify against merkleRoot')
  })
  return {
    version: BATCH_VERSION,
    campaignId: b.campaignId as string,
    chainCampaignId: b.chainCampaignId == null ? null : String(b.chainCampaignId),
    createdAt: (b.createdAt as string | undefined) ?? '',
    merkleRoot: root,
    labelCount: labels.length,
    labels,
    labelers,
    datasetCid: (b.datasetCid as string | null | undefined) ?? null,
    eip712: (b.eip712 as BatchEip712 | null | undefined) ?? null,
  }
}
