import type { Hex, TypedDataDomain } from 'viem'

/**
 * EIP-712 typed data every label is signed with (browser-safe: the web app imports this). The
 * labeler signs the label's content hash (keccak256 of its canonical JSON), the campaign id and
 * the task id:
 *
 *   domain  { name: "instruct3 labeling", version: "1", chainId }
 *   Label   { bytes32 contentHash; string campaign; uint256 taskId }
 */
export const LABEL_TYPES = {
  Label: [
    { name: 'contentHash', type: 'bytes32' },
    { name: 'campaign', type: 'string' },
    { name: 'taskId', type: 'uint256' },
    { name: 'guidelinesVersion', type: 'uint256' },
  ],
} as const

export const LABEL_DOMAIN_NAME = 'instruct3 labeling'

export function labelDomain(chainId: number): TypedDataDomain {
  return { name: LABEL_DOMAIN_NAME, version: '2', chainId }
}

export type LabelMessage = { contentHash: Hex; campaign: string; taskId: bigint; guidelinesVersion: bigint }

/** The typed message for a label's content (its hash, campaign, task id and guidelines version). */
export function labelMessage(content: { campaign: string; taskId: number; guidelines: { version: number } }, contentHash: Hex): LabelMessage {
  return { contentHash, campaign: content.campaign, taskId: BigInt(content.taskId), guidelinesVersion: BigInt(content.guidelines.version) }
}

/** The full typed-data object, as a wallet's eth_signTypedData_v4 or viem's signTypedData wants it. */
export function labelTypedData(chainId: number, m: LabelMessage) {
  return { domain: labelDomain(chainId), types: LABEL_TYPES, primaryType: 'Label' as const, message: m }
}

