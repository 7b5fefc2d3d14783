/**
 * Label quality, computed from stored labels (pure functions; no I/O).
 *
 * Merging rankings: Copeland's method over pairwise tallies (a Condorcet method). For every pair
 * of outputs (i, j) count the labelers who put i above j and j above i; the pair's winner scores
 * +1, the loser -1, a tied tally 0 each. Outputs are then ranked by Copeland score, equal scores
 * sharing a rank (dense). A Condorcet winner (beats every other output head to head) always comes
 * first; cycles end up as ties instead of being broken arbitrarily.
 *
 * Pairwise agreement of a ranking r with a reference ref: over the pairs the reference orders
 * strictly, 1 if r orders them the same way, 0.5 if r ties them, 0 if reversed; the mean.
 *
 * Reputation (qualityBps, 0..10000), per labeler:
 *   G = gold accuracy: mean pairwise agreement with gold answers
 *   A = agreement with consensus: mean agreement with the Copeland merge of the OTHER labelers of
 *       the same task (leave-one-out, so nobody agrees with themselves), tasks with >= 2 others
 *   R = review approval: approvals / reviews of the labeler's demonstrations
 *       (a gold task leased and left to expire unsubmitted counts as a failed one, agreement 0)
 *   each smoothed towards a prior of 0.5 with m = 2 pseudo-observations: (sum + m*0.5) / (n + m),
 *   so a newcomer starts at 0.5 and one lucky label does not make an expert;
 *   base = 0.5*G + 0.3*A + 0.2*R
 *   qualityBps = round(10000 * base * (1 - spamRate)), spamRate = share of their labels flagged.
 *
 * Spam / low-effort flags per label: too_fast (less than the kind's minimum time spent on it: from
 * when its content was first served, or from the labeler's previous submission in the campaign if
 * that came later, since one person works on one task at a time; claiming many tasks, waiting and
 * submitting them all at once is caught), duplicate_text (a demonstration whose normalised text the same labeler already
 * wrote, or that copies the prompt), constant_ranking (a ranking identical to the labeler's
 * previous 3 rankings, or all outputs tied).
 */
import type { LabelContent } from './content.ts'

/** servedAt: when the task's content was first sent to the labeler (assignments.first_served_at), if recorded. */
export type QualityLabel = { id: number; labelHash: string; taskId: number; labeler: string; kind: string; content: LabelContent; assignedAt: number; servedAt?: number | null; createdAt: number }
export type QualityTask = { id: number; kind: string; prompt: string; gold: { ranking: number[] } | null; k: number }
export type SpamThresholds = { minMsDemonstration: number; minMsRanking: number; minMsReview: number; constantRun: number }
export const DEFAULT_SPAM: SpamThresholds = { minMsDemonstration: 8000, minMsRanking: 4000, minMsReview: 2000, constantRun: 3 }

export type LabelerQuality = {
  address: string
  labels: number
  accepted: number
  agreement: number | null
  agreementN: number
  goldAccuracy: number | null
  goldTotal: number
  goldFailures: number
  reviewApproval: number | null
  reviews: number
  spamRate: number
  qualityBps: number
}

export type QualityReport = {
  labelers: LabelerQuality[]
  /** Consensus ranking per ranking task (non-gold), over accepted labels. */
  consensus: Map<number, { ranking: number[]; n: number; agreement: number | null }>
  spam: Map<number, string[]>
  /** Labels that go into datasets: not spam, not on gold tasks, not rejected in review. */
  accepted: Set<number>
  meanAgreement: number | null
}

/** Copeland merge of rankings (rank per item, 0 = best, ties allowed); dense ranks out. */
export function mergeRankings(rankings: readonly number[][], k: number): number[] {
  const score = new Array<number>(k).fill(0)
  for (let i = 0; i < k; i++)
    for (let j = i + 1; j < k; j++) {
      let iOverJ = 0
      let jOverI = 0
      for (const r of rankings) {
        if (r[i] < r[j]) iOverJ++
        else if (r[j] < r[i]) jOverI++
      }
      if (iOverJ > jOverI) {
        score[i]++
        score[j]--
      } else if (jOverI > iOverJ) {
        score[j]++
        score[i]--
      }
    }
  const distinct = [...new Set(score)].sort((a, b) => b - a)
  return score.map((s) => distinct.indexOf(s))
}

