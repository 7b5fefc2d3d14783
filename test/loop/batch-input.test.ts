// Label batches as training input, against hostile exports. Two real campaigns are labeled by the
// simulated crowd through the labeling service's HTTP API and exported; campaign A is settled on a
// real anvil, campaign B is not. Each bad case is a tampered copy of a real export, and each must fail
// with an error that names what failed (the label, the root, the campaign), before any row is returned.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devAccount } from '../../src/chain/client.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { readBatchManifest } from '../../src/batch/index.ts'
import { verifyLabelBatch, type LabelBatchCheck } from '../../src/batch/label-input.ts'
import { settledRootChecker } from '../../src/batch/settled.ts'
import { signLabel } from '../../src/labeling/client.ts'
import { twoExports, type TwoExports } from './exports.ts'

let dir: string
let t: TwoExports
let d: Deployment
let crowd: TwoExports['crowd']
const exports = {} as Pick<TwoExports, 'A' | 'B'>

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'instruct3-batch-input-'))
  t = await twoExports(dir)
  d = t.d
  crowd = t.crowd
  exports.A = t.A
  exports.B = t.B
})

after(async () => {
  await t?.close()
  rmSync(dir, { recursive: true, force: true })
})

const check = (over: Partial<LabelBatchCheck> = {}): LabelBatchCheck => ({ origin: 'simulated-labeler', campaign: exports.A.campaign, settled: settledRootChecker(d), fraudGoldFailBps: 5000, ...over })

/** A copy of export A whose labels.jsonl lines (and/or batch.json) are rewritten by `edit`. */
function tampered(name: string, edit: { labels?: (rows: any[]) => any[]; batch?: (b: any) => any }): string {
  const to = join(dir, 'tampered', name)
  cpSync(exports.A.dir, to, { recursive: true })
  if (edit.labels) {
    const rows = readFileSync(join(to, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    writeFileSync(join(to, 'labels.jsonl'), edit.labels(rows).map((r) => JSON.stringify(r)).join('\n') + '\n')
  }
  if (edit.batch) writeFileSync(join(to, 'batch.json'), JSON.stringify(edit.batch(JSON.parse(readFileSync(join(to, 'batch.json'), 'utf8')))))
  return to
}

test('a settled export verifies: every signature, the root on chain; rows carry their origin; the cheater is left out', async () => {
  const v = await verifyLabelBatch(exports.A.dir, check())
  assert.equal(v.signaturesVerified, v.labels)
  assert.equal(v.settledOnChain, true)
  assert.ok(v.comparisons.length > 0)
  assert.ok(v.comparisons.every((c) => c.origin === 'simulated-labeler'))
  // the service draws gold at random: a cheater who drew gold failed all of it and is left out
  const cheater = v.labelers.find((l) => l.address === crowd.find((m) => m.kind === 'cheater')!.signer.address)!
  if (cheater.goldTotal > 0) assert.equal(cheater.fraud, true)
  for (const l of v.labelers) if (l.fraud) assert.equal(l.used, 0, `no label of ${l.address} (gold failed ${l.goldFailures}/${l.goldTotal}) trains anything`)
  for (const l of v.labelers) if (!l.fraud) assert.equal(l.used, l.accepted)
})

test('a forged signature names the label and its labeler', async () => {
  const other = devAccount(7)
  let victim = ''
  const to = tampered('forged', {
    labels: (rows) => rows.map((r, i) => {
      if (i !== 0) return r
      victim = r.labelHash
      return r
    }),
  })
  // re-sign label 0's content with another wallet: a valid signature, by the wrong key
  const rows = readFileSync(join(to, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  rows[0].signature = (await signLabel(other, 31337, rows[0].content)).signature
  writeFileSync(join(to, 'labels.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  await assert.rejects(verifyLabelBatch(to, check()), (e: Error) => e.message.includes(`signature of label ${victim} does not recover its labeler`) && e.message.includes('labels.jsonl:1'))
})

test('a missing signature names the label', async () => {
  let victim = ''
  const to = tampered('unsigned', { labels: (rows) => rows.map((r, i) => (i === 2 ? ((victim = r.labelHash), { ...r, signature: undefined }) : r)) })
  await assert.rejects(verifyLabelBatch(to, check()), (e: Error) => e.message.includes(`label ${victim} has no signature`) && e.message.includes('labels.jsonl:3'))
})

test('edited label content no longer matches its hash', async () => {
  const to = tampered('edited', { labels: (rows) => rows.map((r, i) => (i === 1 && r.content.ranking ? { ...r, content: { ...r.content, ranking: [...r.content.ranking].reverse() } } : r)) })
  await assert.rejects(verifyLabelBatch(to, check()), /labels\.jsonl:2: field "labelHash": labelHash 0x[0-9a-f]{64} is not the hash of the label's content/)
})

test('a label moved in from another batch names the label and both campaigns', async () => {
  const foreign = JSON.parse(readFileSync(join(exports.B.dir, 'labels.jsonl'), 'utf8').split('\n')[0])
  const to = tampered('moved', { labels: (rows) => [...rows, foreign] })
  await assert.rejects(verifyLabelBatch(to, check()), (e: Error) => e.message.includes(`label ${foreign.labelHash} belongs to campaign ${exports.B.campaign}, not to this batch's campaign ${exports.A.campaign}`))
})

test("a root that does not match the labels names both roots", async () => {
  const dropped = tampered('dropped', { labels: (rows) => rows.slice(1) })
  await assert.rejects(verifyLabelBatch(dropped, check()), /field "merkleRoot": Merkle root 0x[0-9a-f]{64} of batch\.json does not match the root 0x[0-9a-f]{64} recomputed from labels\.jsonl/)
  const other = tampered('root', { batch: (b) => ({ ...b, merkleRoot: readBatchManifest(join(exports.B.dir, 'batch.json')).merkleRoot }) })
  await assert.rejects(verifyLabelBatch(other, check()), /Merkle root 0x[0-9a-f]{64} of batch\.json does not match/)
})

test('a batch not settled on chain is refused when a deployment is given (and accepted without one)', async () => {
  const root = readBatchManifest(join(exports.B.dir, 'batch.json')).merkleRoot
  await assert.rejects(verifyLabelBatch(exports.B.dir, check({ campaign: exports.B.campaign })), (e: Error) => e.message.includes(`Merkle root ${root} was not settled by the escrow for on-chain campaign ${exports.B.chainId}`))
  const v = await verifyLabelBatch(exports.B.dir, check({ campaign: exports.B.campaign, settled: undefined }))
  assert.equal(v.settledOnChain, false)
})

test('an export of another campaign is refused by name', async () => {
  await assert.rejects(verifyLabelBatch(exports.B.dir, check()), (e: Error) => e.message.includes(`export of campaign ${exports.B.campaign}, expected campaign ${exports.A.campaign}`) && e.message.includes('field "campaignId"'))
})

test('responses swapped after signing no longer match the signed task hash', async () => {
  const to = tampered('swapped', {})
  const rows = readFileSync(join(to, 'comparisons.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  rows[0].responses = [...rows[0].responses].reverse()
  writeFileSync(join(to, 'comparisons.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  await assert.rejects(verifyLabelBatch(to, check()), /comparisons\.jsonl:1: field "responses": label 0x[0-9a-f]{64} signed task hash/)
})
