import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  comparisonPairs, loadComparisons, loadDemonstrations, loadPrompts, parseComparison, validateRanking,
  writeComparisons, writePrompts, type Comparison,
} from '../../src/data/formats.ts'
import { Instruct3Error } from '../../src/util/errors.ts'

const tmp = () => mkdtempSync(join(tmpdir(), 'i3-formats-'))

test('valid rankings with ties are accepted, others rejected with the field named', () => {
  assert.deepEqual(validateRanking([0, 1, 1, 2], 4), [0, 1, 1, 2])
  assert.deepEqual(validateRanking([1, 0, 0], 3), [1, 0, 0])
  assert.deepEqual(validateRanking([0, 0], 2), [0, 0])
  for (const bad of [[0, 2], [1, 2], [0, 1.5], [-1, 0], [0, '1']]) {
    assert.throws(() => validateRanking(bad, 2, { file: 'f', line: 3 }), (e: Instruct3Error) => e instanceof Instruct3Error && e.details.line === 3 && String(e.details.field).startsWith('ranking'))
  }
  assert.throws(() => validateRanking([0, 1, 2], 2), /one rank per response/)
})

test('comparisonPairs enumerates C(K,2) pairs minus ties, winner first', () => {
  assert.deepEqual(comparisonPairs({ ranking: [2, 0, 1] }), [[1, 0], [2, 0], [1, 2]])
  assert.deepEqual(comparisonPairs({ ranking: [0, 1, 1, 2] }), [[0, 1], [0, 2], [0, 3], [1, 3], [2, 3]])
  assert.equal(comparisonPairs({ ranking: [0, 0, 0] }).length, 0)
  const k9 = Array.from({ length: 9 }, (_, i) => i)
  assert.equal(comparisonPairs({ ranking: k9 }).length, 36)
})

test('loaders report file:line:field for every kind of bad row', async () => {
  const dir = tmp()
  try {
    const f = join(dir, 'c.jsonl')
    const cases: Array<[unknown, string, RegExp]> = [
      [{ prompt: 'p', responses: ['a'], ranking: [0] }, 'responses', /K out of range/],
      [{ prompt: 'p', responses: Array(10).fill('a'), ranking: Array(10).fill(0) }, 'responses', /K out of range/],
      [{ prompt: 'p', responses: ['a', ' '], ranking: [0, 1] }, 'responses[1]', /empty response/],
      [{ prompt: 'p', responses: ['a', 'b'], ranking: [0, 2] }, 'ranking', /permutation with ties/],
      [{ responses: ['a', 'b'], ranking: [0, 1] }, 'prompt', /missing required field/],
      [{ prompt: 'p', responses: ['a', 'b'] }, 'ranking', /missing/],
      [{ prompt: 'p', responses: ['a', 'b'], ranking: [0, 1], likert: [0, 8] }, 'likert[0]', /Likert/],
      [{ prompt: 'p', chosen: 'a' }, 'rejected', /missing/],
    ]
    for (const [row, field, msg] of cases) {
      writeFileSync(f, JSON.stringify({ prompt: 'ok', responses: ['x', 'y'], ranking: [1, 0] }) + '\n\n' + JSON.stringify(row) + '\n')
      await assert.rejects(loadComparisons(f), (e: Instruct3Error) => {
        assert.ok(e instanceof Instruct3Error)
        assert.equal(e.details.file, f)
        assert.equal(e.details.line, 3)
        assert.equal(e.details.field, field)
        assert.match(e.message, msg)
        assert.ok(e.message.startsWith(`${f}:3: field "${field}"`), e.message)
        return true
      })
    }
    writeFileSync(f, '{"prompt": "x", "response": ""}\n')
    await assert.rejects(loadDemonstrations(f), /field "response": must not be empty/)
    writeFileSync(f, '{"prompt": 3}\n')
    await assert.rejects(loadPrompts(f), /field "prompt": must be a string/)
    writeFileSync(f, '{not json\n')
    await assert.rejects(loadPrompts(f), /c\.jsonl:1: invalid JSON/)
    writeFileSync(f, '\n')
    await assert.rejects(loadPrompts(f), /no prompts/)
    // onError: report and skip
    writeFileSync(f, '{"prompt":"a"}\n{"x":1}\n{bad\n{"prompt":"b"}\n')
    const errs: Instruct3Error[] = []
    const rows = await loadPrompts(f, { onError: (e) => errs.push(e) })
    assert.deepEqual(rows.map((r) => r.prompt), ['a', 'b'])
    assert.deepEqual(errs.map((e) => e.details.line), [2, 3])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('chosen/rejected pairs load as K=2; writers round-trip and refuse invalid rows', async () => {
  const dir = tmp()
  try {
    const f = join(dir, 'pairs.jsonl')
    writeFileSync(f, JSON.stringify({ id: 'x', prompt: 'P', chosen: 'good', rejected: 'bad' }) + '\n')
    const [c] = await loadComparisons(f)
    assert.deepEqual(c, { id: 'x', prompt: 'P', responses: ['good', 'bad'], ranking: [0, 1] })
    const rows: Comparison[] = [{ prompt: 'p', responses: ['a', 'b', 'c'], ranking: [1, 0, 1], likert: [3, 6, 3], flags: { harmful: false }, synthetic: true, labelers: ['l1', 'l1', 'l2'], origins: ['reference', 'sft', 'shuffled'] }]
    const g = join(dir, 'c.jsonl')
    assert.equal(await writeComparisons(g, rows), 1)
    assert.deepEqual(await loadComparisons(g), rows)
    await assert.rejects(writeComparisons(join(dir, 'bad.jsonl'), [{ prompt: 'p', responses: ['a', 'b'], ranking: [0, 3] }]), /bad\.jsonl:1: field "ranking"/)
    await writePrompts(join(dir, 'p.jsonl'), [{ prompt: 'hi', task: 't', reference: 'r' }])
    assert.deepEqual(await loadPrompts(join(dir, 'p.jsonl')), [{ prompt: 'hi', task: 't', reference: 'r' }])
    assert.throws(() => parseComparison([1, 2]), /JSON object/)
    assert.throws(() => parseComparison({ prompt: 'p', responses: ['a', 'b'], ranking: [0, 1], origins: ['reference'] }), /origins/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