/** Pairwise agreement of `r` with `ref` over the pairs `ref` orders strictly; null if it orders none. */
export function pairAgreement(r: readonly number[], ref: readonly number[]): number | null {
  let n = 0
  let s = 0
  for (let i = 0; i < ref.length; i++)
    for (let j = i + 1; j < ref.length; j++) {
      if (ref[i] === ref[j]) continue
      n++
      const a = Math.sign(r[i] - r[j])
      const b = Math.sign(ref[i] - ref[j])
      s += a === b ? 1 : a === 0 ? 0.5 : 0
    }
  return n ? s / n : null
}

const normText = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()

export function detectSpam(labels: readonly QualityLabel[], tasks: Map<number, QualityTask>, t: SpamThresholds = DEFAULT_SPAM): Map<number, string[]> {
  const out = new Map<number, string[]>()
  const flag = (id: number, f: string) => {
    const l = out.get(id) ?? []
    if (!l.includes(f)) l.push(f)
    out.set(id, l)
  }
  const seenText = new Map<string, Set<string>>() // labeler -> normalised demonstration texts
  const recent = new Map<string, string[]>() // labeler -> last rankings (as strings)
  const lastAt = new Map<string, number>() // labeler -> time of their previous submission
  for (const l of [...labels].sort((a, b) => a.id - b.id)) {
    const start = Math.max(l.servedAt ?? l.assignedAt, lastAt.get(l.labeler) ?? -Infinity)
    lastAt.set(l.labeler, l.createdAt)
    const ms = l.createdAt - start
    const min = l.kind === 'demonstration' ? t.minMsDemonstration : l.kind === 'ranking' ? t.minMsRanking : t.minMsReview
    if (ms < min) flag(l.id, 'too_fast')
    if (l.kind === 'demonstration' && l.content.response !== undefined) {
      const n = normText(l.content.response)
      const set = seenText.get(l.labeler) ?? new Set<string>()
      const task = tasks.get(l.taskId)
      if (set.has(n) || (task && n === normText(task.prompt))) flag(l.id, 'duplicate_text')
      set.add(n)
      seenText.set(l.labeler, set)
    }
    if (l.kind === 'ranking' && l.content.ranking) {
      const r = l.content.ranking
      if (r.every((x) => x === 0)) flag(l.id, 'constant_ranking')
      const key = r.join(',')
      const prev = recent.get(l.labeler) ?? []
      if (prev.length >= t.constantRun && prev.slice(-t.constantRun).every((p) => p === key)) flag(l.id, 'constant_ranking')
      prev.push(key)
      if (prev.length > t.constantRun) prev.shift()
      recent.set(l.labeler, prev)
    }
  }
  return out
}

const smooth = (sum: number, n: number, m = 2, prior = 0.5) => (sum + m * prior) / (n + m)

/**
 * `missedGold`: per labeler, gold tasks they leased and let expire without submitting; each counts as
 * a failed gold task (otherwise skipping every task that looks hard would dodge gold checks).
 */
