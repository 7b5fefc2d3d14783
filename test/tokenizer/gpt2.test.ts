import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEncoding } from 'js-tiktoken'
import { loadTokenizer, saveTokenizer } from '../../src/tokenizer/index.ts'
import { gpt2Cases, loadGpt2, rng, tempDir } from './helpers.ts'

// The real GPT-2 vocab.json + merges.txt (rebuilt from js-tiktoken's ranks, see
// test/fixtures/tokenizer/make-gpt2-fixture.ts), read by OUR reader, must give GPT-2's ids.

test('GPT-2 files load: 50257 tokens, <|endoftext|> = 50256, no other specials', () => {
  const tok = loadGpt2()
  assert.equal(tok.vocabSize, 50257)
  assert.equal(tok.eosId, 50256)
  assert.deepEqual([...tok.specialTokens], [['<|endoftext|>', 50256]])
  assert.equal(tok.tokenToId('Ġthe'), 262)
  assert.equal(tok.idToToken(15496), 'Hello')
  assert.throws(() => tok.padId, /no <\|pad\|> token/)
})

test('known GPT-2 encodings (fixture from js-tiktoken) are reproduced exactly', () => {
  const tok = loadGpt2()
  const cases = gpt2Cases()
  assert.ok(cases.length >= 20)
  for (const c of cases) {
    assert.deepEqual(tok.encode(c.text), c.ids, `encode ${JSON.stringify(c.text).slice(0, 60)}`)
    assert.equal(tok.decode(c.ids), c.text)
  }
  // A few ids everyone knows.
  assert.deepEqual(tok.encode('Hello world'), [15496, 995])
  assert.deepEqual(tok.encode(' the'), [262])
})

test('random mixed text: our encoder equals js-tiktoken gpt2 (differential)', () => {
  const tok = loadGpt2()
  const ref = getEncoding('gpt2')
  const rand = rng(42)
  const pool = [
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
    ...'     \n\n\t\r',
    ...".,;:!?'\"()[]{}<>/\\|@#$%^&*-_=+`~",
    "'s", "'ll", "'re", ' the', ' and', 'ing', 'tion', '0x', '=>',
    'é', 'ü', 'ß', 'ñ', '中', '文', 'ア', 'ا', 'ж', 'Ω', '∑', '€', '\u00a0', '\u200b', '\u3000',
    '🚀', '👩‍💻', '🇺🇸', '\ud83d', '\udc00',
  ]
  for (let n = 0; n < 300; n++) {
    const len = 1 + Math.floor(rand() * 60)
    let s = ''
    for (let i = 0; i < len; i++) s += pool[Math.floor(rand() * pool.length)]
    assert.deepEqual(tok.encode(s), ref.encode(s, [], []), `text ${JSON.stringify(s)}`)
  }
  // Long words take the heap-based merge path (> 256 bytes); results must not change.
  for (const s of ['ab'.repeat(400), ' '.repeat(1000) + 'x', 'x'.repeat(777), '🚀'.repeat(100), 'a1'.repeat(300) + ' ' + 'é'.repeat(500)])
    assert.deepEqual(tok.encode(s), ref.encode(s, [], []), `long ${s.slice(0, 20)}…`)
})

test('GPT-2 written as tokenizer.json and read back: same ids and fingerprint', async (t) => {
  const tok = loadGpt2()
  const dir = tempDir(t)
  await saveTokenizer(dir, tok, { formats: ['hf'] })
  const back = loadTokenizer(dir)
  assert.equal(back.fingerprint, tok.fingerprint)
  assert.equal(back.vocabSize, 50257)
  for (const c of gpt2Cases().slice(0, 8)) assert.deepEqual(back.encode(c.text), c.ids)
})
