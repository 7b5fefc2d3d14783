// The training loop: warmup + cosine schedule, exact resume after SIGKILL (same loss curve as an
// uninterrupted run), metrics JSONL, final model written atomically, empty corpus is a clear error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lrAt } from '../../src/train/schedule.ts'
import { readMetrics } from '../../src/train/metrics.ts'
import { pretrain } from '../../src/train/pretrain.ts'
import { packageRoot } from '../../src/util/paths.ts'

function tinyCorpus(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const words = ['reentrancy', 'oracle', 'price', 'manipulation', 'flash', 'loan', 'token', 'swap', 'governance', 'proposal', 'vote', 'the', 'a', 'of', 'to']
  let x = 7
  const doc = (n: number) => Array.from({ length: n }, () => words[(x = (x * 1103515245 + 12345) % 2147483648) % words.length]).join(' ')
  const rows = (k: number) => Array.from({ length: k }, (_, i) => JSON.stringify({ id: `d${i}`, text: doc(60 + (i % 5) * 10) })).join('\n') + '\n'
  writeFileSync(join(dir, 'train.jsonl'), rows(60))
  writeFileSync(join(dir, 'val.jsonl'), rows(8))
  return dir
}

const cliArgs = (corpus: string, out: string) => [
  join(packageRoot, 'bin', 'instruct3.js'), 'pretrain', '--corpus', corpus, '--out', out, '--vocab-size', '300', '--ctx', '32', '--d', '32',
  '--layers', '1', '--heads', '2', '--batch', '4', '--steps', '24', '--warmup', '3', '--eval-every', '8', '--checkpoint-every', '4', '--seed', '5', '--quiet',
]

function run(args: string[], killWhen?: (out: string) => boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    let timer: NodeJS.Timeout | undefined
    if (killWhen) timer = setInterval(() => { if (killWhen('')) child.kill('SIGKILL') }, 50)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer)
      if (code && code !== 0) reject(new Error(`exit ${code}: ${err}`))
      else resolve({ code, signal })
    })
  })
}

test('warmup then cosine decay to minLr', () => {
  const s = { lr: 1, minLr: 0.1, warmup: 10, steps: 110 }
  assert.equal(lrAt(s, 0), 0.1)
  assert.equal(lrAt(s, 9), 1)
  assert.ok(Math.abs(lrAt(s, 10) - 1) < 1e-12)
  assert.ok(Math.abs(lrAt(s, 60) - 0.55) < 1e-12)
  assert.ok(Math.abs(lrAt(s, 110) - 0.1) < 1e-12)
})

test('resume after SIGKILL gives the same loss curve as an uninterrupted run', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'instruct3-resume-'))
  try {
    const corpus = tinyCorpus(join(root, 'corpus'))
    const a = join(root, 'a')
    await run(cliArgs(corpus, a))
    const full = readMetrics(join(a, 'metrics.jsonl'))
    assert.equal(full.length, 24)
    // share the tokenizer so both runs tokenize identically (training it is deterministic too)
    const b = join(root, 'b')
    const state = join(b, 'checkpoint', 'trainer_state.json')
    const killed = await run(cliArgs(corpus, b), () => existsSync(state) && JSON.parse(readFileSync(state, 'utf8')).step >= 12)
    assert.equal(killed.signal, 'SIGKILL', 'the first run was killed mid-training')
    assert.ok(!existsSync(join(b, 'model')), 'no final model after the kill')
    await run(cliArgs(corpus, b))
    const resumed = readMetrics(join(b, 'metrics.jsonl'))
    assert.equal(resumed.length, 24, 'the resumed log has every step once')
    for (let i = 0; i < 24; i++) {
      assert.equal(resumed[i].step, full[i].step)
      assert.equal(resumed[i].loss, full[i].loss, `loss differs at step ${i + 1}`)
    }
    assert.equal(resumed[23]['eval/loss'], full[23]['eval/loss'])
    assert.ok(full[23].loss < full[0].loss, 'loss went down')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('an empty corpus is a clear error naming the file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'instruct3-empty-'))
  try {
    writeFileSync(join(root, 'train.jsonl'), '')
    writeFileSync(join(root, 'val.jsonl'), '')
    await assert.rejects(
      pretrain({ corpusDir: root, outDir: join(root, 'out'), tokenizer: { vocabSize: 300 }, model: { nCtx: 16, nEmbd: 16, nLayer: 1, nHead: 2 }, batchSize: 2, loop: { steps: 2 }, evalBatches: 1, quiet: true }),
      (e: Error) => /train\.jsonl/.test(e.message) && /empty/.test(e.message),
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
