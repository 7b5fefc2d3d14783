import { concat, keccak256, type Hex } from 'viem'

/**
 * The Merkle tree over a batch's label hashes, as LabelingEscrow.isLabelInBatch checks it:
 *  - leaf = keccak256(keccak256(labelHash)), the label hash hashed twice (the leaf encoding of
 *    OpenZeppelin's StandardMerkleTree). A leaf is then never the hash of two 32-byte nodes, so an
 *    inner node of the tree cannot be passed off as a label with a shorter proof;
 *  - inner node = keccak256 of its two children sorted ascending (OZ `Hashes.commutativeKeccak256`);
 *  - an odd node at the end of a level is promoted unchanged.
 * `MerkleProof.verify(proof, root, leaf)` in Solidity accepts every proof built here.
 */
export type MerkleTree = { root: Hex; proofs: Hex[][] }

const BYTES32 = /^0x[0-9a-fA-F]{64}$/

/** The leaf that stands for `labelHash` in the tree (LabelingEscrow.labelLeaf). */
export function labelLeaf(labelHash: Hex): Hex {
  return keccak256(keccak256(labelHash.toLowerCase() as Hex))
}

/** Parent of two nodes: the hash of the pair sorted ascending. */
export function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) <= BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

/** Root and per-label proofs for `labelHashes` (in the given order). An empty batch has root 0x00..00. */
export function buildMerkleTree(labelHashes: readonly Hex[]): MerkleTree {
  if (labelHashes.length === 0) return { root: `0x${'0'.repeat(64)}`, proofs: [] }
  for (const l of labelHashes) if (!BYTES32.test(l)) throw new TypeError(`label hash is not bytes32: ${l}`)
  const proofs: Hex[][] = labelHashes.map(() => [])
  // positions[i] = index of label i's ancestor in the current level
  const positions = labelHashes.map((_, i) => i)
  let level = labelHashes.map(labelLeaf)
  while (level.length > 1) {
    const next: Hex[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i], level[i + 1]) : level[i])
    for (let li = 0; li < positions.length; li++) {
      const sib = positions[li] ^ 1
      if (sib < level.length) proofs[li].push(level[sib])
      positions[li] >>= 1
    }
    level = next
  }
  return { root: level[0], proofs }
}

/** Whether `proof` shows `labelHash` is in the tree with `root` (the fold of OZ `MerkleProof.processProof`). */
export function verifyMerkleProof(proof: readonly Hex[], root: Hex, labelHash: Hex): boolean {
  let h = labelLeaf(labelHash)
  for (const p of proof) h = hashPair(h, p.toLowerCase() as Hex)
  return h === root.toLowerCase()
}
