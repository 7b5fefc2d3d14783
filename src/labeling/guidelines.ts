import { keccak256, toBytes, type Hex } from 'viem'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import type { GuidelinesTable } from './db/schema.ts'

/**
 * Campaign guidelines: markdown set by the requester, versioned from 1 (every change is a new
 * version; old versions stay, so every label's guidelines can be read back). A label names the
 * version and hash it was made under, and signs the version (typed.ts).
 */
export const MAX_GUIDELINES = 32_000

/** The default, modelled on InstructGPT's labeling instructions (helpful, truthful, harmless), with web3 examples. */
export const DEFAULT_GUIDELINES = `# How to label in this campaign

We want answers that are **helpful**, **truthful** and **harmless**, in that order of what you check
first, but when they conflict, *truthful and harmless win* over helpful.

## Helpful
- Does what the prompt asks, in the form it asks (a summary is short, code compiles, a list is a list).
- Answers the question actually asked; asks for clarification when the prompt is ambiguous.
- Example: "Why do DAOs use timelocks?" A helpful answer explains that a timelock delays executing a
  passed proposal so token holders can exit or react to a malicious one; it does not lecture about
  DAOs in general.

## Truthful
- No invented facts: addresses, EIP numbers, function names, audit findings and numbers must be real.
- Says when it is unsure; does not present a guess about a transaction's intent as fact.
- Example: an answer that says \`transfer()\` forwards all gas is **false** (it forwards 2300); flag it
  as a hallucination even if it is otherwise well written.

## Harmless
- Does not help steal funds, drain contracts, phish seed phrases or launder money, even when asked
  "for research".
- Explaining how a class of exploit works so developers can prevent it (reentrancy, oracle
  manipulation) is fine; a ready-to-run exploit against a named live contract is not.
- Does not reveal personal data linked to addresses (doxxing).

## Ranking
- Put the best output on top. Tie outputs only when you truly cannot prefer one.
- Rate each output 1-7 for overall quality and set the flags that apply.

## Writing demonstrations and prompts
- Write what an excellent assistant would answer: correct, specific, honest about uncertainty.
- Prompts: realistic requests a web3 user or developer would make. *Plain*: any task. *Few-shot*: an
  instruction followed by several example query/answer pairs. *User-based*: a use case from the
  campaign's category (e.g. "explain this governance proposal to a token holder").

## Skip or report
- **Skip** a task you are not competent to judge (it goes back to the pool; skipping never lowers your
  quality score, but skips are limited per hour).
- **Report** a broken prompt, harmful content, or outputs that are identical.
`

export const guidelinesHash = (markdown: string): Hex => keccak256(toBytes(markdown))

export type GuidelinesView = { campaign: string; version: number; hash: Hex; markdown: string; createdAt: number }
const view = (r: GuidelinesTable): GuidelinesView => ({ campaign: r.campaign_id, version: r.version, hash: r.hash as Hex, markdown: r.markdown, createdAt: r.created_at })

/** Validate requester-supplied markdown (field `guidelines`). */
export function checkGuidelinesMarkdown(v: unknown, field = 'guidelines'): string {
  if (typeof v !== 'string' || !v.trim()) throw new ApiError(400, `${field} must be non-empty markdown text`, { code: 'EBADGUIDELINES', details: { field } })
  if (v.length > MAX_GUIDELINES) throw new ApiError(400, `${field} is too long (${v.length} > ${MAX_GUIDELINES} characters)`, { code: 'EBADGUIDELINES', details: { field } })
  return v
}

/** The campaign's guidelines: the current version, or the given one. */
export async function getGuidelines(ctx: LabelingContext, campaignId: string, version?: number): Promise<GuidelinesView> {
  let q = ctx.db.selectFrom('guidelines').selectAll().where('campaign_id', '=', campaignId)
  q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version)
  const r = await q.executeTakeFirst()
  if (!r) throw new ApiError(404, `no guidelines${version === undefined ? '' : ` version ${version}`} for campaign ${JSON.stringify(campaignId)}`, { code: 'ENOGUIDELINES' })
  return view(r)
}

/** Publish a new version (current + 1; version 1 at campaign creation). Runs in the caller's transaction if given one. */
export async function publishGuidelines(ctx: Pick<LabelingContext, 'db' | 'now'>, by: Principal, campaignId: string, markdown: string, db = ctx.db): Promise<GuidelinesView> {
  const cur = await db.selectFrom('guidelines').select('version').where('campaign_id', '=', campaignId).orderBy('version', 'desc').limit(1).executeTakeFirst()
  const row: GuidelinesTable = { campaign_id: campaignId, version: (cur?.version ?? 0) + 1, markdown, hash: guidelinesHash(markdown), created_by: by.address, created_at: ctx.now() }
  await db.insertInto('guidelines').values(row).execute()
  return view(row)
}

/**
 * The versions a label for a task first served at `servedAt` may name: the current version, and
 * the version that was current when the task was served (guidelines changed while the labeler worked).
 */
export async function acceptedGuidelines(ctx: LabelingContext, campaignId: string, servedAt: number): Promise<Array<{ version: number; hash: string }>> {
  const rows = await ctx.db.selectFrom('guidelines').select(['version', 'hash', 'created_at']).where('campaign_id', '=', campaignId).orderBy('version', 'desc').execute()
  const out = rows.slice(0, 1)
  const atServe = rows.find((r) => r.created_at <= servedAt)
  if (atServe && atServe.version !== out[0]?.version) out.push(atServe)
  return out.map((r) => ({ version: r.version, hash: r.hash }))
}
