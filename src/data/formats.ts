/**
 * The pipeline's data formats (JSON Lines), validated at load.
 *
 *  - prompts:        {id?, prompt, task?, reference?}
 *  - demonstrations: {id?, prompt, response, labeler?, signature?, task?}
 *  - comparisons:    InstructGPT form {id?, prompt, responses (K 2..9), ranking (rank per response,
 *                    0 = best, ties share a rank, dense), likert? 1..7, flags?, synthetic?, labelers?, signatures?}
 *  - pairs:          {prompt, chosen, rejected}, read by `loadComparisons` as the K = 2 case.
 *
 * Every validation error is an Instruct3Error whose details name file, line and field, so a bad
 * row in a 100k-line file can be found and fixed without guessing.
 */
import { Instruct3Error, type ErrorCode, type ErrorDetails } from '../util/errors.ts'
import { readJsonl } from '../util/jsonl.ts'
import { writeFileAtomic } from '../util/atomic.ts'

export type PromptRecord = { id?: string; prompt: string; task?: string; reference?: string }

export type Demonstration = {
  id?: string
  prompt: string
  response: string
  labeler?: string
  signature?: string
  task?: string
}

export type Comparison = {
  id?: string
  prompt: string
  responses: string[]
  /** ranking[i] is the rank of responses[i]: 0 = best, ties share a rank, ranks are dense (0..m). */
  ranking: number[]
  /** Optional Likert 1..7 quality score per response. */
  likert?: number[]
  flags?: Record<string, boolean>
  /** True when the comparison was built by a program rather than judged by a person. */
  synthetic?: boolean
  /**
   * Where each response came from ("reference", "truncated", "other-item", "shuffled", a model name...),
   * so a reward model's accuracy can be reported per kind of pair.
   */
  origins?: string[]
  task?: string
  labelers?: string[]
  signatures?: string[]
}

export type PreferencePair = { id?: string; prompt: string; chosen: string; rejected: string }

export const MIN_K = 2
export const MAX_K = 9

/** Where a row came from, for error messages. */
export type Where = { file?: string; line?: number }

function fail(msg: string, where: Where, field: string | undefined, code: ErrorCode = 'EFORMAT'): never {
  const details: ErrorDetails = { ...where }
  if (field !== undefined) details.field = field
  throw new Instruct3Error(msg, { code, details })
}

function asObject(v: unknown, where: Where): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('row must be a JSON object', where, undefined)
  return v as Record<string, unknown>
}

function reqString(o: Record<string, unknown>, key: string, where: Where, nonEmpty = true): string {
  const v = o[key]
  if (v === undefined || v === null) fail('missing required field', where, key)
  if (typeof v !== 'string') fail(`must be a string, got ${typeName(v)}`, where, key)
  if (nonEmpty && v.trim() === '') fail('must not be empty', where, key)
  return v
}

function optString(o: Record<string, unknown>, key: string, where: Where): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') fail(`must be a string, got ${typeName(v)}`, where, key)
  return v
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function optStringArray(o: Record<string, unknown>, key: string, k: number, where: Where): string[] | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) fail('must be an array of strings', where, key)
  if (v.length !== k) fail(`must have one entry per response (${k}), got ${v.length}`, where, key)
  v.forEach((x, i) => {
    if (typeof x !== 'string') fail('must be a string', where, `${key}[${i}]`)
  })
  return v as string[]
}

/** Validate one prompt row. */
export function parsePrompt(value: unknown, where: Where = {}): PromptRecord {
  const o = asObject(value, where)
  const out: PromptRecord = { prompt: reqString(o, 'prompt', where) }
  const id = optString(o, 'id', where)
  const task = optString(o, 'task', where)
  const reference = optString(o, 'reference', where)
  if (id !== undefined) out.id = id
  if (task !== undefined) out.task = task
  if (reference !== undefined) out.reference = reference
  return out
}

