import { randomBytes, randomInt } from 'node:crypto'
import { Instruct3Error } from '../util/errors.ts'
import { contentHash } from './canonical.ts'
import { checkRanking, MAX_RANK_K, MAX_TEXT, MIN_RANK_K, PROMPT_STYLES, type PromptStyle, type TaskKind } from './content.ts'
import { CATEGORIES, CATEGORY_NAMES, isCategory, type Category } from './categories.ts'
import { checkGuidelinesMarkdown, DEFAULT_GUIDELINES, publishGuidelines } from './guidelines.ts'
import { ApiError } from './errors.ts'
import type { LabelingContext, Principal } from './context.ts'
import type { CampaignsTable } from './db/schema.ts'

export type GoldItem = { prompt: string; responses: string[]; ranking: number[] }

/**
 * What a requester sends to create a campaign. Prompts and gold come inline: the server never takes
 * a path (OWASP API: no server-side file access from API input); the CLI reads local files itself
 * (prompt-files.ts) and passes their content.
 */
export type CampaignSpec = {
  name: string
  /** Inline prompts; optional only for prompt-writing-only campaigns (kinds: ["prompt"]) or with promptsFrom. */
  prompts?: string[]
  /** Policy checkpoint the ranking outputs are sampled from: a reference (CID), stored as given. */
  policy: string
  kinds?: TaskKind[]
  /** Outputs per ranking task (4..9). */
  k?: number
  /** Labelers per ranking task (>= 3). */
  overlap?: number
  /** Labelers per demonstration task. */
  demoOverlap?: number
  leaseSeconds?: number
  /** On average one task in goldEvery that a labeler gets is a gold task (placed at random). */
  goldEvery?: number
  /** Gold ranking tasks with known answers: {prompt, responses (K), ranking}. */
  gold?: GoldItem[]
  chainCampaignId?: string | null
  /** Expertise category; tasks go only to labelers qualified in it (except `general`, the default). */
  category?: Category
  /** Guidelines markdown (version 1); default DEFAULT_GUIDELINES. */
  guidelines?: string
  /** Pay per accepted label and the declared target effective hourly rate, in `currency` units. */
  rewardPerLabel?: number
  targetHourly?: number | null
  currency?: string
  /** Skips + reports a labeler may make per rolling hour (default 6). */
  skipsPerHour?: number
  /** Prompt-writing tasks per style (plain, few_shot, user_based) when kinds has "prompt" (default 2). */
  promptTasks?: number
  /** Take the accepted written prompts of an exported-or-not prompt-writing campaign as this campaign's prompts. */
  promptsFrom?: string
}

/** What a prompt-writing task asks for, per style (InstructGPT section 3.2), about a category. */
export function promptInstruction(style: PromptStyle, category: Category): string {
  const topic = category === 'general' ? 'web3 (wallets, tokens, contracts, DAOs, transactions)' : CATEGORY_NAMES[category]
  if (style === 'plain') return `Write a prompt: any realistic task someone would ask an assistant about ${topic}. Make it specific and varied.`
  if (style === 'few_shot') return `Write a few-shot prompt about ${topic}: an instruction, then several example query/response pairs, then a new query for the model to answer.`
  return `Write a user-based prompt about ${topic}: a concrete use case a real user of a wallet, protocol or DAO tool would bring (who they are, what they need).`
}

/** Most prompts and gold items one campaign may carry (the request body limit bounds bytes too). */
export const MAX_PROMPTS = 100_000
export const MAX_GOLD = 10_000

const bad = (msg: string, field: string) => new ApiError(400, msg, { code: 'EBADCAMPAIGN', details: { field } })

/** Fields older clients sent that named files on the server; refused by name so the caller learns why. */
const SERVER_PATH_FIELDS = ['promptsPath', 'goldPath'] as const

/** Check inline prompts: a non-empty list of non-empty strings, bounded in count and length. Never echoes content. */
function checkPrompts(prompts: unknown): string[] {
  if (!Array.isArray(prompts) || prompts.length === 0) throw bad('prompts must be a non-empty list of strings (send the content; the CLI reads local files for you)', 'prompts')
  if (prompts.length > MAX_PROMPTS) throw bad(`too many prompts (${prompts.length} > ${MAX_PROMPTS})`, 'prompts')
  prompts.forEach((p, i) => {
    if (typeof p !== 'string' || p.trim() === '') throw bad('must be a non-empty string', `prompts[${i}]`)
    if (p.length > MAX_TEXT) throw bad(`too long (${p.length} > ${MAX_TEXT} characters)`, `prompts[${i}]`)
  })
  return prompts as string[]
}

