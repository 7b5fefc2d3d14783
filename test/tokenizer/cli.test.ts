import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { register } from '../../src/cli/commands/tokenizer.ts'
import { loadTokenizer } from '../../src/tokenizer/index.ts'
import { SMALL_CORPUS, tempDir } from './helpers.ts'

/** Run `instruct3 tokenizer ...` in-process, capturing console.log (not process.stdout: the test runner reports there). */
async function cli(args: string[]): Promise<string> {
  const program = new Command().exitOverride()
  register(program)
  const out: string[] = []
  const log = console.log
  console.log = (...a: unknown[]) => void out.push(a.join(' ') + '\n')
  try {
    await program.parseAsync(['node', 'instruct3', 'tokenizer', ...args])
  } finally {
    console.log = log
  }
  return out.join('')
}

test('tokenizer train (jsonl) -> encode -> decode -> info', async (t) => {
  const dir = tempDir(t)
  const input = join(dir, 'corpus.jsonl')
  writeFileSync(input, SMALL_CORPUS.map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n')
  const out = join(dir, 'tok')
  const trainOut = await cli(['train', '--input', input, '--vocab-size', '300', '--out', out, '--quiet'])
  assert.match(trainOut, /trained vocab 300/)
  const tok = loadTokenizer(out)
  const ids = JSON.parse((await cli(['encode', '--dir', out, 'The token holders'])).trim())
  assert.deepEqual(ids, tok.encode('The token holders'))
  assert.equal((await cli(['decode', '--dir', out, ...ids.map(String)])).trim(), 'The token holders')
  const sp = JSON.parse((await cli(['encode', '--dir', out, '--allow-special', 'a<|endoftext|>'])).split('\n')[0])
  assert.equal(sp.at(-1), tok.eosId)
  assert.equal(JSON.parse(await cli(['info', '--dir', out])).fingerprint, tok.fingerprint)
})

test('tokenizer train (txt) and bad input', async (t) => {
  const dir = tempDir(t)
  const input = join(dir, 'corpus.txt')
  writeFileSync(input, SMALL_CORPUS.join('\n'))
  await cli(['train', '--input', input, '--vocab-size', '280', '--out', join(dir, 'tok'), '--quiet', '--format', 'gpt2'])
  assert.equal(loadTokenizer(join(dir, 'tok')).vocabSize, 280)
  await assert.rejects(cli(['train', '--input', join(dir, 'missing.txt'), '--vocab-size', '300', '--out', join(dir, 'x'), '--quiet']), {
    name: 'Instruct3Error',
    message: /missing\.txt: input file not found/,
  })
  writeFileSync(join(dir, 'empty.jsonl'), '')
  await assert.rejects(cli(['train', '--input', join(dir, 'empty.jsonl'), '--vocab-size', '300', '--out', join(dir, 'y'), '--quiet']), /empty corpus/)
})
