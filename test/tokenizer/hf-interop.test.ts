import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers'
import { trainBpe, saveTokenizer, type Tokenizer } from '../../src/tokenizer/index.ts'
import { gpt2Cases, loadGpt2, SMALL_CORPUS, tempDir } from './helpers.ts'

// The tokenizer.json we write must be read by Hugging Face's own JS implementation
// (@huggingface/tokenizers, as used by transformers.js) and give the same ids, specials included.

async function check(t: { after(fn: () => void): void }, tok: Tokenizer) {
  const dir = tempDir(t)
  await saveTokenizer(dir, tok, { formats: ['hf'] })
  const hf = new HfTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), {})
  const texts = [...gpt2Cases().map((c) => c.text), ...SMALL_CORPUS, 'a <|endoftext|> b<|user|>\nhi<|assistant|>']
  for (const text of texts) {
    const ours = tok.encode(text, { allowSpecial: true })
    assert.deepEqual(hf.encode(text, { add_special_tokens: false }).ids, ours, `text ${JSON.stringify(text).slice(0, 50)}`)
  }
}

test('our tokenizer.json (trained) reads in @huggingface/tokenizers with identical ids', async (t) => {
  await check(t, await trainBpe(SMALL_CORPUS, { vocabSize: 500, minFrequency: 1 }))
})

test('our tokenizer.json (GPT-2) reads in @huggingface/tokenizers with identical ids', async (t) => {
  await check(t, loadGpt2())
})
