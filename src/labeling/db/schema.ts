import type { Generated, Kysely } from 'kysely'

/**
 * Tables of the labeling service. Times are integer milliseconds since the epoch (bigint in
 * Postgres, parsed back to number by the pg pool config in connect.ts). JSON is stored as text so
 * the same queries run on SQLite and Postgres.
 */
export interface UsersTable {
  address: string // lowercase 0x-hex
  roles: string // comma-separated: requester,labeler,reviewer
  created_at: number
}
export interface NoncesTable {
  nonce: string
  expires_at: number
  used_at: number | null
}
export interface SessionsTable {
  token_hash: string // sha256 of the cookie value; the cookie itself is never stored
  address: string
  expires_at: number
  created_at: number
}
export interface CampaignsTable {
  id: string
  name: string
  status: string // open | closed
  policy: string // checkpoint path or CID, as given
  prompts_source: string
  k: number
  overlap: number
  demo_overlap: number
  lease_ms: number
  gold_every: number
  kinds: string // comma-separated task kinds
  created_by: string
  created_at: number
  chain_campaign_id: string | null
}
export interface TasksTable {
  id: Generated<number>
  campaign_id: string
  kind: string
  prompt: string
  payload: string // canonical JSON of what the labeler is shown (outputs, reviewed label)
  task_hash: string
  overlap: number
  gold: string | null // JSON answer for gold tasks (never sent to clients)
  target_label_id: number | null
  target_labeler: string | null
  created_at: number
}
export interface AssignmentsTable {
  id: Generated<number>
  task_id: number
  campaign_id: string
  labeler: string
  status: string // leased | submitted
  assigned_at: number
  lease_expires_at: number
  submitted_at: number | null
  first_served_at: number | null // when this task's content was first sent to this labeler (see markServed)
}
export interface LabelsTable {
  id: Generated<number>
  campaign_id: string
  task_id: number
  assignment_id: number
  labeler: string
  kind: string
  content: string // canonical JSON, exactly the bytes that were hashed
  label_hash: string
  signature: string
  idempotency_key: string
  assigned_at: number
  created_at: number
}

/** Per-labeler quality as of the campaign's latest export (JSON of LabelerQuality): what labelers see. */
export interface LabelerQualityTable {
  campaign_id: string
  labeler: string
  quality: string
  exported_at: number
}

export interface Database {
  users: UsersTable
  nonces: NoncesTable
  sessions: SessionsTable
  campaigns: CampaignsTable
  tasks: TasksTable
  assignments: AssignmentsTable
  labels: LabelsTable
  labeler_quality: LabelerQualityTable
}

export type Dialect = 'sqlite' | 'postgres'
export type LabelingDb = { db: Kysely<Database>; dialect: Dialect; close(): Promise<void> }
