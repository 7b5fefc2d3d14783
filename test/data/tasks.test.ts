import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTasks } from '../../src/data/tasks/build.ts'
import { scoreSwc, stripSolidityComments } from '../../src/data/tasks/swc.ts'
import { section, syntheticComparison, type TaskItem } from '../../src/data/tasks/common.ts'
import { splitDialogue, firstHumanTurn } from '../../src/data/tasks/hhrlhf.ts'
import { headerExcerpt } from '../../src/data/tasks/rootcause.ts'
import { comparisonPairs, loadComparisons, loadDemonstrations, loadPrompts } from '../../src/data/formats.ts'
import { sharedDataDir } from '../../src/util/paths.ts'

test('scoreSwc is an exact id match', () => {
  assert.equal(scoreSwc('SWC-107 Reentrancy', 'SWC-107 Reentrancy'), 1)
  assert.equal(scoreSwc('The contract has swc 107 (reentrancy).', 'SWC-107 Reentrancy'), 1)
  assert.equal(scoreSwc('SWC-101 Integer Overflow and Underflow', 'SWC-107 Reentrancy'), 0)
  assert.equal(scoreSwc('SWC-1070', 'SWC-107 Reentrancy'), 0)
  assert.equal(scoreSwc('Reentrancy', 'SWC-107 Reentrancy'), 1)
  assert.equal(scoreSwc('reentrancy attack', 'SWC-107 Reentrancy'), 0)
  assert.equal(scoreSwc('', 'SWC-107 Reentrancy'), 0)
})

test('helpers: comments stripped, sections found, dialogue split, header noise removed', () => {
  assert.equal(stripSolidityComments('/* @vulnerable_at_lines: 3 */\ncontract A { // <yes> <report> REENTRANCY\n  uint x; }\n'), 'contract A {\n  uint x; }')
  assert.equal(stripSolidityComments('string u = "http://x";'), 'string u = "http://x";')
  const md = '## Simple Summary\n\nDo X.\n\n### Detail\n\nmore\n\n## Motivation\n\nBecause.'
  assert.equal(section(md, ['simple summary']), 'Do X.\n\n### Detail\n\nmore')
  assert.equal(section(md, ['abstract', 'motivation']), 'Because.')
  const d = splitDialogue('\n\nHuman: hi\n\nAssistant: a\n\nHuman: q\n\nAssistant: good', '\n\nHuman: hi\n\nAssistant: a\n\nHuman: q\n\nAssistant: bad')
  assert.deepEqual(d, { prompt: '\n\nHuman: hi\n\nAssistant: a\n\nHuman: q\n\nAssistant:', chosen: 'good', rejected: 'bad' })
  assert.equal(firstHumanTurn(d!.prompt), 'hi')
  assert.equal(splitDialogue('\n\nHuman: a\n\nAssistant: x', '\n\nHuman: b\n\nAssistant: y'), null)
  assert.equal(headerExcerpt('@Analysis\nAttacker : 0x' + 'a'.repeat(40) + '\nhttps://x.y\nreal text'), 'real text')
})

test('synthetic comparisons are ranked by construction with ties and distinct responses', () => {
  const mk = (id: string, reference: string): TaskItem => ({ id, task: 'summarize-proposal', prompt: 'p ' + id, reference, split: 'train' })
  const pool = [mk('a', 'one two three four five six seven eight'), mk('b', 'something else entirely here'), mk('c', 'x')]
  const c = syntheticComparison(pool[0], pool)!
  assert.equal(c.synthetic, true)
  assert.equal(c.responses[0], pool[0].reference)
  assert.equal(c.responses.length, 4)
  assert.deepEqual(c.ranking, [0, 1, 1, 1], 'the reference beats every wrong answer; the wrong ones tie')
  assert.deepEqual(c.origins, ['reference', 'truncated', 'other-item', 'shuffled'])
  assert.equal(new Set(c.responses).size, 4)
  assert.equal(comparisonPairs(c).length, 3)
  const short = syntheticComparison(pool[2], pool)! // one word: no truncation, no shuffle
  assert.deepEqual(short.ranking, [0, 1])
})

test('tasks build on the real data: loadable files, splits, short prompts, no val leakage of prompts', async () => {
  const out = mkdtempSync(join(tmpdir(), 'i3-tasks-'))
  try {
    const r = await buildTasks({ dataDir: sharedDataDir(), outDir: out, maxChars: 512, quiet: true })
    for (const t of ['exploit-root-cause', 'summarize-proposal', 'swc-naming', 'explain-transaction']) {
      assert.ok(r.datasheet.tasks[t].train > 20, t)
      assert.ok(r.datasheet.tasks[t].val > 0, t)
    }
    const prompts = [...(await loadPrompts(join(out, 'train/prompts.jsonl'))), ...(await loadPrompts(join(out, 'val/prompts.jsonl')))]
    assert.equal(prompts.length, r.items.length + r.promptsOnly.length)
    assert.ok(r.promptsOnly.length > 50) // complex mainnet transactions: prompts without a reference
    for (const p of prompts) {
      assert.ok(p.prompt.length <= 512, `${p.id} ${p.prompt.length}`)
      if (p.task !== 'explain-transaction') assert.ok(p.reference && p.reference.length <= 200)
    }
    const tx = prompts.filter((p) => p.task === 'explain-transaction' && p.reference)
    assert.ok(tx.some((p) => /ERC-20 Transfer of \d+ units/.test(p.prompt) && /transferred \d+ units/.test(p.reference!)))
    const trainPrompts = new Set((await loadPrompts(join(out, 'train/prompts.jsonl'))).map((p) => p.prompt))
    for (const p of await loadPrompts(join(out, 'val/prompts.jsonl'))) assert.ok(!trainPrompts.has(p.prompt))
    // SWC answers come from the closed label set and score 1 against themselves
    const labels = JSON.parse(readFileSync(join(out, 'swc_labels.json'), 'utf8')) as Array<{ id: string; title: string }>
    const set = new Set(labels.map((l) => `${l.id} ${l.title}`))
    for (const p of prompts.filter((p) => p.task === 'swc-naming')) {
      assert.ok(set.has(p.reference!), p.reference)
      assert.equal(scoreSwc(p.reference!, p.reference!), 1)
      assert.doesNotMatch(p.prompt, /SWC-\d{3}|@vulnerable|<report>/)
    }
    const demos = await loadDemonstrations(join(out, 'train/demonstrations.jsonl'))
    assert.equal(demos.length, r.items.filter((i) => i.split === 'train').length)
    const cmps = await loadComparisons(join(out, 'val/comparisons.jsonl'))
    assert.ok(cmps.every((c) => c.synthetic === true && c.ranking[0] === 0 && c.responses.length <= 4))
    const hh = [...(await loadComparisons(join(out, 'train/hh_comparisons.jsonl'))), ...(await loadComparisons(join(out, 'val/hh_comparisons.jsonl')))]
    assert.ok(hh.length > 1800)
    // grouped by first human turn: no first turn on both sides
    const side = new Map<string, string>()
    for (const [f, s] of [['train', 'train'], ['val', 'val']] as const)
      for (const c of await loadComparisons(join(out, f, 'hh_comparisons.jsonl'))) {
        const k = firstHumanTurn(c.prompt)
        assert.ok(!side.has(k) || side.get(k) === s, k)
        side.set(k, s)
      }
    const md = readFileSync(join(out, 'datasheet.md'), 'utf8')
    assert.match(md, /swc-naming/)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