export function computeQuality(labels: readonly QualityLabel[], tasks: Map<number, QualityTask>, thresholds: SpamThresholds = DEFAULT_SPAM, missedGold: ReadonlyMap<string, number> = new Map()): QualityReport {
  const spam = detectSpam(labels, tasks, thresholds)
  const byLabeler = new Map<string, QualityLabel[]>()
  for (const l of labels) (byLabeler.get(l.labeler) ?? byLabeler.set(l.labeler, []).get(l.labeler)!).push(l)
  for (const a of missedGold.keys()) if (!byLabeler.has(a)) byLabeler.set(a, [])

  // Review outcomes, by reviewed label hash -> verdicts (spam reviews do not count).
  const labelByHash = new Map<string, QualityLabel>()
  for (const l of labels) labelByHash.set(l.labelHash, l)
  const verdicts = new Map<number, { approve: number; reject: number }>()
  for (const l of labels) {
    if (l.kind !== 'review' || spam.has(l.id) || !l.content.target) continue
    const target = labelByHash.get(l.content.target)
    if (!target) continue
    const v = verdicts.get(target.id) ?? { approve: 0, reject: 0 }
    if (l.content.verdict === 'approve') v.approve++
    else v.reject++
    verdicts.set(target.id, v)
  }

  // Ranking labels per non-gold task (spam excluded from consensus).
  const perTask = new Map<number, QualityLabel[]>()
  for (const l of labels) {
    const task = tasks.get(l.taskId)
    if (l.kind !== 'ranking' || !task || task.gold || spam.has(l.id) || !l.content.ranking) continue
    ;(perTask.get(l.taskId) ?? perTask.set(l.taskId, []).get(l.taskId)!).push(l)
  }
  const consensus: QualityReport['consensus'] = new Map()
  const agreeSum = new Map<string, { s: number; n: number }>()
  let allS = 0
  let allN = 0
  for (const [taskId, ls] of perTask) {
    const k = tasks.get(taskId)!.k
    consensus.set(taskId, { ranking: mergeRankings(ls.map((l) => l.content.ranking!), k), n: ls.length, agreement: null })
    let tS = 0
    let tN = 0
    for (const l of ls) {
      const others = ls.filter((o) => o !== l)
      if (others.length < 2) continue
      const a = pairAgreement(l.content.ranking!, mergeRankings(others.map((o) => o.content.ranking!), k))
      if (a === null) continue
      const acc = agreeSum.get(l.labeler) ?? { s: 0, n: 0 }
      acc.s += a
      acc.n++
      agreeSum.set(l.labeler, acc)
      tS += a
      tN++
    }
    if (tN) consensus.get(taskId)!.agreement = tS / tN
    allS += tS
    allN += tN
  }

  const accepted = new Set<number>()
  for (const l of labels) {
    const task = tasks.get(l.taskId)
    const v = verdicts.get(l.id)
    if (spam.has(l.id) || task?.gold || (v && v.reject > v.approve)) continue
    accepted.add(l.id)
  }

  const labelers: LabelerQuality[] = []
  for (const [address, ls] of byLabeler) {
    const missed = missedGold.get(address) ?? 0
    let gS = 0
    let gN = missed
    let gFail = missed
    let rA = 0
    let rN = 0
    let nSpam = 0
    for (const l of ls) {
      if (spam.has(l.id)) nSpam++
      const task = tasks.get(l.taskId)
      if (task?.gold && l.content.ranking) {
        const a = pairAgreement(l.content.ranking, task.gold.ranking) ?? 1
        gS += a
        gN++
        if (a < 0.75) gFail++
      }
      const v = verdicts.get(l.id)
      if (v) {
        rA += v.approve
        rN += v.approve + v.reject
      }
    }
    const ag = agreeSum.get(address)
    const G = smooth(gS, gN)
    const A = smooth(ag?.s ?? 0, ag?.n ?? 0)
    const R = smooth(rA, rN)
    const spamRate = ls.length ? nSpam / ls.length : 0
    const base = 0.5 * G + 0.3 * A + 0.2 * R
    labelers.push({
      address,
      labels: ls.length,
      accepted: ls.filter((l) => accepted.has(l.id)).length,
      agreement: ag?.n ? ag.s / ag.n : null,
      agreementN: ag?.n ?? 0,
      goldAccuracy: gN ? gS / gN : null,
      goldTotal: gN,
      goldFailures: gFail,
      reviewApproval: rN ? rA / rN : null,
      reviews: rN,
      spamRate,
      qualityBps: Math.max(0, Math.min(10000, Math.round(10000 * base * (1 - spamRate)))),
    })
  }
  labelers.sort((a, b) => (a.address < b.address ? -1 : 1))
  return { labelers, consensus, spam, accepted, meanAgreement: allN ? allS / allN : null }
}
