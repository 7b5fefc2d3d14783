import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { trainBpe, loadTokenizer, saveTokenizer, readGpt2Files, readHfTokenizerJson, checkTokenizerMatches } from '../../src/tokenizer/index.ts'
import { SMALL_CORPUS, tempDir } from './helpers.ts'

const trained = () => trainBpe(SMALL_CORPUS, { vocabSize: 420, minFrequency: 1 })

test('vocab.json + merges.txt and tokenizer.json: write -> read gives the same tokenizer', async (t) => {
  const tok = await trained()
  const dir = tempDir(t)
  await saveTokenizer(dir, tok)
  assert.deepEqual(readdirSync(dir).sort(), ['instruct3-tokenizer.json', 'merges.txt', 'tokenizer.json', 'vocab.json'])
  const a = readGpt2Files(join(dir, 'vocab.json'), join(dir, 'merges.txt'))
  const b = readHfTokenizerJson(join(dir, 'tokenizer.json'))
  const c = loadTokenizer(dir)
  for (const x of [a, b, c]) {
    assert.equal(x.fingerprint, tok.fingerprint)
    assert.deepEqual(x.toSpec(), tok.toSpec())
    assert.deepEqual([...x.specialTokens], [...tok.specialTokens])
  }
  const text = SMALL_CORPUS.join(' ')
  assert.deepEqual(c.encode(text), tok.encode(text))
  const hf = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'))
  assert.equal(hf.model.type, 'BPE')
  assert.equal(hf.pre_tokenizer.type, 'ByteLevel')
  assert.equal(hf.decoder.type, 'ByteLevel')
  assert.deepEqual(hf.added_tokens.map((t: { content: string; special: boolean }) => [t.content, t.special]), [
    ['<|endoftext|>', true], ['<|pad|>', true], ['<|system|>', true], ['<|user|>', true], ['<|assistant|>', true],
  ])
  assert.equal(readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n')[0], '#version: 0.2')
  const info = JSON.parse(readFileSync(join(dir, 'instruct3-tokenizer.json'), 'utf8'))
  assert.equal(info.fingerprint, tok.fingerprint)
  // GPT-2-only dir (no tokenizer.json) loads too.
  const g = tempDir(t)
  await saveTokenizer(g, tok, { formats: ['gpt2'] })
  assert.equal(loadTokenizer(g).fingerprint, tok.fingerprint)
  // Newer HF files write merges as ["a", "b"] pairs: accepted too.
  hf.model.merges = hf.model.merges.map((m: string) => m.split(' '))
  writeFileSync(join(g, 'tokenizer.json'), JSON.stringify(hf))
  assert.equal(loadTokenizer(join(g, 'tokenizer.json')).fingerprint, tok.fingerprint)
})

test('fingerprint mismatch and a too-large vocab are refused', async () => {
  const tok = await trained()
  const other = await trainBpe(SMALL_CORPUS, { vocabSize: 410, minFrequency: 1 })
  assert.notEqual(tok.fingerprint, other.fingerprint)
  checkTokenizerMatches(tok, { fingerprint: tok.fingerprint, vocabSize: 420 })
  assert.throws(() => checkTokenizerMatches(other, { fingerprint: tok.fingerprint }, 'model/config.json'), {
    name: 'Instruct3Error',
    message: /model\/config\.json.*does not match the model/,
  })
  assert.throws(() => checkTokenizerMatches(tok, { vocabSize: 300 }), /420 tokens but the model's vocabulary has 300/)
})

/** Write a tokenizer, corrupt one file with `edit`, expect an Instruct3Error matching `re`. */
async function expectBroken(t: { after(fn: () => void): void }, file: string, edit: (s: string) => string, re: RegExp) {
  const tok = await trained()
  const dir = tempDir(t)
  await saveTokenizer(dir, tok, { formats: file === 'tokenizer.json' ? ['hf'] : ['gpt2'] })
  const p = join(dir, file)
  writeFileSync(p, edit(readFileSync(p, 'utf8')))
  assert.throws(() => loadTokenizer(dir), (e: Error) => {
    assert.equal(e.name, 'Instruct3Error')
    assert.ok(e.message.includes(p), `message names the file: ${e.message}`)
    assert.match(e.message, re)
    return true
  })
}

test('malformed merges.txt: error names file and line', async (t) => {
  await expectBroken(t, 'merges.txt', (s) => s.replace(/\n(.*)\n/, '\n$1 extra\n'), /merges\.txt:2: expected two tokens/)
  await expectBroken(t, 'merges.txt', (s) => s.split('\n').map((l, i) => (i === 3 ? 'Ġzzq Ġqqz' : l)).join('\n'), /merges\.txt:4: merge part "Ġzzq" is not in the vocabulary/)
})

test('malformed vocab.json: bad JSON, bad id, missing byte token, gap', async (t) => {
  await expectBroken(t, 'vocab.json', (s) => s.slice(0, 100), /invalid JSON/)
  await expectBroken(t, 'vocab.json', (s) => s.replace('"!":0', '"!":"zero"'), /field "vocab\["!"\]": id of token "!" must be a non-negative integer/)
  await expectBroken(t, 'vocab.json', (s) => s.replace('"!":0', '"!!!!":0'), /missing base token for byte 33/)
  await expectBroken(t, 'vocab.json', (s) => s.replace('"!":0', '"!":100000'), /no token has id 0/)
})

test('malformed tokenizer.json: wrong model type, normalizer, pre_tokenizer, added token', async (t) => {
  const j = (f: (o: any) => void) => (s: string) => {
    const o = JSON.parse(s)
    f(o)
    return JSON.stringify(o)
  }
  await expectBroken(t, 'tokenizer.json', j((o) => (o.model.type = 'WordPiece')), /field "model\.type"/)
  await expectBroken(t, 'tokenizer.json', j((o) => (o.normalizer = { type: 'NFC' })), /field "normalizer"/)
  await expectBroken(t, 'tokenizer.json', j((o) => (o.pre_tokenizer = { type: 'Whitespace' })), /field "pre_tokenizer\.type"/)
  await expectBroken(t, 'tokenizer.json', j((o) => (o.added_tokens[0].id = 'x')), /field "added_tokens\[0\]"/)
  await expectBroken(t, 'tokenizer.json', j((o) => (o.model.merges[5] = 'onlyone')), /field "model\.merges\[5\]"/)
  await expectBroken(t, 'tokenizer.json', (s) => s.replace('"model"', '"model" "oops"'), /tokenizer\.json:\d+: invalid JSON/)
})

test('missing files and empty dirs are clear errors', (t) => {
  const dir = tempDir(t)
  assert.throws(() => loadTokenizer(join(dir, 'nope')), { name: 'Instruct3Error', message: /not found/ })
  assert.throws(() => loadTokenizer(dir), { name: 'Instruct3Error', message: /no tokenizer here/ })
  mkdirSync(join(dir, 'only-vocab'))
  writeFileSync(join(dir, 'only-vocab', 'vocab.json'), '{}')
  assert.throws(() => loadTokenizer(join(dir, 'only-vocab')), /no tokenizer here/)
})

test('saving over an existing tokenizer leaves no temp files behind', async (t) => {
  const dir = tempDir(t)
  await saveTokenizer(dir, await trained())
  await saveTokenizer(dir, await trainBpe(SMALL_CORPUS, { vocabSize: 300 }))
  assert.ok(readdirSync(dir).every((f) => !f.includes('.tmp-')))
  assert.equal(loadTokenizer(dir).vocabSize, 300)
  assert.ok(existsSync(join(dir, 'vocab.json')))
})
