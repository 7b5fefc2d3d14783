import type { Hex } from 'viem'
import type { Transaction } from 'kysely'
import type { Database } from './db/schema.ts'
import { canonicalJson, contentHash } from './canonical.ts'
import { validateLabelContent, type LabelContent, type TaskKind } from './content.ts'
import { ApiError } from './errors.ts'
import { verifyLabelSignature } from './signature.ts'
import { VerifierCrashed } from './verify-pool.ts'
import { taskHash } from './campaigns.ts'
import { acceptedGuidelines } from './guidelines.ts'
import { labelMessage } from './typed.ts'
import type { LabelingContext, Principal } from './context.ts'

export type Submission = { taskId: unknown; idempotencyKey: unknown; label: unknown; signature: unknown }
export type SubmitResult = { labelId: number; labelHash: Hex; duplicate: boolean }

const isUniqueViolation = (e: unknown) => {
  const m = String((e as { code?: string; message?: string })?.code ?? '') + ' ' + String((e as Error)?.message ?? '')
  return /SQLITE_CONSTRAINT|23505|UNIQUE constraint|duplicate key/i.test(m)
}

/**
 * Store one signed label, exactly once. Order of checks (each failure is a 4xx and stores nothing):
 * shape -> idempotent replay -> assignment is yours -> campaign open -> not yet submitted -> lease
 * alive -> content valid for the task -> EIP-712 signature by you over keccak256(canonical JSON).
 * The insert and the assignment update commit together; the response is sent only after the commit,
 * so an acknowledged label is durable. A retry with the same idempotency key gets the stored label
 * back (duplicate: true); the same key with different content is a 409.
 */
