import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTokenizer } from '../../src/tokenizer/index.ts'
import type { Tokenizer } from '../../src/tokenizer/index.ts'
import { mulberry32 } from '../../src/util/rng.ts'

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tokenizer')

export function tempDir(t: { after(fn: () => void): void }, prefix = 'instruct3-tok-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** Unpack the GPT-2 vocab.json + merges.txt fixtures into `dir`. */
export function writeGpt2Files(dir: string): void {
  writeFileSync(join(dir, 'vocab.json'), gunzipSync(readFileSync(join(fixtures, 'gpt2-vocab.json.gz'))))
  writeFileSync(join(dir, 'merges.txt'), gunzipSync(readFileSync(join(fixtures, 'gpt2-merges.txt.gz'))))
}

let gpt2: Tokenizer | undefined
/** The real GPT-2 tokenizer, read by our own reader from the fixture files (cached per process). */
export function loadGpt2(): Tokenizer {
  if (gpt2) return gpt2
  const d = mkdtempSync(join(tmpdir(), 'instruct3-gpt2-'))
  try {
    writeGpt2Files(d)
    gpt2 = loadTokenizer(d)
  } finally {
    rmSync(d, { recursive: true, force: true })
  }
  return gpt2
}

export type Gpt2Case = { text: string; ids: number[] }
export function gpt2Cases(): Gpt2Case[] {
  return (JSON.parse(readFileSync(join(fixtures, 'gpt2-encodings.json'), 'utf8')) as { cases: Gpt2Case[] }).cases
}

/** Deterministic PRNG (mulberry32) so random tests are reproducible. */
export const rng = mulberry32

/** Small fixed English/web3 corpus for training tests. */
export const SMALL_CORPUS: string[] = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps.',
  'Ethereum smart contracts hold balances; a reentrancy bug lets an attacker withdraw twice.',
  'function withdraw(uint256 amount) external { balances[msg.sender] -= amount; }',
  'Governance proposals are voted on by token holders; the proposal passed with 70% of votes.',
  'The the the then there these those thesis. Token tokens tokenizer tokenized.',
  'Uniswap pools price assets with x * y = k; liquidity providers earn fees.',
  'Über naïve café — 日本語 🚀🚀 emoji and unicode text.',
]