/** Create a campaign and all its tasks (ranking outputs sampled now, from the injected sampler). */
export async function createCampaign(ctx: LabelingContext, by: Principal, spec: CampaignSpec, onProgress?: (done: number, total: number) => void): Promise<CampaignsTable> {
  if (typeof spec.name !== 'string' || !spec.name.trim()) throw bad('name is required', 'name')
  if (typeof spec.policy !== 'string' || !spec.policy.trim()) throw bad('policy (checkpoint path or CID) is required', 'policy')
  const kinds = spec.kinds ?? ['demonstration', 'ranking']
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => k !== 'demonstration' && k !== 'ranking' && k !== 'prompt'))
    throw bad('kinds must be a non-empty list of "demonstration" | "ranking" | "prompt" (review tasks are created from demonstrations and prompts)', 'kinds')
  const ux = checkUxSpec(spec)
  const k = spec.k ?? 4
  if (!Number.isInteger(k) || k < MIN_RANK_K || k > MAX_RANK_K) throw bad(`k must be ${MIN_RANK_K}..${MAX_RANK_K}`, 'k')
  const overlap = spec.overlap ?? 3
  if (!Number.isInteger(overlap) || overlap < 3) throw bad('overlap must be an integer >= 3 (each ranking task goes to at least 3 labelers)', 'overlap')
  const demoOverlap = spec.demoOverlap ?? 1
  if (!Number.isInteger(demoOverlap) || demoOverlap < 1) throw bad('demoOverlap must be >= 1', 'demoOverlap')
  const leaseMs = Math.round((spec.leaseSeconds ?? 900) * 1000)
  if (!(leaseMs >= 1000)) throw bad('leaseSeconds must be >= 1', 'leaseSeconds')
  const goldEvery = spec.goldEvery ?? 5
  if (!Number.isInteger(goldEvery) || goldEvery < 2) throw bad('goldEvery must be an integer >= 2', 'goldEvery')
  for (const f of SERVER_PATH_FIELDS)
    if (f in spec) throw bad(`server paths are not accepted (${f}): send the content inline as "${f === 'promptsPath' ? 'prompts' : 'gold'}"; \`instruct3 label create\` reads local files and sends them`, f)
  // Prompt-writing-only campaigns need no prompts; promptsFrom takes a prompt-writing campaign's accepted prompts.
  const needsPrompts = kinds.some((k) => k !== 'prompt')
  let prompts: string[] = []
  if (spec.promptsFrom !== undefined) {
    prompts = await writtenPrompts(ctx, spec.promptsFrom)
    if (prompts.length === 0 && needsPrompts) throw bad(`promptsFrom: campaign ${spec.promptsFrom} has no accepted written prompts yet`, 'promptsFrom')
  } else if (needsPrompts || spec.prompts !== undefined) prompts = checkPrompts(spec.prompts)
  const gold: GoldItem[] = spec.gold ?? []
  if (!Array.isArray(gold)) throw bad('gold must be a list of {prompt, responses, ranking}', 'gold')
  if (gold.length > MAX_GOLD) throw bad(`too many gold items (${gold.length} > ${MAX_GOLD})`, 'gold')
  gold.forEach((g, i) => {
    if (typeof g?.prompt !== 'string' || g.prompt.length > MAX_TEXT || !Array.isArray(g.responses) || g.responses.length !== k || g.responses.some((r) => typeof r !== 'string' || r.length > MAX_TEXT))
      throw bad(`gold item ${i} needs a prompt and exactly k=${k} string responses`, `gold[${i}]`)
    try {
      checkRanking(g.ranking, k, `gold[${i}].ranking`)
    } catch (e) {
      throw bad((e as Error).message, `gold[${i}].ranking`)
    }
  })

  const id = 'c_' + randomBytes(6).toString('hex')
  const now = ctx.now()
  const campaign: CampaignsTable = {
    id,
    name: spec.name.trim(),
    status: 'open',
    policy: spec.policy.trim(),
    prompts_source: 'inline',
    k,
    overlap,
    demo_overlap: demoOverlap,
    lease_ms: leaseMs,
    gold_every: goldEvery,
    kinds: kinds.join(','),
    created_by: by.address,
    created_at: now,
    chain_campaign_id: spec.chainCampaignId ?? null,
    category: ux.category,
    currency: ux.currency,
    reward_micros: ux.rewardMicros,
    target_hourly_micros: ux.targetHourlyMicros,
    skips_per_hour: ux.skipsPerHour,
  }
  // Sample first (slow, async), then write everything in one transaction.
  type NewTask = { kind: TaskKind; prompt: string; payload: Record<string, unknown>; overlap: number; gold: string | null }
  const tasks: NewTask[] = []
  const sample = kinds.includes('ranking') && ctx.samplerFor ? await ctx.samplerFor(spec.policy.trim()) : ctx.sampler
  const total = prompts.length * kinds.length
  let done = 0
  for (const prompt of prompts) {
    if (kinds.includes('demonstration')) {
      tasks.push({ kind: 'demonstration', prompt, payload: { prompt }, overlap: demoOverlap, gold: null })
      onProgress?.(++done, total)
    }
    if (kinds.includes('ranking')) {
      const outputs = await sample(prompt, k)
      if (!Array.isArray(outputs) || outputs.length !== k || outputs.some((o) => typeof o !== 'string'))
        throw new Instruct3Error(`response sampler returned ${Array.isArray(outputs) ? outputs.length : typeof outputs} outputs, expected ${k} strings`, { code: 'ESAMPLER' })
      tasks.push({ kind: 'ranking', prompt, payload: { prompt, outputs }, overlap, gold: null })
      onProgress?.(++done, total)
    }
  }
  if (kinds.includes('prompt'))
    for (const style of PROMPT_STYLES)
      for (let i = 0; i < ux.promptTasks; i++) {
        const instruction = promptInstruction(style, ux.category)
        // `n` keeps the tasks of one style distinct (same instruction, different task hash).
        tasks.push({ kind: 'prompt', prompt: instruction, payload: { prompt: instruction, style, category: ux.category, n: i }, overlap: demoOverlap, gold: null })
      }
  // Gold tasks look exactly like ranking tasks to labelers; every labeler may get each one once.
  // Each goes in at a random position (CSPRNG; ctx.randomInt in tests), so gold task ids are spread among the normal ones.
  for (const g of gold)
    tasks.splice((ctx.randomInt ?? randomInt)(tasks.length + 1), 0, { kind: 'ranking', prompt: g.prompt, payload: { prompt: g.prompt, outputs: g.responses }, overlap: 1_000_000, gold: JSON.stringify({ ranking: g.ranking }) })
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('campaigns').values(campaign).execute()
    await publishGuidelines(ctx, by, id, ux.guidelines, trx)
    for (let i = 0; i < tasks.length; i += 200) {
      await trx
        .insertInto('tasks')
        .values(
          tasks.slice(i, i + 200).map((t) => ({
            campaign_id: id,
            kind: t.kind,
            prompt: t.prompt,
            payload: JSON.stringify(t.payload),
            task_hash: taskHash(id, t.kind, t.payload),
            overlap: t.overlap,
            gold: t.gold,
            target_label_id: null,
            target_labeler: null,
            created_at: now,
          })),
        )
        .execute()
    }
  })
  return campaign
}

