// src/batch: the one batch.json schema and the one Merkle tree shared by labeling and chain.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, toHex, type Hex } from 'viem'
import { buildMerkleTree, hashPair, labelLeaf, parseBatchManifest, readBatchManifest, verifyMerkleProof } from '../../src/batch/index.ts'

const h = (s: string): Hex => keccak256(toHex(s))
const L1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const L2 = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'

test('merkle: every label proof verifies; an inner node never verifies as a label', () => {
  for (const n of [1, 2, 3, 4, 7, 16]) {
    const labels = Array.from({ length: n }, (_, i) => h(`label ${i}`))
    const { root, proofs } = buildMerkleTree(labels)
    labels.forEach((l, i) => assert.ok(verifyMerkleProof(proofs[i], root, l), `n=${n} label ${i}`))
    assert.equal(verifyMerkleProof(proofs[0], root, h('other')), false)
  }
  // 4 labels: root = H(H(A,B), H(C,D)). The inner node H(A,B) with proof [H(C,D)] would verify
  // if leaves were the label hashes themselves; with leaves hashed twice it does not.
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(h)
  const { root } = buildMerkleTree([a, b, c, d])
  const ab = hashPair(labelLeaf(a), labelLeaf(b))
  const cd = hashPair(labelLeaf(c), labelLeaf(d))
  assert.equal(root, hashPair(ab, cd))
  assert.equal(verifyMerkleProof([cd], root, ab), false)
  assert.equal(labelLeaf(a), keccak256(keccak256(a)))
})

function manifest(over: Record<string, unknown> = {}) {
  const labels = [h('x'), h('y'), h('z')]
  const tree = buildMerkleTree(labels)
  return {
    version: 2,
    campaignId: 'c1',
    chainCampaignId: '7',
    createdAt: '2026-12-05T00:00:00.000Z',
    merkleRoot: tree.root,
    labelCount: 3,
    labels: labels.map((labelHash, i) => ({ labelHash, labeler: i < 2 ? L1 : L2, kind: 'ranking', proof: tree.proofs[i], accepted: true })),
    labelers: [
      { address: L1, accepted: 2, qualityBps: 9000, goldFailures: 0, goldTotal: 1 },
      { address: L2, accepted: 1, qualityBps: 7000, goldFailures: 0, goldTotal: 0 },
    ],
    datasetCid: null,
    eip712: null,
    ...over,
  }
}

test('manifest: a valid batch.json parses; bad fields are named with the file', () => {
  const ok = parseBatchManifest(manifest())
  assert.equal(ok.labelCount, 3)
  assert.equal(ok.labelers[0].address, L1)
  const bad = (over: Record<string, unknown>, field: RegExp) =>
    assert.throws(() => parseBatchManifest(manifest(over), 'exports/c1/batch.json'), (e: Error & { code?: string }) => e.code === 'EBATCH' && /exports\/c1\/batch\.json/.test(e.message) && field.test(e.message), JSON.stringify(over).slice(0, 80))
  bad({ version: 1 }, /version .*export the campaign again/)
  bad({ merkleRoot: '0x12' }, /merkleRoot/)
  bad({ labelCount: 4 }, /labelCount/)
  bad({ chainCampaignId: 'seven' }, /chainCampaignId/)
  const m = manifest()
  bad({ labelers: [{ ...m.labelers[0], qualityBps: 12_000 }] }, /labelers\[0\]\.qualityBps/)
  bad({ labelers: [m.labelers[0], { ...m.labelers[0] }] }, /labelers\[1\]\.address .*duplicate/)
  bad({ labelers: [{ ...m.labelers[0], accepted: 4 }] }, /labelers\[0\]\.accepted/)
  bad({ labelers: [{ ...m.labelers[0], goldFailures: 2 }] }, /labelers\[0\]\.goldFailures/)
  bad({ labels: [m.labels[0], m.labels[1], { ...m.labels[2], proof: m.labels[0].proof }] }, /labels\[2\]\.proof does not verify/)
  // an old single-hash tree (version 2 label, but proofs of leaves = label hashes) is refused
  const hashes = m.labels.map((l) => l.labelHash)
  const old = [hashPair(hashPair(hashes[0], hashes[1]), hashes[2])]
  bad({ merkleRoot: old[0] }, /labels\[0\]\.proof does not verify/)
})

test('manifest: readBatchManifest names the file when it is not JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'instruct3-batch-'))
  try {
    const f = join(dir, 'batch.json')
    writeFileSync(f, '{"version": 2,')
    assert.throws(() => readBatchManifest(f), (e: Error & { code?: string; details?: { file?: string } }) => e.code === 'EBATCH' && e.details?.file === f)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