/** Validate one demonstration row. */
export function parseDemonstration(value: unknown, where: Where = {}): Demonstration {
  const o = asObject(value, where)
  const out: Demonstration = { prompt: reqString(o, 'prompt', where), response: reqString(o, 'response', where) }
  for (const k of ['id', 'labeler', 'signature', 'task'] as const) {
    const v = optString(o, k, where)
    if (v !== undefined) out[k] = v
  }
  return out
}

/**
 * Check that `ranking` is a permutation with ties: integers, dense ranks starting at 0
 * (e.g. [0,1,1,2] or [1,0,0]); throws naming the field otherwise.
 */
export function validateRanking(ranking: unknown, k: number, where: Where = {}, field = 'ranking'): number[] {
  if (!Array.isArray(ranking)) fail('must be an array of ranks', where, field)
  if (ranking.length !== k) fail(`must have one rank per response (${k}), got ${ranking.length}`, where, field)
  const seen = new Set<number>()
  ranking.forEach((r, i) => {
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) fail(`rank must be an integer >= 0, got ${JSON.stringify(r)}`, where, `${field}[${i}]`)
    seen.add(r)
  })
  // Dense: the distinct ranks must be exactly 0..m-1; a gap (e.g. [0,2]) is not a ranking with ties.
  for (let r = 0; r < seen.size; r++) {
    if (!seen.has(r)) fail(`not a permutation with ties: ranks must be dense from 0 (missing rank ${r} in ${JSON.stringify(ranking)})`, where, field)
  }
  return ranking as number[]
}

/** Validate one comparison row; a {prompt, chosen, rejected} row is read as the K = 2 case. */
export function parseComparison(value: unknown, where: Where = {}): Comparison {
  const o = asObject(value, where)
  if (o.responses === undefined && (o.chosen !== undefined || o.rejected !== undefined)) return pairToComparison(parsePair(o, where))
  const prompt = reqString(o, 'prompt', where)
  const responses = o.responses
  if (responses === undefined || responses === null) fail('missing required field', where, 'responses')
  if (!Array.isArray(responses)) fail('must be an array of strings', where, 'responses')
  const k = responses.length
  if (k < MIN_K || k > MAX_K) fail(`K out of range: need ${MIN_K}..${MAX_K} responses, got ${k}`, where, 'responses')
  responses.forEach((r, i) => {
    if (typeof r !== 'string') fail(`must be a string, got ${typeName(r)}`, where, `responses[${i}]`)
    if (r.trim() === '') fail('empty response', where, `responses[${i}]`)
  })
  if (o.ranking === undefined || o.ranking === null) fail('missing required field', where, 'ranking')
  const ranking = validateRanking(o.ranking, k, where)
  const out: Comparison = { prompt, responses: responses as string[], ranking }
  const id = optString(o, 'id', where)
  if (id !== undefined) out.id = id
  const task = optString(o, 'task', where)
  if (task !== undefined) out.task = task
  if (o.likert !== undefined && o.likert !== null) {
    if (!Array.isArray(o.likert) || o.likert.length !== k) fail(`must be an array of ${k} scores`, where, 'likert')
    o.likert.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 7) fail(`Likert score must be an integer 1..7, got ${JSON.stringify(x)}`, where, `likert[${i}]`)
    })
    out.likert = o.likert as number[]
  }
  if (o.flags !== undefined && o.flags !== null) {
    if (typeof o.flags !== 'object' || Array.isArray(o.flags)) fail('must be an object of booleans', where, 'flags')
    for (const [fk, fv] of Object.entries(o.flags as object)) if (typeof fv !== 'boolean') fail('must be a boolean', where, `flags.${fk}`)
    out.flags = o.flags as Record<string, boolean>
  }
  if (o.synthetic !== undefined && o.synthetic !== null) {
    if (typeof o.synthetic !== 'boolean') fail('must be a boolean', where, 'synthetic')
    out.synthetic = o.synthetic
  }
  const labelers = optStringArray(o, 'labelers', k, where)
  if (labelers) out.labelers = labelers
  const signatures = optStringArray(o, 'signatures', k, where)
  if (signatures) out.signatures = signatures
  const origins = optStringArray(o, 'origins', k, where)
  if (origins) out.origins = origins
  return out
}

