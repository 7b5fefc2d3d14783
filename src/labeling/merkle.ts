import { concat, keccak256, type Hex } from 'viem'

/**
 * OpenZeppelin-compatible Merkle tree over label hashes (see docs/labeling.md and the batch spec):
 *  - leaf = the labelHash itself (bytes32, not re-hashed);
 *  - internal node = keccak256 of its two children sorted ascending (OZ `Hashes.commutativeKeccak256`);
 *  - an odd node at the end of a level is promoted unchanged.
 * So `MerkleProof.verify(proof, root, labelHash)` in Solidity accepts every proof built here.
 */
export type MerkleTree = { root: Hex; proofs: Hex[][] }

export function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) <= BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

export function buildMerkleTree(leaves: readonly Hex[]): MerkleTree {
  if (leaves.length === 0) return { root: `0x${'0'.repeat(64)}`, proofs: [] }
  for (const l of leaves) if (!/^0x[0-9a-fA-F]{64}$/.test(l)) throw new TypeError(`leaf is not bytes32: ${l}`)
  const proofs: Hex[][] = leaves.map(() => [])
  // positions[i] = index of leaf i's ancestor in the current level
  let positions = leaves.map((_, i) => i)
  let level = leaves.map((l) => l.toLowerCase() as Hex)
  while (level.length > 1) {
    const next: Hex[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i], level[i + 1]) : level[i])
    for (let li = 0; li < positions.length; li++) {
      const p = positions[li]
      const sib = p ^ 1
      if (sib < level.length) proofs[li].push(level[sib])
      positions[li] = p >> 1
    }
    level = next
  }
  return { root: level[0], proofs }
}

/** Same fold as OZ `MerkleProof.processProof`. */
export function verifyMerkleProof(proof: readonly Hex[], root: Hex, leaf: Hex): boolean {
  let h = leaf.toLowerCase() as Hex
  for (const p of proof) h = hashPair(h, p.toLowerCase() as Hex)
  return h === root.toLowerCase()
}
