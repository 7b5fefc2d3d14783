import { test } from 'node:test'
import assert from 'node:assert/strict'
import { trainBpe, DEFAULT_SPECIAL_TOKENS, type Tokenizer } from '../../src/tokenizer/index.ts'
import { byteOrder, byteToChar } from '../../src/tokenizer/bytes.ts'
import { pretokenize } from '../../src/tokenizer/pretokenize.ts'
import { SMALL_CORPUS, rng } from './helpers.ts'

/**
 * Reference trainer: recounts every pair from scratch at each step (slow, obviously right).
 * Same tie-break as trainBpe: highest count, then smaller left id, then smaller right id.
 */
function naiveMerges(texts: string[], vocabSize: number, minFrequency = 2): string[] {
  const freq = new Map<string, number>()
  for (const t of texts) for (const p of pretokenize(t)) freq.set(p, (freq.get(p) ?? 0) + 1)
  const idOfByte = new Map(byteOrder.map((b, id) => [b, id]))
  let words = [...freq].map(([w, c]) => ({ s: [...new TextEncoder().encode(w)].map((b) => idOfByte.get(b)!), c }))
  const vocab = [...byteOrder.map((b) => byteToChar[b]), ...DEFAULT_SPECIAL_TOKENS]
  const merges: string[] = []
  while (vocab.length < vocabSize) {
    const counts = new Map<string, number>()
    for (const { s, c } of words) for (let i = 0; i < s.length - 1; i++) counts.set(`${s[i]},${s[i + 1]}`, (counts.get(`${s[i]},${s[i + 1]}`) ?? 0) + c)
    let best: [number, number] | null = null
    let bestC = 0
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number)
      if (c > bestC || (c === bestC && best && (a < best[0] || (a === best[0] && b < best[1])))) ((best = [a, b]), (bestC = c))
    }
    if (!best || bestC < minFrequency) break
    const [a, b] = best
    const merged = vocab[a] + vocab[b]
    let id = vocab.indexOf(merged)
    if (id < 0) ((id = vocab.length), vocab.push(merged))
    merges.push(`${vocab[a]} ${vocab[b]}`)
    words = words.map(({ s, c }) => {
      const t: number[] = []
      for (let i = 0; i < s.length; ) if (i < s.length - 1 && s[i] === a && s[i + 1] === b) (t.push(id), (i += 2)); else t.push(s[i++])
      return { s: t, c }
    })
  }
  return merges
}

const mergesOf = (tok: Tokenizer) => tok.toSpec().merges.map(([a, b]) => `${a} ${b}`)

test('incremental trainer learns exactly the merges of a from-scratch reference trainer', async () => {
  const rand = rng(3)
  const words = ['the', 'then', 'token', 'tokens', 'contract', 'contracts', 'swap', 'swapped', 'eth', 'ether', 'aaaa', 'ab', 'é', '日本']
  const texts = SMALL_CORPUS.slice()
  for (let i = 0; i < 60; i++) {
    let s = ''
    for (let j = 0; j < 30; j++) s += (rand() < 0.8 ? ' ' : '\n') + words[Math.floor(rand() * words.length)]
    texts.push(s)
  }
  const tok = await trainBpe(texts, { vocabSize: 480 })
  assert.deepEqual(mergesOf(tok), naiveMerges(texts, 480))
})

test('training is deterministic, specials sit right after the 256 bytes, vocabSize is reached', async () => {
  const a = await trainBpe(SMALL_CORPUS, { vocabSize: 320 })
  const b = await trainBpe(
    (async function* () {
      for (const t of SMALL_CORPUS) yield t
    })(),
    { vocabSize: 320 },
  )
  assert.equal(a.vocabSize, 320)
  assert.deepEqual(mergesOf(a), mergesOf(b))
  assert.equal(a.fingerprint, b.fingerprint)
  assert.equal(a.eosId, 256)
  assert.equal(a.padId, 257)
  assert.notEqual(a.padId, a.eosId)
  assert.deepEqual([a.systemId, a.userId, a.assistantId], [258, 259, 260])
  // ids 0..255 are GPT-2's byte tokens
  assert.equal(a.idToToken(0), '!')
  assert.equal(a.idToToken(188), 'Ā')
  // The first merge is the most frequent pair of the corpus.
  const texts = ['aaa bbb aaa', 'aaa']
  const t = await trainBpe(texts, { vocabSize: 262 })
  assert.deepEqual(mergesOf(t), ['a a'])
})

test('minFrequency stops merging early; too small a vocabSize is an error', async () => {
  const tok = await trainBpe(['abc abc xyz'], { vocabSize: 1000, minFrequency: 2 })
  // "abc" (x2) -> at most merges for a b, ab c, plus "Ġa"... only pairs occurring twice.
  assert.ok(tok.vocabSize < 1000)
  for (const [a, b] of tok.toSpec().merges) assert.ok(!(a + b).includes('x'), `merged a pair seen once: ${a}${b}`)
  await assert.rejects(trainBpe(['x'], { vocabSize: 100 }), { name: 'Instruct3Error', message: /vocabSize must be/ })
})

test('a trained tokenizer compresses its corpus and round-trips it', async () => {
  const tok = await trainBpe(SMALL_CORPUS, { vocabSize: 600, minFrequency: 1 })
  const text = SMALL_CORPUS.join('\n')
  const ids = tok.encode(text)
  assert.ok(ids.length < new TextEncoder().encode(text).length / 2, `compression ${ids.length}`)
  assert.equal(tok.decode(ids), text)
})

// Speed is measured by the benchmark (bench/tokenizer.ts), not asserted here: timed tests fail on busy machines.
test('training on 1 MB reaches vocab 2048 (the incremental trainer scales past toy sizes)', async () => {
  const rand = rng(11)
  const syll = ['ka', 'to', 'ri', 'men', 'sol', 'idi', 'ty', 'eth', 'er', 'eum', 'ch', 'ain', 'x', 'q', 'z', '0x', '12', 'ü']
  const texts: string[] = []
  let n = 0
  while (n < 1e6) {
    let s = ''
    for (let i = 0; i < 200; i++) {
      const w = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => syll[Math.floor(rand() * syll.length)]).join('')
      s += (rand() < 0.9 ? ' ' : '.\n') + w
    }
    texts.push(s)
    n += s.length
  }
  const t0 = performance.now()
  const tok = await trainBpe(texts, { vocabSize: 2048 })
  const s = (performance.now() - t0) / 1000
  assert.equal(tok.vocabSize, 2048)
  // every learned token round-trips as text it was learned from
  const sample = texts[0].slice(0, 2000)
  assert.equal(tok.decode(tok.encode(sample)), sample)
  assert.ok(tok.encode(sample).length < sample.length / 2, 'merges compress the training text')
  console.log(`# trained 1 MB to vocab 2048 in ${s.toFixed(2)} s`)
})
