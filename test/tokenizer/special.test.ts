import { test } from 'node:test'
import assert from 'node:assert/strict'
import { trainBpe, withSpecialTokens, DEFAULT_SPECIAL_TOKENS, EOS_TOKEN } from '../../src/tokenizer/index.ts'
import { loadGpt2, SMALL_CORPUS } from './helpers.ts'

test('special tokens are plain text unless allowSpecial is set', async () => {
  const tok = await trainBpe(SMALL_CORPUS, { vocabSize: 400 })
  const text = 'a<|endoftext|>b<|user|><|pad|>'
  const plain = tok.encode(text)
  for (const id of plain) assert.ok(!tok.isSpecial(id))
  assert.equal(tok.decode(plain), text)
  const withSp = tok.encode(text, { allowSpecial: true })
  assert.deepEqual(withSp.filter((id) => tok.isSpecial(id)), [tok.eosId, tok.userId, tok.padId])
  assert.equal(tok.decode(withSp), text)
  assert.equal(tok.decode(withSp, { skipSpecial: true }), 'ab')
  // encodeBytes never produces special tokens either.
  assert.ok(tok.encodeBytes(new TextEncoder().encode(text)).every((id) => !tok.isSpecial(id)))
})

test('GPT-2: <|endoftext|> with allowSpecial is 50256, without it is ordinary text', () => {
  const tok = loadGpt2()
  assert.deepEqual(tok.encode('<|endoftext|>', { allowSpecial: true }), [50256])
  assert.deepEqual(tok.encode('<|endoftext|>'), [27, 91, 437, 1659, 5239, 91, 29])
})

test('withSpecialTokens adds the chat markers and PAD to plain GPT-2 at the end', () => {
  const gpt2 = loadGpt2()
  const tok = withSpecialTokens(gpt2, DEFAULT_SPECIAL_TOKENS)
  assert.equal(tok.vocabSize, 50257 + 4)
  assert.equal(tok.eosId, 50256)
  assert.equal(tok.padId, 50257)
  assert.equal(tok.assistantId, 50260)
  assert.notEqual(tok.fingerprint, gpt2.fingerprint)
  assert.equal(withSpecialTokens(tok, [EOS_TOKEN]), tok)
  assert.throws(() => withSpecialTokens(gpt2, ['hello']), /already an ordinary token/)
})

test('the trained special-token layout does not depend on vocabSize', async () => {
  const a = await trainBpe(SMALL_CORPUS, { vocabSize: 300 })
  const b = await trainBpe(SMALL_CORPUS, { vocabSize: 500 })
  assert.deepEqual([...a.specialTokens], [...b.specialTokens])
})
