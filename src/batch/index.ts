/**
 * Label batches: the ONE schema of batch.json and the ONE Merkle tree over its labels, shared by
 * the labeling export (writes batches), chain settlement (pays them) and the feedback loop (reads
 * them). Imports neither labeling nor chain.
 *
 * API:
 *  - BatchManifest, BatchLabel, BatchLabeler, BATCH_VERSION: the batch.json schema (manifest.ts).
 *    Labelers' `accepted` counts are cumulative over the campaign; settlement pays the increase.
 *  - readBatchManifest(file) / parseBatchManifest(raw, file?): check a batch.json and return it
 *    typed; throws EBATCH naming the file and field (e.g. `labels[3].proof`).
 *  - buildMerkleTree(labelHashes) -> { root, proofs }, verifyMerkleProof(proof, root, labelHash),
 *    labelLeaf(labelHash), hashPair(a, b): the tree LabelingEscrow.isLabelInBatch checks, leaves
 *    hashed twice so an inner node never verifies as a label (merkle.ts).
 */
export { BATCH_VERSION, readBatchManifest, parseBatchManifest, type BatchManifest, type BatchLabel, type BatchLabeler, type BatchEip712 } from './manifest.ts'
export { buildMerkleTree, verifyMerkleProof, labelLeaf, hashPair, type MerkleTree } from './merkle.ts'
