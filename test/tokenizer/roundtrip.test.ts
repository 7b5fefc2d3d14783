import { test } from 'node:test'
import assert from 'node:assert/strict'
import { trainBpe } from '../../src/tokenizer/index.ts'
import { splitUtf8 } from '../../src/tokenizer/bytes.ts'
import { loadGpt2, rng, SMALL_CORPUS } from './helpers.ts'

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    // Mix of ASCII, spaces and arbitrary (often invalid UTF-8) bytes.
    const r = rand()
    b[i] = r < 0.4 ? 97 + Math.floor(rand() * 26) : r < 0.55 ? 32 : Math.floor(rand() * 256)
  }
  return b
}

test('decodeBytes(encodeBytes(b)) === b for random bytes, invalid UTF-8 included', async () => {
  const trained = await trainBpe(SMALL_CORPUS, { vocabSize: 400 })
  const tokenizers = [trained, loadGpt2()]
  const rand = rng(7)
  for (const tok of tokenizers) {
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(rand, Math.floor(rand() * 300))
      const ids = tok.encodeBytes(b)
      assert.deepEqual(tok.decodeBytes(ids), b)
      for (const id of ids) assert.ok(!tok.isSpecial(id), 'raw bytes never produce special tokens')
    }
    // Every single byte value, and the classic invalid sequences.
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    assert.deepEqual(tok.decodeBytes(tok.encodeBytes(all)), all)
    for (const bad of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff, 0xfe, 0x41]]) {
      const b = Uint8Array.from(bad)
      assert.deepEqual(tok.decodeBytes(tok.encodeBytes(b)), b)
    }
  }
})

test('valid UTF-8 encodes the same via encode(text) and encodeBytes(utf8(text))', () => {
  const tok = loadGpt2()
  for (const s of ['Hello world', ' naïve 日本語 🚀\n\n  x', SMALL_CORPUS.join('\n')]) {
    assert.deepEqual(tok.encodeBytes(new TextEncoder().encode(s)), tok.encode(s))
    assert.equal(tok.decode(tok.encode(s)), s)
  }
})

test('decode of a cut multi-byte character is lossy (U+FFFD) but decodeBytes is exact', () => {
  const tok = loadGpt2()
  const ids = tok.encode('🚀')
  assert.ok(ids.length > 1, 'the rocket emoji is several byte tokens in GPT-2')
  const part = ids.slice(0, 1)
  assert.match(tok.decode(part), /\ufffd/)
  assert.deepEqual([...tok.decodeBytes(part)], [...tok.tokenBytes(part[0])])
})

test('splitUtf8 separates valid runs from invalid bytes', () => {
  const b = Uint8Array.from([0x41, 0xe6, 0x97, 0xa5, 0xff, 0x42, 0xc3])
  assert.deepEqual(splitUtf8(b), [
    { start: 0, end: 4, valid: true },
    { start: 4, end: 5, valid: false },
    { start: 5, end: 6, valid: true },
    { start: 6, end: 7, valid: false },
  ])
})

test('decode rejects out-of-range ids with an Instruct3Error', () => {
  const tok = loadGpt2()
  assert.throws(() => tok.decode([50257]), { name: 'Instruct3Error', message: /out of range/ })
  assert.throws(() => tok.decode([-1]), { name: 'Instruct3Error' })
})
