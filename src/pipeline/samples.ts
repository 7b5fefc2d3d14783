/**
 * The `samples` stage: every comparison gets `perPrompt` more responses, samples of the SFT model
 * (temperature 1, the distribution PPO starts from), ranked with the wrong answers and marked
 * `origins: "sft-sample"`. With two or more distinct samples, a second row follows it (same prompt, id
 * + `#sft-ranking`) that ranks the samples among themselves by the simulated crowd's rule, closeness to
 * the reference (`crowdScore`, src/data/text-match.ts); samples with equal scores tie.
 *
 * With `balanceLength`, the ranking rows are pairs (K = 2, same id), chosen so that in each set the
 * longer sample wins exactly as often as the shorter one: the crowd's closeness is an F1 to a short
 * reference, and on the SFT model's samples the longer one is the closer in about 70% of pairs, so
 * unbalanced rows teach a reward model length before content (issue 18). Pairs where the longer sample
 * wins are dropped at random (seeded) down to the count of those where the shorter one wins (or the
 * other way round); pairs of equal length are kept.
 *
 * InstructGPT's labelers ranked *model outputs*. A reward model that has only seen references and
 * their corruptions has never seen what the policy writes, and PPO optimises exactly there. With the
 * samples it learns that the reference beats the policy's own attempt (the signal PPO climbs), and the
 * evaluation reports its accuracy on those pairs separately (`reference > sft-sample`). The ranking rows
 * teach what PPO needs most: which of the policy's own samples is better (`sft-sample > sft-sample`).
 */
import { writeFileAtomicSync } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'
import { toJsonl } from '../util/jsonl.ts'
import { MAX_K, type Comparison } from '../data/formats.ts'
import { loadPolicy } from '../model/policy.ts'
import { createRng } from '../model/rng.ts'
import { shuffled } from '../train/collate.ts'
import { fitPrompt, formatPrompt } from '../tokenizer/index.ts'
import { crowdScore } from '../data/text-match.ts'
import { SAMPLE_RANKING_SUFFIX } from './ranking-rows.ts'

export type AddSamplesInit = {
  policyDir: string
  /** Comparisons in, and the file each augmented set goes to. */
  sets: Array<{ rows: Comparison[]; to: string }>
  maxNewTokens: number
  /** Samples per comparison (default 1); with >= 2, a ranking row per comparison (see above). */
  perPrompt?: number
  seed: number
  /** Prompts generated per batch (one compiled shape). */
  batchSize?: number
  origin?: string
  /** Length-balanced ranking pairs (above). */
  balanceLength?: boolean
}

/**
 * `emptyOrDuplicate` counts samples left out: empty, equal to a response already there, or too long to
 * fit. `rankingRows`: rows added that rank two or more samples (`tiedRankings` of them tie them all and
 * are left out).
 */
export type AddSamplesResult = {
  comparisons: number
  added: number
  emptyOrDuplicate: number
  meanTokens: number
  rankingRows: number
  tiedRankings: number
  /** With balanceLength: ranking pairs the longer / the shorter sample won before balancing, and pairs dropped. */
  longerWins?: number
  shorterWins?: number
  droppedForBalance?: number
}

