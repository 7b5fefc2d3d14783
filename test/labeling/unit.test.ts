import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256, toHex, type Hex } from 'viem'
import { buildMerkleTree, verifyMerkleProof, hashPair, labelLeaf } from '../../src/batch/index.ts'
import { canonicalJson, contentHash } from '../../src/labeling/canonical.ts'
import { mergeRankings, pairAgreement, computeQuality, detectSpam, type QualityLabel, type QualityTask } from '../../src/labeling/quality.ts'
import { verifyLabelSignature, verifyLabelSignatureViem, labelTypedData } from '../../src/labeling/signature.ts'
import { checkRanking } from '../../src/labeling/content.ts'
import { wallet } from './helpers.ts'

test('canonical JSON sorts keys, drops undefined, no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 'x', c: null }], u: undefined }), '{"a":[1,{"c":null,"d":"x"}],"b":1}')
  assert.equal(contentHash({ a: 1, b: 2 }), contentHash({ b: 2, a: 1 }))
  assert.notEqual(contentHash({ a: 1 }), contentHash({ a: 2 }))
})

test('merkle: OZ sorted-pair tree, every proof verifies, tampering fails', () => {
  for (const n of [1, 2, 3, 5, 8, 13]) {
    const leaves = Array.from({ length: n }, (_, i) => keccak256(toHex(`leaf ${i}`)))
    const { root, proofs } = buildMerkleTree(leaves)
    leaves.forEach((l, i) => assert.ok(verifyMerkleProof(proofs[i], root, l), `n=${n} leaf ${i}`))
    assert.equal(verifyMerkleProof(proofs[0], root, keccak256(toHex('other'))), false)
    if (n === 1) assert.equal(root, labelLeaf(leaves[0]))
  }
  // hand-computed 3-leaf tree over leaves hashed twice: root = H(sorted(H(sorted(A,B)), C)), X = keccak(keccak(x))
  const [a, b, c] = ['x', 'y', 'z'].map((s) => keccak256(toHex(s))) as Hex[]
  const [A, B, C] = [a, b, c].map((h) => keccak256(keccak256(h)))
  assert.equal(buildMerkleTree([a, b, c]).root, hashPair(hashPair(A, B), C))
})

test('ranking validation: permutations with ties, dense', () => {
  assert.deepEqual(checkRanking([0, 1, 1, 2], 4), [0, 1, 1, 2])
  assert.deepEqual(checkRanking([0, 0, 0, 0], 4), [0, 0, 0, 0])
  assert.throws(() => checkRanking([0, 2, 2, 3], 4), /not a permutation with ties/)
  assert.throws(() => checkRanking([0, 1, 2], 4), /one rank per output/)
  assert.throws(() => checkRanking([0, 1, 2, 1.5], 4), /integer/)
})

test('Copeland merge: majority order, Condorcet winner first, cycles tie', () => {
  assert.deepEqual(mergeRankings([[0, 1, 2, 3], [0, 2, 1, 3], [1, 0, 2, 3]], 4), [0, 1, 2, 3])
  // a>b>c, b>c>a, c>a>b: a Condorcet cycle -> all tied
  assert.deepEqual(mergeRankings([[0, 1, 2], [2, 0, 1], [1, 2, 0]], 3), [0, 0, 0])
  assert.equal(pairAgreement([0, 1, 2, 3], [0, 1, 2, 3]), 1)
  assert.equal(pairAgreement([3, 2, 1, 0], [0, 1, 2, 3]), 0)
  assert.equal(pairAgreement([0, 0, 0, 0], [0, 1, 2, 3]), 0.5)
})