export async function submitLabel(ctx: LabelingContext, who: Principal, s: Submission): Promise<SubmitResult> {
  if (typeof s.taskId !== 'number' || !Number.isSafeInteger(s.taskId) || s.taskId <= 0) throw new ApiError(400, 'taskId must be a positive integer', { details: { field: 'taskId' } })
  if (typeof s.idempotencyKey !== 'string' || !/^[A-Za-z0-9_.:-]{8,128}$/.test(s.idempotencyKey))
    throw new ApiError(400, 'idempotencyKey must be 8..128 characters of [A-Za-z0-9_.:-]', { details: { field: 'idempotencyKey' } })
  if (typeof s.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(s.signature)) throw new ApiError(400, 'signature must be a 65-byte 0x-hex EIP-712 signature', { details: { field: 'signature' } })
  const me = who.address
  const db = ctx.db

  const prior = await db.selectFrom('labels').select(['id', 'label_hash', 'task_id']).where('labeler', '=', me).where('idempotency_key', '=', s.idempotencyKey).executeTakeFirst()
  if (prior) return replay(prior, s)

  const a = await db
    .selectFrom('assignments as a')
    .innerJoin('tasks as t', 't.id', 'a.task_id')
    .innerJoin('campaigns as c', 'c.id', 't.campaign_id')
    .select(['a.id as assignmentId', 'a.status', 'a.lease_expires_at', 'a.assigned_at', 't.kind', 't.task_hash', 't.campaign_id', 't.prompt', 't.target_label_id', 't.payload', 'c.status as campaignStatus', 'c.k'])
    .where('a.task_id', '=', s.taskId)
    .where('a.labeler', '=', me)
    .executeTakeFirst()
  if (!a) throw new ApiError(403, `task ${s.taskId} is not assigned to you (claim it first)`, { code: 'ENOTASSIGNED' })
  if (a.campaignStatus !== 'open') throw new ApiError(409, `campaign ${a.campaign_id} is closed; no more labels are accepted`, { code: 'ECLOSED' })
  if (a.status === 'skipped' || a.status === 'reported') throw new ApiError(409, `you ${a.status} task ${s.taskId}; it went back to the pool`, { code: 'ERELEASED' })
  if (a.status === 'submitted') throw new ApiError(409, `you already submitted a label for task ${s.taskId} (with another idempotency key)`, { code: 'EALREADY' })
  if (a.lease_expires_at <= ctx.now()) throw new ApiError(409, `your lease on task ${s.taskId} expired; the task went back to the pool`, { code: 'ELEASEEXPIRED' })
  const payload = JSON.parse(a.payload) as { target?: string }
  const guidelines = await acceptedGuidelines(ctx, a.campaign_id, a.assigned_at)
  const content = validateLabelContent(s.label, { campaign: a.campaign_id, taskId: s.taskId, taskHash: a.task_hash, kind: a.kind as TaskKind, k: a.k, target: payload.target ?? null, guidelines }, me)
  const json = canonicalJson(content)
  const labelHash = contentHash(content)
  const m = labelMessage(content, labelHash)
  const valid = ctx.verifier ? await ctx.verifier.verify(ctx.chainId, me, m, s.signature as Hex).catch(verifierDown) : verifyLabelSignature(ctx.chainId, me, m, s.signature as Hex)
  if (!valid)
    throw new ApiError(400, `signature does not verify: it must be your (${me}) EIP-712 signature of Label{contentHash: ${labelHash}, campaign, taskId, guidelinesVersion: ${content.guidelines.version}}`, { code: 'EBADSIG', details: { field: 'signature' } })

  const now = ctx.now()
  try {
    // Commits are grouped with concurrent submissions when the server runs a group committer (one fsync per batch).
    const inTransaction = <T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> => (ctx.groupCommit ? ctx.groupCommit.run(work) : db.transaction().execute(work))
    const id = await inTransaction(async (trx) => {
      const upd = await trx.updateTable('assignments').set({ status: 'submitted', submitted_at: now }).where('id', '=', a.assignmentId).where('status', '=', 'leased').executeTakeFirst()
      if (Number(upd.numUpdatedRows) !== 1) throw new ApiError(409, `you already submitted a label for task ${s.taskId}`, { code: 'EALREADY' })
      const row = await trx
        .insertInto('labels')
        .values({
          campaign_id: a.campaign_id,
          task_id: s.taskId as number,
          assignment_id: a.assignmentId,
          labeler: me,
          kind: a.kind,
          content: json,
          label_hash: labelHash,
          signature: (s.signature as string).toLowerCase(),
          idempotency_key: s.idempotencyKey as string,
          assigned_at: a.assigned_at,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      // Every demonstration and written prompt gets a review task, which its author can never be assigned.
      if (a.kind === 'demonstration' || a.kind === 'prompt') {
        // A written prompt's review says so (`of`), so the reviewer judges it as a prompt.
        const p = a.kind === 'prompt' ? { prompt: a.prompt, response: content.prompt, target: labelHash, of: 'prompt' } : { prompt: a.prompt, response: content.response, target: labelHash }
        await trx
          .insertInto('tasks')
          .values({
            campaign_id: a.campaign_id,
            kind: 'review',
            prompt: a.prompt,
            payload: JSON.stringify(p),
            task_hash: taskHash(a.campaign_id, 'review', p),
            overlap: 1,
            gold: null,
            target_label_id: row.id,
            target_labeler: me,
            created_at: now,
          })
          .execute()
      }
      return row.id
    })
    return { labelId: id, labelHash, duplicate: false }
  } catch (e) {
    if (!isUniqueViolation(e)) throw e
    // A concurrent retry with the same key won the race: answer like a replay.
    const again = await db.selectFrom('labels').select(['id', 'label_hash', 'task_id']).where('labeler', '=', me).where('idempotency_key', '=', s.idempotencyKey).executeTakeFirst()
    if (again) return replay(again, s)
    throw new ApiError(409, 'this exact label was already stored', { code: 'EDUPLICATE' })
  }
}

/** A verification worker crashed on this request: nothing was stored, the client may retry. */
function verifierDown(err: unknown): never {
  if (err instanceof VerifierCrashed) throw new ApiError(503, 'the signature could not be checked (verification worker crashed); nothing was stored, retry', { code: 'EVERIFY' })
  throw err
}

function replay(prior: { id: number; label_hash: string; task_id: number }, s: Submission): SubmitResult {
  if (prior.task_id !== s.taskId) throw new ApiError(409, 'idempotencyKey was already used for another task', { code: 'EIDEMPOTENCY' })
  // Same key, same task: return what is stored. (Content is not re-validated: the stored one was.)
  let same = true
  try {
    same = contentHash(s.label) === prior.label_hash
  } catch {
    same = false
  }
  if (!same) throw new ApiError(409, 'idempotencyKey was already used with different label content', { code: 'EIDEMPOTENCY' })
  return { labelId: prior.id, labelHash: prior.label_hash as Hex, duplicate: true }
}

/** servedAt: when the task's content was first served to the labeler (null for labels from before it was recorded). */
export type StoredLabel = { id: number; campaign: string; taskId: number; labeler: string; kind: string; content: LabelContent; labelHash: Hex; signature: Hex; assignedAt: number; servedAt: number | null; createdAt: number }

export async function listLabels(ctx: LabelingContext, campaignId: string, opts: { labeler?: string } = {}): Promise<StoredLabel[]> {
  let q = ctx.db.selectFrom('labels').leftJoin('assignments as a', 'a.id', 'labels.assignment_id').selectAll('labels').select('a.first_served_at').where('labels.campaign_id', '=', campaignId)
  if (opts.labeler) q = q.where('labels.labeler', '=', opts.labeler.toLowerCase())
  const rows = await q.orderBy('labels.id').execute()
  return rows.map((r) => ({
    id: r.id,
    campaign: r.campaign_id,
    taskId: r.task_id,
    labeler: r.labeler,
    kind: r.kind,
    content: JSON.parse(r.content) as LabelContent,
    labelHash: r.label_hash as Hex,
    signature: r.signature as Hex,
    assignedAt: r.assigned_at,
    servedAt: r.first_served_at ?? null,
    createdAt: r.created_at,
  }))
}
