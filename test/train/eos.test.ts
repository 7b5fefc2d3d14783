// The one EOS rule of PPO scoring, SFT selection and evaluation (src/train/rl/eos.ts): score the response
// as sampled (nothing appended to a truncated one) and subtract the missing-EOS penalty only there.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { scoredSequence, penalizeMissingEos } from '../../src/train/rl/eos.ts'

test('scoredSequence: a response with EOS keeps it as the last (scored) token; a truncated one gets none appended', () => {
  const EOS = 0
  assert.deepEqual(scoredSequence([5, 6], [7, 8, EOS]), [5, 6, 7, 8, EOS])
  assert.deepEqual(scoredSequence([5, 6], [7, 8, 9]), [5, 6, 7, 8, 9])
  const prompt = [1]
  scoredSequence(prompt, [2])
  assert.deepEqual(prompt, [1], 'the prompt array is not modified')
})

test('penalizeMissingEos: only rows without EOS lose the penalty; no penalty leaves scores as they are', () => {
  assert.deepEqual(penalizeMissingEos([1, 2, 3], [true, false, true], 0.5), [1, 1.5, 3])
  assert.deepEqual(penalizeMissingEos([1, 2], [false, false]), [1, 2])
  assert.deepEqual(penalizeMissingEos([1, 2], [false, false], 0), [1, 2])
})
