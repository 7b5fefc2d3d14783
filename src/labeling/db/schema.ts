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
  // 0003_labeling_ux
  category: string // smart_contract_security | governance | defi | transactions | general
  currency: string // unit of reward and target rate, e.g. USDC
  reward_micros: number // pay per accepted label, in millionths of `currency`
  target_hourly_micros: number | null // declared target effective pay per hour
  skips_per_hour: number // skips + reports a labeler may make per rolling hour in this campaign
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
  status: string // leased | submitted | skipped | reported
  assigned_at: number
  lease_expires_at: number
  submitted_at: number | null
  released_at: number | null // when a skip or report gave the task back
  gold_makeup: number // 1 = a gold task served to make up for a skipped or reported gold task (tasks.ts)
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

/** Campaign guidelines (markdown), versioned from 1; labels sign the version they were made under. */
export interface GuidelinesTable {
  campaign_id: string
  version: number
  markdown: string
  hash: string // keccak256 of the markdown's UTF-8 bytes
  created_by: string
  created_at: number
}
export interface ReportsTable {
  id: Generated<number>
  campaign_id: string
  task_id: number
  labeler: string
  reason: string // broken_prompt | harmful_content | outputs_identical | other
  note: string | null
  created_at: number
}
/** Client activity heartbeats while a task is open (time on task, see timing.ts). */
export interface ActivityTable {
  assignment_id: number
  at: number
}
export interface QualificationsTable {
  address: string
  category: string
  level: number // 1 = passed the category's quiz
  score: number // correct answers in the passing attempt
  created_at: number
}
export interface QuizAttemptsTable {
  id: string
  address: string
  category: string
  started_at: number
  finished_at: number | null
  score: number | null
  passed: number | null // 1 | 0
}
export interface ProfilesTable {
  address: string
  display_name: string | null
  show_on_leaderboard: number // 1 = opted in to show display_name on leaderboards
  updated_at: number
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
  guidelines: GuidelinesTable
  reports: ReportsTable
  activity: ActivityTable
  qualifications: QualificationsTable
  quiz_attempts: QuizAttemptsTable
  profiles: ProfilesTable
  labeler_quality: LabelerQualityTable
}

export type Dialect = 'sqlite' | 'postgres'
export type LabelingDb = { db: Kysely<Database>; dialect: Dialect; close(): Promise<void> }
