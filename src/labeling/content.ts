import type { Address, Hex } from 'viem'
import { ApiError } from './errors.ts'

/** InstructGPT's metadata flags (Ouyang et al. 2022, appendix B), set per output in a ranking label. */
export const FLAGS = [
  'fails_instruction',
  'hallucination',
  'inappropriate',
  'contains_pii',
  'harmful_advice',
  'sexual',
  'violent',
  'encourages_violence',
  'denigrates_protected_class',
  'expresses_opinion',
  'moral_judgment',
] as const
export type Flag = (typeof FLAGS)[number]

export type TaskKind = 'demonstration' | 'ranking' | 'review' | 'prompt'

/** InstructGPT's three kinds of labeler-written prompts (Ouyang et al. 2022, section 3.2). */
export const PROMPT_STYLES = ['plain', 'few_shot', 'user_based'] as const
export type PromptStyle = (typeof PROMPT_STYLES)[number]
export const MIN_RANK_K = 4
export const MAX_RANK_K = 9
export const MAX_TEXT = 16_000

/**
 * What a labeler signs (its canonical JSON is hashed, see canonical.ts). Fields by kind:
 *  demonstration: response
 *  ranking:       ranking (rank per output, 0 = best, ties share a rank, dense), likert (1..7 per output),
 *                 flags ({flag: [output indices]})
 *  review:        target (labelHash of the reviewed label), verdict, note?
 *  prompt:        prompt (the prompt the labeler wrote, in the task's style)
 * `taskHash` commits the label to exactly what was shown (prompt, outputs, reviewed label);
 * `guidelines` names the campaign guidelines (version and keccak256 of their markdown) the label
 * was made under; the version is also a field of the EIP-712 message (typed.ts).
 */
export type LabelContent = {
  v: 2
  campaign: string
  taskId: number
  taskHash: Hex
  kind: TaskKind
  labeler: Address
  guidelines: { version: number; hash: Hex }
  response?: string
  prompt?: string
  ranking?: number[]
  likert?: number[]
  flags?: Partial<Record<Flag, number[]>>
  target?: Hex
  verdict?: 'approve' | 'reject'
  note?: string
}

/** The task facts a label is checked against. */
export type TaskFacts = {
  campaign: string
  taskId: number
  taskHash: string
  kind: TaskKind
  k: number
  target?: string | null
  /** Guidelines versions a label for this task may name (the current one, and the one current when the task was first served), with their hashes. */
  guidelines: Array<{ version: number; hash: string }>
}

const bad = (msg: string, field: string) => new ApiError(422, msg, { code: 'EINVALIDLABEL', details: { field } })

/** Dense ranks with ties: the distinct values are exactly 0..m-1. */
export function checkRanking(r: unknown, k: number, field = 'ranking'): number[] {
  if (!Array.isArray(r)) throw bad('must be an array of ranks', field)
  if (r.length !== k) throw bad(`ranking must have one rank per output (${k}), got ${r.length}`, field)
  const seen = new Set<number>()
  r.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= k) throw bad(`rank must be an integer in 0..${k - 1}, got ${JSON.stringify(x)}`, `${field}[${i}]`)
    seen.add(x)
  })
  for (let x = 0; x < seen.size; x++)
    if (!seen.has(x)) throw bad(`ranking is not a permutation with ties: ranks must be dense from 0 (missing ${x} in ${JSON.stringify(r)})`, field)
  return r as number[]
}

function str(o: Record<string, unknown>, key: string, max = MAX_TEXT): string {
  const v = o[key]
  if (typeof v !== 'string') throw bad('must be a string', key)
  if (v.length > max) throw bad(`too long (${v.length} > ${max} characters)`, key)
  return v
}

/**
 * Validate a submitted label against its task and the signed-in labeler. Nothing is normalised
 * (the client signed these exact bytes); the result holds only known fields, so what is hashed
 * and stored is exactly what was checked.
 */
