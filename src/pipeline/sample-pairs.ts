/**
 * Reward-model accuracy on held-out pairs of two SFT samples (the rows `samples.ts` adds, ranked by the
 * crowd's closeness rule), per task, with a bootstrap 95% interval over those rows. This is the
 * distinction PPO's advantages depend on: which of the policy's own samples is better.
 */
import { loadRewardModel } from '../model/reward-model.ts'
import { comparisonPairs, type Comparison } from '../data/formats.ts'
import { isRankingRow } from './ranking-rows.ts'
import { meanInterval, type BootstrapOptions, type Interval } from './bootstrap.ts'

export type SamplePairAccuracy = { task: string; accuracy: Interval; rows: number; pairs: number }

/**
 * Per task (and "all"): the mean over ranking rows of the share of their untied pairs the reward
 * model orders as the row does. Rows of comparisons without a task count under "all" only.
 */
export function samplePairAccuracy(modelDir: string, comparisons: readonly Comparison[], opts: BootstrapOptions = {}): SamplePairAccuracy[] {
  const rows = comparisons.filter((c) => isRankingRow(c) && comparisonPairs(c).length > 0)
  if (!rows.length) return []
  const rm = loadRewardModel(modelDir)
  let rewards: number[][]
  try {
    rewards = rm.scoreResponses(rows.map((c) => ({ prompt: c.prompt, responses: c.responses })))
  } finally {
    rm.dispose()
  }
  const acc = rows.map((c, i) => {
    const ps = comparisonPairs(c)
    return ps.filter(([w, l]) => rewards[i][w] > rewards[i][l]).length / ps.length
  })
  return accuracyByTask(rows, acc, opts)
}

/** Group per-row accuracies by task (plus "all") with an interval each; sorted by rows, "all" first. */
export function accuracyByTask(rows: ReadonlyArray<Pick<Comparison, 'task' | 'ranking'>>, acc: number[], opts: BootstrapOptions = {}): SamplePairAccuracy[] {
  const groups = new Map<string, number[]>([['all', rows.map((_, i) => i)]])
  rows.forEach((c, i) => {
    if (c.task === undefined) return
    if (!groups.has(c.task)) groups.set(c.task, [])
    groups.get(c.task)!.push(i)
  })
  return [...groups].map(([task, idx]) => ({
    task,
    accuracy: meanInterval(idx.map((i) => [acc[i]]), opts),
    rows: idx.length,
    pairs: idx.reduce((s, i) => s + comparisonPairs(rows[i]).length, 0),
  })).sort((a, b) => (a.task === 'all' ? -1 : b.task === 'all' ? 1 : b.rows - a.rows))
}
