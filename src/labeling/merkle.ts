// The Merkle tree over label hashes lives in src/batch/merkle.ts (shared with chain settlement);
// re-exported here so labeling code keeps one import path.
export { buildMerkleTree, verifyMerkleProof, hashPair, labelLeaf, type MerkleTree } from '../batch/merkle.ts'
