// The loop in one command, as a user runs it: `instruct3 loop --rounds 1` from a finished (tiny)
// pipeline folder starts its own anvil, runs a round with the simulated crowd and prints the round
// manifest; `instruct3 verify <cid>` then re-hashes every artifact and re-verifies every label signature.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mergeConfig, demoConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { packageRoot, sharedDataDir } from '../../src/util/paths.ts'
import { TINY_BASE } from '../pipeline/tiny.ts'

const run = promisify(execFile)
const skip = !existsSync(sharedDataDir()) && 'shared data not found'

test('instruct3 loop --rounds 1, then instruct3 verify of its round manifest', { timeout: 900_000, skip }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'instruct3-loop-cli-'))
  try {
    const base = join(root, 'base')
    await runPipeline(
      mergeConfig(demoConfig(), {
        name: 'loop-cli',
        workDir: base,
        store: { kind: 'none' },
        ...TINY_BASE,
      }),
      { quiet: true, until: 'sft' },
    )
    const env = { ...process.env, INSTRUCT3_HOME: join(root, 'home') }
    const bin = join(packageRoot, 'bin', 'instruct3.js')
    const loop = await run(process.execPath, [bin, 'loop', '--rounds', '1', '--from', base, '--work-dir', join(root, 'loop'), '--prompts-per-round', '16', '--quiet'], { env, maxBuffer: 1 << 24 })
    const cid = /round manifest: (\S+)/.exec(loop.stdout)?.[1]
    assert.ok(cid, loop.stdout)
    assert.match(loop.stdout, /round 1: \d+ signed labels, root 0x[0-9a-f]{64}, settled in 0x[0-9a-f]{64}/)
    const report = readFileSync(join(root, 'loop', 'report', 'loop.md'), 'utf8')
    assert.match(report, /simulated crowd, not people/)
    assert.match(report, /\| cheater \| cheater \|.*\| \*\*yes\*\* \|/)
    assert.ok(existsSync(join(root, 'loop', 'report', 'labeler_pay.png')))
    const v = await run(process.execPath, [bin, 'verify', cid!], { env, maxBuffer: 1 << 24 })
    assert.match(v.stdout, /ok {3}label batch \S+ \(simulated-labeler, campaign c_[0-9a-f]+\): (\d+)\/\1 signatures verified/)
    assert.match(v.stdout, /loop-round-1: .* rest on \d+ signed labels \(\d+ used\) from 5 labelers in 1 batch/)
    assert.match(v.stdout, /verified: every artifact re-hashed, every stage chained, \d+ label signatures re-verified/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