/** Validate the issue-20 fields of a campaign spec (category, guidelines, pay, skips, prompt tasks). */
function checkUxSpec(spec: CampaignSpec) {
  const category = spec.category ?? 'general'
  if (!isCategory(category)) throw bad(`category must be one of ${CATEGORIES.join(', ')}`, 'category')
  const guidelines = spec.guidelines === undefined ? DEFAULT_GUIDELINES : checkGuidelinesMarkdown(spec.guidelines)
  const money = (v: unknown, field: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e9) throw bad(`${field} must be a number >= 0 (currency units)`, field)
    return Math.round(v * 1e6)
  }
  const rewardMicros = spec.rewardPerLabel === undefined ? 0 : money(spec.rewardPerLabel, 'rewardPerLabel')
  const targetHourlyMicros = spec.targetHourly === undefined || spec.targetHourly === null ? null : money(spec.targetHourly, 'targetHourly')
  const currency = spec.currency ?? 'USDC'
  if (typeof currency !== 'string' || !/^[A-Za-z0-9]{1,12}$/.test(currency)) throw bad('currency must be 1..12 letters or digits, e.g. USDC', 'currency')
  const skipsPerHour = spec.skipsPerHour ?? 6
  if (!Number.isInteger(skipsPerHour) || skipsPerHour < 0 || skipsPerHour > 1000) throw bad('skipsPerHour must be an integer 0..1000', 'skipsPerHour')
  const promptTasks = spec.promptTasks ?? 2
  if (!Number.isInteger(promptTasks) || promptTasks < 1 || promptTasks > 10_000) throw bad('promptTasks must be an integer 1..10000 (tasks per prompt style)', 'promptTasks')
  if (spec.promptsFrom !== undefined && typeof spec.promptsFrom !== 'string') throw bad('promptsFrom must be a campaign id', 'promptsFrom')
  return { category, guidelines, rewardMicros, targetHourlyMicros, currency, skipsPerHour, promptTasks }
}

