import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalRunner, jobCommand, rewritePaths } from '../../src/jobs/local.ts'
import { packageRoot } from '../../src/util/paths.ts'
import type { JobLogLine } from '../../src/jobs/types.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import { readAll, tempStore, toySpec } from './helpers.ts'

test('the image entrypoint instruct3 maps to this Node running bin/instruct3.js', () => {
  // (running it is left to the CLI tests: the full CLI takes seconds to load on a busy machine)
  assert.deepEqual(jobCommand({ args: ['--version'] }), [process.execPath, join(packageRoot, 'bin', 'instruct3.js'), '--version'])
  assert.deepEqual(jobCommand({ entrypoint: ['instruct3', 'sft'], args: ['/outputs'] }, ['i3'], (a) => a.toUpperCase()), ['i3', 'SFT', '/OUTPUTS'])
  assert.deepEqual(jobCommand({ entrypoint: ['python3', '-m', 'x'], args: ['a'] }), ['python3', '-m', 'x', 'a'])
})

test('rewritePaths maps the container mounts to the work dir', () => {
  assert.equal(rewritePaths('/inputs/data', '/w/in', '/w/out'), '/w/in/data')
  assert.equal(rewritePaths('--out=/outputs', '/w/in', '/w/out'), '--out=/w/out')
  assert.equal(rewritePaths('cat /inputs/a > /outputs/b', '/w/in', '/w/out'), 'cat /w/in/a > /w/out/b')
  assert.equal(rewritePaths('/inputsx /data/inputs', '/w/in', '/w/out'), '/inputsx /data/inputs')
})

test('local runner: inputs from the store, outputs back to it, logs streamed, failures and timeouts', async (t) => {
  const s = await tempStore()
  t.after(() => s.close())
  const logDir = join(s.dir, 'logs')
  const runner = createLocalRunner({ store: s.store, logDir, workRoot: join(s.dir, 'work'), killGraceMs: 300 })
  const input = await s.store.addBytes(new TextEncoder().encode('hello web3\n'), { pin: true })

  await t.test('a completed job adds /outputs to the store', async () => {
    const lines: JobLogLine[] = []
    const r = await runner.run(toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'ok'], [{ name: 'doc', cid: input.toString() }]), {
      onLog: (l) => lines.push(l),
    })
    assert.equal(r.state, 'Completed', r.message)
    assert.equal(r.exitCode, 0)
    assert.ok(r.outputs)
    const entries = []
    for await (const e of s.store.ls(r.outputs)) entries.push(e)
    assert.deepEqual(entries.map((e) => e.name), ['text.txt'])
    const text = await readAll(s.store.cat(entries[0].cid))
    assert.equal(text, 'HELLO WEB3 ok\n')
    assert.ok(lines.some((l) => l.stream === 'stdout' && l.line === 'done'))
    assert.ok(lines.some((l) => l.stream === 'stderr' && l.line === 'env stage=upper outputs=true'))
    assert.match(readFileSync(r.logFile!, 'utf8'), /^reading .*doc\n/m)
    // the temp work dir is gone
    assert.ok(!existsSync(join(s.dir, 'work')) || (await import('node:fs')).readdirSync(join(s.dir, 'work')).length === 0)
  })

  await t.test('a failing job reports its exit code and log tail, and adds nothing', async () => {
    const r = await runner.run(toySpec('bad', ['fail'], []))
    assert.equal(r.state, 'Failed')
    assert.equal(r.exitCode, 3)
    assert.equal(r.outputs, undefined)
    assert.equal(r.message, 'exit code 3')
    assert.deepEqual(r.logTail, ['loading checkpoint', '[stderr] error: loss is NaN at step 3'])
  })

  await t.test('a timeout kills the whole process group', async () => {
    const pidFile = join(s.dir, 'grandchild.pid')
    const t0 = Date.now()
    const r = await runner.run(toySpec('hang', ['hang', pidFile], [], { timeouts: { executionSeconds: 1 } }))
    assert.equal(r.state, 'Failed')
    assert.match(r.message!, /timed out after 1s/)
    assert.ok(Date.now() - t0 < 5000)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    let alive = true
    for (let i = 0; i < 20 && alive; i++) {
      alive = isRunning(pid)
      if (alive) await new Promise((res) => setTimeout(res, 50))
    }
    assert.equal(alive, false, 'grandchild still running after the timeout')
  })

  await t.test('processes left behind by a finished job are killed, as when a container exits', async () => {
    const pidFile = join(s.dir, 'orphan.pid')
    const r = await runner.run(toySpec('orphan', ['orphan', pidFile], []))
    assert.equal(r.state, 'Completed', r.message)
    assert.deepEqual(r.logTail, ['leaving a child behind'])
    const pid = Number(readFileSync(pidFile, 'utf8'))
    let alive = true
    for (let i = 0; i < 20 && alive; i++) {
      alive = isRunning(pid)
      if (alive) await new Promise((res) => setTimeout(res, 50))
    }
    assert.equal(alive, false)
  })

  await t.test('an abort signal stops the job', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    const r = await runner.run(toySpec('hang', ['hang', join(s.dir, 'hang2.pid')], []), { signal: ac.signal })
    assert.equal(r.state, 'Stopped')
    assert.equal(r.outputs, undefined)
  })

  await t.test('a missing input fails the job without running it', async () => {
    const missing = 'bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom'
    const quick = createLocalRunner({ store: s.store, logDir, inputTimeoutMs: 300 })
    const r = await quick.run(toySpec('upper', ['upper', '/inputs/doc', '/outputs', 'x'], [{ name: 'doc', cid: missing }]))
    assert.equal(r.state, 'Failed')
    assert.match(r.message!, /input "doc" .* could not be read/)
  })

  await t.test('an invalid spec is refused before anything runs', async () => {
    await assert.rejects(
      runner.run(toySpec('upper', ['x'], [{ name: 'doc', cid: input.toString() }], { resources: { memory: 'lots' } })),
      (e: unknown) => e instanceof Instruct3Error && e.details.field === 'resources.memory',
    )
  })

  await t.test('instruct3Command replaces the image entrypoint', async () => {
    const r = await createLocalRunner({ store: s.store, logDir, instruct3Command: [process.execPath, '-e', 'console.log(process.argv.slice(1).join(" "))'] }).run({
      name: 'instruct3-echo',
      stage: 'echo',
      image: 'instruct3/trainer:test',
      args: ['sft', '--out', '/outputs'],
      inputs: [],
    })
    assert.equal(r.state, 'Completed', r.message)
    assert.match(r.logTail[0], /^sft --out \/.*\/outputs$/)
  })
})

/** A killed process whose parent is gone may linger as a zombie until init reaps it: that counts as dead. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) Z/.test(stat)
  } catch {
    return false
  }
}