export function validateLabelContent(raw: unknown, task: TaskFacts, labeler: Address): LabelContent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('label must be a JSON object', 'label')
  const o = raw as Record<string, unknown>
  const allowed = new Set(['v', 'campaign', 'taskId', 'taskHash', 'kind', 'labeler', 'guidelines', 'response', 'prompt', 'ranking', 'likert', 'flags', 'target', 'verdict', 'note'])
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw bad(`unknown field "${k}"`, k)
  if (o.v !== 2) throw bad('label version must be 2 (labels name the guidelines version they were made under)', 'v')
  if (o.campaign !== task.campaign) throw bad(`label is for campaign ${JSON.stringify(o.campaign)}, task belongs to ${task.campaign}`, 'campaign')
  if (o.taskId !== task.taskId) throw bad(`label is for task ${JSON.stringify(o.taskId)}, submitted as task ${task.taskId}`, 'taskId')
  if (o.taskHash !== task.taskHash) throw bad('taskHash does not match the task as served (outputs or prompt differ)', 'taskHash')
  if (o.kind !== task.kind) throw bad(`kind must be "${task.kind}" for this task`, 'kind')
  // Stored exactly as signed: the address in lowercase hex, so the hash never depends on checksum casing.
  if (o.labeler !== labeler.toLowerCase()) throw bad('labeler must be the signed-in address in lowercase hex', 'labeler')
  const out: LabelContent = { v: 2, campaign: task.campaign, taskId: task.taskId, taskHash: task.taskHash as Hex, kind: task.kind, labeler: labeler.toLowerCase() as Address, guidelines: checkGuidelines(o.guidelines, task) }
  const only = (fields: string[]) => {
    for (const k of Object.keys(o)) if (!['v', 'campaign', 'taskId', 'taskHash', 'kind', 'labeler', 'guidelines', ...fields].includes(k)) throw bad(`field "${k}" does not belong to a ${task.kind} label`, k)
  }
  if (task.kind === 'demonstration') {
    only(['response'])
    const response = str(o, 'response')
    if (response.trim() === '') throw bad('response must not be empty', 'response')
    out.response = response
  } else if (task.kind === 'ranking') {
    only(['ranking', 'likert', 'flags'])
    out.ranking = checkRanking(o.ranking, task.k)
    if (o.likert !== undefined) {
      if (!Array.isArray(o.likert) || o.likert.length !== task.k) throw bad(`likert must have one score per output (${task.k})`, 'likert')
      o.likert.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 7) throw bad(`Likert score must be an integer 1..7, got ${JSON.stringify(x)}`, `likert[${i}]`)
      })
      out.likert = o.likert as number[]
    }
    if (o.flags !== undefined) {
      if (o.flags === null || typeof o.flags !== 'object' || Array.isArray(o.flags)) throw bad('flags must be an object {flag: [output indices]}', 'flags')
      const flags: Partial<Record<Flag, number[]>> = {}
      for (const [f, idx] of Object.entries(o.flags as object)) {
        if (!(FLAGS as readonly string[]).includes(f)) throw bad(`unknown flag "${f}" (known: ${FLAGS.join(', ')})`, `flags.${f}`)
        if (!Array.isArray(idx) || idx.some((i, j) => typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= task.k || (j > 0 && i <= idx[j - 1])))
          throw bad(`must be an ascending list of distinct output indices 0..${task.k - 1}`, `flags.${f}`)
        flags[f as Flag] = idx as number[]
      }
      out.flags = flags
    }
  } else if (task.kind === 'prompt') {
    only(['prompt'])
    const prompt = str(o, 'prompt')
    if (prompt.trim().length < 10) throw bad('prompt must be at least 10 characters', 'prompt')
    out.prompt = prompt
  } else {
    only(['target', 'verdict', 'note'])
    if (o.target !== task.target) throw bad('target must be the labelHash of the label under review', 'target')
    out.target = task.target as Hex
    if (o.verdict !== 'approve' && o.verdict !== 'reject') throw bad('verdict must be "approve" or "reject"', 'verdict')
    out.verdict = o.verdict
    if (o.note !== undefined) out.note = str(o, 'note', 2000)
  }
  return out
}

/** `guidelines` must be exactly {version, hash} of a version this task accepts (see TaskFacts). */
function checkGuidelines(g: unknown, task: TaskFacts): { version: number; hash: Hex } {
  if (g === null || typeof g !== 'object' || Array.isArray(g)) throw bad('guidelines must be {version, hash} of the campaign guidelines you labeled under', 'guidelines')
  const { version, hash, ...rest } = g as Record<string, unknown>
  if (Object.keys(rest).length) throw bad(`unknown field "${Object.keys(rest)[0]}"`, `guidelines.${Object.keys(rest)[0]}`)
  const known = task.guidelines.find((x) => x.version === version)
  if (!known) throw bad(`guidelines version ${JSON.stringify(version)} is not the current one for this task (accepted: ${task.guidelines.map((x) => x.version).join(', ')})`, 'guidelines.version')
  if (hash !== known.hash) throw bad(`guidelines hash does not match version ${known.version}`, 'guidelines.hash')
  return { version: known.version, hash: known.hash as Hex }
}