/**
 * The accepted prompts written in a prompt-writing campaign (what its prompts.jsonl export holds),
 * in label order: a new campaign can take them as its prompts (spec.promptsFrom).
 */
export async function writtenPrompts(ctx: LabelingContext, campaignId: string): Promise<string[]> {
  const { loadCampaignQuality } = await import('./report.ts')
  const src = await ctx.db.selectFrom('campaigns').select('id').where('id', '=', campaignId).executeTakeFirst()
  if (!src) throw bad(`promptsFrom: no campaign ${JSON.stringify(campaignId)}`, 'promptsFrom')
  const { labels, quality } = await loadCampaignQuality(ctx, campaignId, ctx.spam)
  return labels.filter((l) => l.kind === 'prompt' && quality.accepted.has(l.id)).map((l) => l.content.prompt!)
}

/** What a label commits to about its task: campaign, kind and everything shown to the labeler. */
export function taskHash(campaign: string, kind: string, payload: Record<string, unknown>): `0x${string}` {
  return contentHash({ campaign, kind, ...payload })
}

export async function getCampaign(ctx: LabelingContext, id: string): Promise<CampaignsTable> {
  const c = await ctx.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst()
  if (!c) throw new ApiError(404, `no campaign ${JSON.stringify(id)}`, { code: 'ENOCAMPAIGN' })
  return c
}

/** A campaign as labelers see it: no policy reference, prompt source, creator or gold rate. */
export type PublicCampaign = Pick<CampaignsTable, 'id' | 'name' | 'status' | 'k' | 'overlap' | 'demo_overlap' | 'lease_ms' | 'kinds' | 'created_at' | 'chain_campaign_id'
  | 'category' | 'currency' | 'reward_micros' | 'target_hourly_micros' | 'skips_per_hour'
>

/** The labeler-facing view of a campaign (requesters get the whole row). */
export function publicCampaign(c: CampaignsTable): PublicCampaign {
  return {
    id: c.id, name: c.name, status: c.status, k: c.k, overlap: c.overlap, demo_overlap: c.demo_overlap, lease_ms: c.lease_ms, kinds: c.kinds, created_at: c.created_at, chain_campaign_id: c.chain_campaign_id,
    // What a labeler needs to decide whether to work here: category, pay terms, skip budget.
    category: c.category, currency: c.currency, reward_micros: c.reward_micros, target_hourly_micros: c.target_hourly_micros, skips_per_hour: c.skips_per_hour,
  }
}

export async function listCampaigns(ctx: LabelingContext): Promise<CampaignsTable[]> {
  return ctx.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').execute()
}

export async function setCampaignStatus(ctx: LabelingContext, id: string, status: 'open' | 'closed'): Promise<CampaignsTable> {
  await getCampaign(ctx, id)
  await ctx.db.updateTable('campaigns').set({ status }).where('id', '=', id).execute()
  return getCampaign(ctx, id)
}

/** Progress: tasks and labels per kind (gold excluded from tasks, included as a separate count). */
export async function campaignProgress(ctx: LabelingContext, id: string) {
  const tasks = await ctx.db
    .selectFrom('tasks')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('overlap').as('slots')])
    .where('campaign_id', '=', id)
    .where('gold', 'is', null)
    .groupBy('kind')
    .execute()
  const labels = await ctx.db
    .selectFrom('labels')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', id)
    .groupBy('kind')
    .execute()
  const gold = await ctx.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('gold', 'is not', null).executeTakeFirst()
  const out: Record<string, { tasks: number; slots: number; labels: number }> = {}
  for (const t of tasks) out[t.kind] = { tasks: Number(t.n), slots: Number(t.slots), labels: 0 }
  for (const l of labels) (out[l.kind] ??= { tasks: 0, slots: 0, labels: 0 }).labels = Number(l.n)
  return { byKind: out, goldTasks: Number(gold?.n ?? 0) }
}