/** Validate a {prompt, chosen, rejected} row. */
export function parsePair(value: unknown, where: Where = {}): PreferencePair {
  const o = asObject(value, where)
  const out: PreferencePair = { prompt: reqString(o, 'prompt', where), chosen: reqString(o, 'chosen', where), rejected: reqString(o, 'rejected', where) }
  const id = optString(o, 'id', where)
  if (id !== undefined) out.id = id
  return out
}

export function pairToComparison(p: PreferencePair): Comparison {
  const c: Comparison = { prompt: p.prompt, responses: [p.chosen, p.rejected], ranking: [0, 1] }
  if (p.id !== undefined) c.id = p.id
  return c
}

/**
 * All C(K,2) (winner, loser) index pairs of a comparison, ties excluded. InstructGPT's reward
 * loss sums over exactly these pairs for one prompt.
 */
export function comparisonPairs(c: Pick<Comparison, 'ranking'>): Array<[winner: number, loser: number]> {
  const out: Array<[number, number]> = []
  const r = c.ranking
  for (let i = 0; i < r.length; i++)
    for (let j = i + 1; j < r.length; j++) {
      if (r[i] < r[j]) out.push([i, j])
      else if (r[j] < r[i]) out.push([j, i])
    }
  return out
}

// ---- loaders (streaming + whole-file) ----

export type LoadOptions = {
  /** Report and skip bad rows instead of throwing on the first (the count is in the callback's calls). */
  onError?: (err: Instruct3Error) => void
}

async function* stream<T>(file: string, parse: (v: unknown, w: Where) => T, opts: LoadOptions): AsyncGenerator<T> {
  for await (const row of readJsonl(file, opts.onError ? { onError: opts.onError } : {})) {
    try {
      yield parse(row.value, { file: row.file, line: row.line })
    } catch (err) {
      if (opts.onError && err instanceof Instruct3Error) opts.onError(err)
      else throw err
    }
  }
}

async function collect<T>(it: AsyncIterable<T>, file: string, what: string): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  if (out.length === 0) throw new Instruct3Error(`no ${what} in file`, { code: 'EEMPTY', details: { file } })
  return out
}

export const streamPrompts = (file: string, opts: LoadOptions = {}) => stream(file, parsePrompt, opts)
export const streamDemonstrations = (file: string, opts: LoadOptions = {}) => stream(file, parseDemonstration, opts)
export const streamComparisons = (file: string, opts: LoadOptions = {}) => stream(file, parseComparison, opts)

/** Load and validate a prompts file; an empty file is an error. */
export const loadPrompts = (file: string, opts: LoadOptions = {}) => collect(streamPrompts(file, opts), file, 'prompts')
export const loadDemonstrations = (file: string, opts: LoadOptions = {}) => collect(streamDemonstrations(file, opts), file, 'demonstrations')
/** Load comparisons; {prompt, chosen, rejected} rows are accepted as K = 2. */
export const loadComparisons = (file: string, opts: LoadOptions = {}) => collect(streamComparisons(file, opts), file, 'comparisons')

// ---- writers (validate, then write atomically) ----

async function write<T>(file: string, rows: Iterable<T>, parse: (v: unknown, w: Where) => T): Promise<number> {
  let n = 0
  const lines: string[] = []
  for (const r of rows) {
    n++
    parse(r, { file, line: n }) // refuse to write what we would refuse to read
    lines.push(JSON.stringify(r) + '\n')
  }
  await writeFileAtomic(file, lines.join(''))
  return n
}

export const writePrompts = (file: string, rows: Iterable<PromptRecord>) => write(file, rows, parsePrompt)
export const writeDemonstrations = (file: string, rows: Iterable<Demonstration>) => write(file, rows, parseDemonstration)
export const writeComparisons = (file: string, rows: Iterable<Comparison>) => write(file, rows, parseComparison)
