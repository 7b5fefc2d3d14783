/** rewardJudgeAgreement: pair agreement and the judge's view of the reward model's best-of-n, against hand counts. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rewardJudgeAgreement } from '../../src/pipeline/reward-judge.ts'

test('reward model vs judge: agreement over untied pairs per prompt, best-of-(S-1) judged against the last sample', () => {
  const judge = [
    [1, 2, 3, 4],
    [4, 3, 2, 1],
    [0, 0, 1, 5],
  ]
  const same = rewardJudgeAgreement(judge, judge, { resamples: 200, seed: 1 })!
  assert.equal(same.agreement.value, 1)
  assert.equal(same.pairs, 6 + 6 + 5) // prompt 3: its tied pair (0, 0) is left out
  assert.equal(same.bestOf, 3)
  // best of the first 3 by the judge itself vs the 4th: 3 < 4 (loss), 4 > 1 (win), 1 < 5 (loss)
  assert.ok(Math.abs(same.bestOfWinRate!.value - 1 / 3) < 1e-12)
  const opposite = rewardJudgeAgreement(judge.map((r) => r.map((x) => -x)), judge, { resamples: 200, seed: 1 })!
  assert.equal(opposite.agreement.value, 0)
  // a reward model that agrees on one prompt only: mean over prompts of each prompt's share
  const mixed = rewardJudgeAgreement([judge[0], judge[1].map((x) => -x), [7, 7, 7, 7]], judge, { resamples: 200, seed: 1 })!
  assert.equal(mixed.prompts, 2, 'a prompt where the reward model ties everything has no pair')
  assert.equal(mixed.agreement.value, 0.5)
  assert.ok(mixed.agreement.lo <= 0.5 && mixed.agreement.hi >= 0.5)
  // one sample per prompt: nothing to compare
  assert.equal(rewardJudgeAgreement([[1], [2]], [[1], [2]]), undefined)
  // two samples: agreement, no best-of
  assert.equal(rewardJudgeAgreement([[1, 2]], [[3, 4]])!.bestOfWinRate, undefined)
})