export async function addPolicySamples(init: AddSamplesInit): Promise<AddSamplesResult> {
  const policy = await loadPolicy(init.policyDir)
  const tok = policy.tokenizer
  const nCtx = policy.checkpoint.config.nCtx
  const B = init.batchSize ?? 32
  const origin = init.origin ?? 'sft-sample'
  const rng = createRng(init.seed)
  const S = init.perPrompt ?? 1
  if (!Number.isInteger(S) || S < 1) throw new Instruct3Error(`must be an integer >= 1, got ${S}`, { code: 'ECONFIG', details: { field: 'perPrompt' } })
  const res: AddSamplesResult = { comparisons: 0, added: 0, emptyOrDuplicate: 0, meanTokens: 0, rankingRows: 0, tiedRankings: 0 }
  let tokens = 0
  try {
    for (const f of init.sets) {
      const rows = f.rows
      // tokens of the longest existing response; room for it and for the sample (+ EOS): the prompt is refitted once for both
      const longest = rows.map((c) => Math.max(...c.responses.map((r) => tok.encode(r).length)))
      // (a comparison whose own responses cannot fit still gets a sample prompt; the check below leaves it as it is)
      const prompts = rows.map((c, i) => fitPrompt(tok, c.prompt, nCtx, Math.max(init.maxNewTokens, longest[i]) + 1) ?? fitPrompt(tok, c.prompt, nCtx, init.maxNewTokens + 1) ?? '')
      const promptIds = prompts.map((p) => formatPrompt(tok, p))
      // S passes over the comparisons, batch by batch: samples[i][s]
      const samples: Array<Array<{ text: string; tokens: number }>> = rows.map(() => [])
      for (let s = 0; s < S; s++)
        for (let i = 0; i < rows.length; i += B) {
          const ids = promptIds.slice(i, i + B)
          const n = ids.length
          while (ids.length < B) ids.push(ids[0]) // one batch shape: pad with a repeat, ignored
          const g = policy.generateIds(ids, { maxNewTokens: init.maxNewTokens, temperature: 1, eosId: tok.eosId, rng })
          for (let j = 0; j < n; j++) {
            const body = g.finished[j] ? g.tokens[j].slice(0, -1) : g.tokens[j]
            samples[i + j].push({ text: tok.decode(body, { skipSpecial: true }).trim(), tokens: body.length })
          }
        }
      const out: Comparison[] = []
      // ranking rows, each to go right after the comparison at out[pos]
      const ranking: Array<{ pos: number; rows: Comparison[] }> = []
      for (const [i, row] of rows.entries()) {
        let c = row
        const kept: string[] = []
        for (const { text, tokens: n } of samples[i]) {
          const origins = c.origins ?? c.responses.map((_, k) => (k === 0 ? 'reference' : 'unknown'))
          const worst = Math.max(...c.ranking)
          if (!text || c.responses.includes(text) || c.responses.length >= MAX_K) {
            res.emptyOrDuplicate++
            continue
          }
          // decoded text can re-encode longer than the sampled ids (bytes that were not UTF-8): refit if needed
          const need = Math.max(longest[i], tok.encode(text).length) + 1
          const prompt = promptIds[i].length + need <= nCtx ? prompts[i] : fitPrompt(tok, c.prompt, nCtx, need)
          if (prompt === null) {
            res.emptyOrDuplicate++
            continue
          }
          longest[i] = Math.max(longest[i], tok.encode(text).length)
          tokens += n
          res.added++
          kept.push(text)
          // ranked with the wrong answers: below the reference, no order among the wrong ones
          c = { ...c, prompt, responses: [...c.responses, text], ranking: [...c.ranking, Math.max(worst, 1)], origins: [...origins, origin] }
        }
        out.push(c)
        if (kept.length < 2) continue
        const ranked = init.balanceLength ? rankingPairs(c, kept, origin) : rankingRow(c, kept, origin)
        if (ranked === null) res.tiedRankings++
        else if (ranked) ranking.push({ pos: out.length - 1, rows: Array.isArray(ranked) ? ranked : [ranked] })
      }
      if (init.balanceLength) balanceByLength(ranking, (t) => tok.encode(t).length, createRng(init.seed * 7919 + 31), res)
      const merged: Comparison[] = []
      let next = 0
      out.forEach((c, pos) => {
        merged.push(c)
        for (; next < ranking.length && ranking[next].pos === pos; next++) merged.push(...ranking[next].rows)
      })
      res.rankingRows += ranking.reduce((n, r) => n + r.rows.length, 0)
      res.comparisons += rows.length
      writeFileAtomicSync(f.to, toJsonl(merged))
    }
  } finally {
    policy.dispose()
  }
  res.meanTokens = res.added ? tokens / res.added : 0
  return res
}

/**
 * The row that ranks a comparison's samples among themselves by `crowdScore` to its reference (the
 * response of rank 0); undefined when the comparison has no id (the reward/judge split keys on it), null
 * when every sample scores the same (no pair to learn from).
 */
export function rankingRow(c: Comparison, samples: string[], origin: string): Comparison | null | undefined {
  if (c.id === undefined) return undefined
  const reference = c.responses[c.ranking.indexOf(0)]
  const scores = samples.map((t) => crowdScore(t, reference))
  const distinct = [...new Set(scores)].sort((a, b) => b - a)
  if (distinct.length < 2) return null
  return {
    id: c.id + SAMPLE_RANKING_SUFFIX,
    prompt: c.prompt,
    responses: samples,
    ranking: scores.map((s) => distinct.indexOf(s)),
    synthetic: true,
    origins: samples.map(() => origin),
    ...(c.task !== undefined ? { task: c.task } : {}),
  }
}

/** The comparison's samples as ranking pairs (K = 2, untied, winner first), or null when all tie. */
export function rankingPairs(c: Comparison, samples: string[], origin: string): Comparison[] | null | undefined {
  const row = rankingRow(c, samples, origin)
  if (!row) return row
  const pairs: Comparison[] = []
  for (let a = 0; a < samples.length; a++)
    for (let b = a + 1; b < samples.length; b++) {
      const [ra, rb] = [row.ranking[a], row.ranking[b]]
      if (ra === rb) continue
      const [w, l] = ra < rb ? [a, b] : [b, a]
      pairs.push({ ...row, responses: [samples[w], samples[l]], ranking: [0, 1], origins: [origin, origin] })
    }
  return pairs
}

/**
 * Drop ranking pairs at random until the longer response wins as often as the shorter one (pairs of
 * equal length stay). Counts go to `res`; the groups are edited in place.
 */
export function balanceByLength(groups: Array<{ rows: Comparison[] }>, length: (text: string) => number, rng: { next(): number }, res: Pick<AddSamplesResult, 'longerWins' | 'shorterWins' | 'droppedForBalance'>): void {
  const side = (r: Comparison) => Math.sign(length(r.responses[0]) - length(r.responses[1])) // +1: the longer won
  const longer: Comparison[] = [], shorter: Comparison[] = []
  for (const g of groups) for (const r of g.rows) (side(r) > 0 ? longer : side(r) < 0 ? shorter : []).push(r)
  const [major, minor] = longer.length > shorter.length ? [longer, shorter] : [shorter, longer]
  const drop = new Set(shuffled(major, () => rng.next()).slice(minor.length))
  for (const g of groups) g.rows = g.rows.filter((r) => !drop.has(r))
  res.longerWins = (res.longerWins ?? 0) + longer.length
  res.shorterWins = (res.shorterWins ?? 0) + shorter.length
  res.droppedForBalance = (res.droppedForBalance ?? 0) + drop.size
}
