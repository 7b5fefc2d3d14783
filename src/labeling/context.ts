import type { Kysely } from 'kysely'
import type { Database, Dialect } from './db/schema.ts'
import type { ResponseSampler } from './sampler.ts'
import type { Verifier } from './verify-pool.ts'
import type { SpamThresholds } from './quality.ts'
import type { GroupCommitter } from './group-commit.ts'

export type Role = 'requester' | 'labeler' | 'reviewer'
export const ROLES: readonly Role[] = ['requester', 'labeler', 'reviewer']

/** Everything the service functions share; built once by createLabelingService. */
export type LabelingContext = {
  db: Kysely<Database>
  dialect: Dialect
  /** Milliseconds since the epoch; injectable so tests can expire leases and sessions. */
  now: () => number
  /** Uniform integer in [0, max) for gold placement (crypto's randomInt); injectable so a test can fix where gold lands. */
  randomInt?: (max: number) => number
  /** EIP-712 domain chain id for label signatures. */
  chainId: number
  sampler: ResponseSampler
  /** Optional per-campaign sampler from the campaign's policy reference (else `sampler` is used). */
  samplerFor?: (policy: string) => Promise<ResponseSampler>
  /** Addresses (lowercase) that get the requester / reviewer role at sign-in. */
  requesters: Set<string>
  reviewers: Set<string>
  /** Demo mode: every signed-in address gets every role. Never in production. */
  openRoles: boolean
  sessionTtlMs: number
  nonceTtlMs: number
  /** Sessions seen recently (token hash -> principal), re-read from the DB after a few seconds. */
  sessionCache?: Map<string, { p: Principal; expiresAt: number; until: number }>
  /** Most unexpired task leases one wallet may hold over all campaigns (default DEFAULT_MAX_LEASES in tasks.ts). */
  maxLeasesPerWallet?: number
  /** Shares one commit (one fsync) among label submissions that arrive together (group-commit.ts). */
  groupCommit?: GroupCommitter
  /** Label signature verification (inline or on worker threads, see verify-pool.ts). */
  verifier?: Verifier
  /** Activity heartbeat interval the web app is told to use, and the least gap between stored beats (timing.ts defaults when absent). */
  heartbeat?: { intervalMs: number; minGapMs: number }
  /** Spam thresholds the server was started with (quality.ts DEFAULT_SPAM when absent). */
  spam?: SpamThresholds
}

export type Principal = { address: `0x${string}`; roles: Role[] }

export function parseRoles(s: string): Role[] {
  return s.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r))
}
