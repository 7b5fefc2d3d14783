// `instruct3 eval`: each option is required only by what uses it. One reward model scored on one
// comparisons file needs no judge, SFT model or prompts; a missing option is one error line naming it,
// not a usage page.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../src/util/paths.ts'
import { tempDir, tinyConfig, tinyTokenizer, writeModel } from '../train/rl-helpers.ts'

const run = promisify(execFile)
const cli = (...args: string[]) => run(process.execPath, [join(packageRoot, 'bin', 'instruct3.js'), ...args], { maxBuffer: 16 << 20 })

test('eval scores one reward model on one file without --judge, --sft or --prompts; a missing option names itself', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t, 'instruct3-eval-cli-')
  const tokDir = join(dir, 'tok')
  const tok = await tinyTokenizer(tokDir)
  const rm = join(dir, 'rm')
  await writeModel(rm, tinyConfig(tok.vocabSize), 5, { tokDir, tok, head: true })
  const comparisons = join(dir, 'comparisons.jsonl')
  writeFileSync(comparisons, [{ prompt: 'question number', chosen: 'good answer', rejected: 'bad reply' }, { prompt: 'the answer is', chosen: 'good', rejected: 'a bad reply here' }].map((r) => JSON.stringify(r)).join('\n') + '\n')

  const r = await cli('eval', '--reward-model', `rm=${rm}`, '--comparisons', comparisons, '--quiet')
  assert.match(r.stdout, /^rm rm: accuracy \d\.\d{3} margin -?\d+\.\d{3} \(2 pairs\)$/m)

  // policies need a judge: the error names the option, without a usage page
  const e = await cli('eval', '--sft', rm, '--prompts', comparisons).then(() => assert.fail('eval without --judge succeeded'), (err: { stderr: string; code: number }) => err)
  assert.notEqual(e.code, 0)
  assert.match(e.stderr, /--judge/)
  assert.doesNotMatch(e.stderr, /Usage:/)
  const f = await cli('eval', '--reward-model', `rm=${rm}`).then(() => assert.fail('eval without --comparisons succeeded'), (err: { stderr: string }) => err)
  assert.match(f.stderr, /--comparisons is needed to score --reward-model/)
})
