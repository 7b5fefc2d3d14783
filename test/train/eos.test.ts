// The one EOS rule of PPO scoring, SFT selection and the evaluation's judge (src/train/rl/eos.ts): score
// the response closed by EOS, the form reward models are trained on (EOS appended to a truncated one,
// for scoring only), and subtract the missing-EOS penalty where no EOS was sampled.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scoredSequence, penalizeMissingEos } from '../../src/train/rl/eos.ts'
import { formatExample, formatPrompt } from '../../src/tokenizer/index.ts'
import { tinyTokenizer } from './rl-helpers.ts'

test('scoredSequence: a response with EOS is scored as sampled; a truncated one gets an EOS appended', () => {
  const EOS = 0
  assert.deepEqual(scoredSequence([5, 6], [7, 8, EOS], EOS), [5, 6, 7, 8, EOS])
  assert.deepEqual(scoredSequence([5, 6], [7, 8, 9], EOS), [5, 6, 7, 8, 9, EOS])
  assert.deepEqual(scoredSequence([5, 6], [], EOS), [5, 6, EOS])
  const prompt = [1]
  const response = [2]
  scoredSequence(prompt, response, EOS)
  assert.deepEqual([prompt, response], [[1], [2]], 'the arrays are not modified')
})

test('scoredSequence gives exactly the ids a reward model was trained on (formatExample), cut or finished', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-eos-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const tok = await tinyTokenizer(dir)
  const prompt = 'question number', response = 'the answer is good'
  const trained = formatExample(tok, prompt, response).ids
  const p = formatPrompt(tok, prompt)
  const r = tok.encode(response)
  assert.deepEqual(scoredSequence(p, r, tok.eosId), trained, 'cut at maxNewTokens (no EOS sampled)')
  assert.deepEqual(scoredSequence(p, [...r, tok.eosId], tok.eosId), trained, 'ended with a sampled EOS')
})

test('penalizeMissingEos: only rows without EOS lose the penalty; no penalty leaves scores as they are', () => {
  assert.deepEqual(penalizeMissingEos([1, 2, 3], [true, false, true], 0.5), [1, 1.5, 3])
  assert.deepEqual(penalizeMissingEos([1, 2], [false, false]), [1, 2])
  assert.deepEqual(penalizeMissingEos([1, 2], [false, false], 0), [1, 2])
})