test('quality: agreement, gold, spam and reputation formula', () => {
  const tasks = new Map<number, QualityTask>([
    [1, { id: 1, kind: 'ranking', prompt: 'p1', gold: null, k: 4 }],
    [2, { id: 2, kind: 'ranking', prompt: 'p2', gold: { ranking: [0, 1, 2, 3] }, k: 4 }],
  ])
  let id = 0
  const L = (labeler: string, taskId: number, ranking: number[], ms = 60_000): QualityLabel => ({
    id: ++id,
    labelHash: keccak256(toHex(id)),
    taskId,
    labeler,
    kind: 'ranking',
    content: { v: 2, campaign: 'c', taskId, taskHash: '0x', kind: 'ranking', labeler: labeler as Hex, guidelines: { version: 1, hash: '0x' }, ranking },
    // one label at a time, 100 s apart: each is measured from its own serve time
    assignedAt: id * 100_000,
    createdAt: id * 100_000 + ms,
  })
  const labels = [L('a', 1, [0, 1, 2, 3]), L('b', 1, [0, 1, 2, 3]), L('c', 1, [3, 2, 1, 0], 10), L('a', 2, [0, 1, 2, 3]), L('c', 2, [3, 2, 1, 0])]
  const q = computeQuality(labels, tasks)
  const by = Object.fromEntries(q.labelers.map((x) => [x.address, x]))
  // a: gold agreement 1 (n=1) -> G = (1+1)/3; consensus of others (b, c) = b's order tied with c's reverse -> all tied
  assert.equal(by.a.goldAccuracy, 1)
  assert.equal(by.c.goldAccuracy, 0)
  assert.equal(by.c.goldFailures, 1)
  assert.deepEqual(q.spam.get(3), ['too_fast'])
  const G = (1 + 1) / 3
  const A = (by.a.agreement! * by.a.agreementN + 1) / (by.a.agreementN + 2)
  assert.equal(by.a.qualityBps, Math.round(10000 * (0.5 * G + 0.3 * A + 0.2 * 0.5)))
  assert.ok(by.a.qualityBps > by.c.qualityBps)
  assert.equal(q.accepted.has(4), false, 'gold labels are not dataset labels')
  // constant rankings
  const many = [1, 2, 3, 4, 5].map((i) => {
    tasks.set(10 + i, { id: 10 + i, kind: 'ranking', prompt: 'q' + i, gold: null, k: 4 })
    return L('lazy', 10 + i, [0, 1, 2, 3])
  })
  const s = detectSpam(many, tasks)
  assert.deepEqual([...s.keys()], [many[3].id, many[4].id])
})

test('fast signature check agrees with viem verifyTypedData (valid, wrong signer, high-s, wrong v)', async () => {
  const w = wallet('sig')
  const other = wallet('other')
  const m = { contentHash: keccak256(toHex('label')), campaign: 'c_1', taskId: 7n, guidelinesVersion: 3n }
  const sig = await w.signTypedData(labelTypedData(31337, m))
  assert.equal(verifyLabelSignature(31337, w.address, m, sig), true)
  assert.equal(await verifyLabelSignatureViem(31337, w.address, m, sig), true)
  assert.equal(verifyLabelSignature(31337, other.address, m, sig), false)
  assert.equal(verifyLabelSignature(1, w.address, m, sig), false, 'other chain id')
  assert.equal(verifyLabelSignature(31337, w.address, { ...m, taskId: 8n }, sig), false)
  assert.equal(verifyLabelSignature(31337, w.address, { ...m, guidelinesVersion: 2n }, sig), false, 'other guidelines version')
  assert.equal(await verifyLabelSignatureViem(31337, w.address, { ...m, guidelinesVersion: 2n }, sig), false)
  // flip v: recovers another key
  const v = parseInt(sig.slice(130), 16)
  const flipped = (sig.slice(0, 130) + (v === 27 ? '1c' : '1b')) as Hex
  assert.equal(verifyLabelSignature(31337, w.address, m, flipped), false)
  assert.equal(await verifyLabelSignatureViem(31337, w.address, m, flipped), false)
  // high-s twin (n - s, flipped v): valid ECDSA, refused (EIP-2)
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  const s = BigInt('0x' + sig.slice(66, 130))
  const high = (sig.slice(0, 66) + (n - s).toString(16).padStart(64, '0') + (v === 27 ? '1c' : '1b')) as Hex
  assert.equal(verifyLabelSignature(31337, w.address, m, high), false)
})

test('hand-encoded EIP-712 digest equals viem hashTypedData', async () => {
  const { labelDigest, labelDigestViem } = await import('../../src/labeling/signature.ts')
  const { bytesToHex } = await import('viem')
  for (const [chainId, campaign, taskId, guidelinesVersion] of [[1, 'c_abc', 1n, 1n], [31337, 'ünïcode campaign', 2n ** 200n, 7n], [8453, '', 0n, 2n ** 255n]] as const) {
    const m = { contentHash: keccak256(toHex(campaign)), campaign, taskId, guidelinesVersion }
    assert.equal(bytesToHex(labelDigest(chainId, m)), labelDigestViem(chainId, m))
  }
})
