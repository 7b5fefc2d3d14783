import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildCorpus } from '../../src/data/corpus.ts'
import { SOURCES } from '../../src/data/sources.ts'
import { createDeduper } from '../../src/data/dedup.ts'
import { normalizeText, truncateText } from '../../src/data/normalize.ts'
import { splitOf } from '../../src/data/hash.ts'
import { sharedDataDir } from '../../src/util/paths.ts'

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed * 104729) % 5003}`).join(' ')

test('normalisation and truncation', () => {
  assert.equal(normalizeText('\uFEFFimport X from "y"\r\n# T  \r\n\r\n\r\n\r\nbody<!-- c -->\n'), '# T\n\nbody')
  const t = 'First paragraph here.\n\nSecond paragraph is longer and goes on.'
  assert.equal(truncateText(t, 100), t)
  const cut = truncateText(t, 40)
  assert.ok(cut.length <= 40 && cut.endsWith(' …'), cut)
})

test('dedup: exact (case/space-insensitive) and near duplicates found, distinct texts kept', () => {
  const d = createDeduper()
  const a = words(400, 1)
  assert.equal(d.offer(a).kind, 'kept')
  assert.equal(d.offer(a.toUpperCase().replace(/ /g, '  ')).kind, 'exact')
  const near = a.split(' ').map((w, i) => (i % 100 === 0 ? 'CHANGED' : w)).join(' ') // 4 edits in 400 words
  const v = d.offer(near)
  assert.equal(v.kind, 'near')
  assert.equal(d.offer(words(400, 2)).kind, 'kept')
  assert.equal(d.offer(a.split(' ').slice(0, 150).join(' ')).kind, 'kept') // a small part is not a near-duplicate
})

test('split by content hash is deterministic and about the requested fraction', () => {
  let val = 0
  for (let i = 0; i < 4000; i++) if (splitOf(`doc-${i}`, 0.1) === 'val') val++
  assert.ok(val > 300 && val < 500, String(val))
  assert.equal(splitOf('x'), splitOf('x'))
})

test('corpus build on fixture data: dedup, bad rows with file:line, groups, byte-identical rebuild, empty corpus error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-corpus-'))
  try {
    const data = join(dir, 'data')
    mkdirSync(join(data, 'defihacklabs'), { recursive: true })
    mkdirSync(join(data, 'eips'), { recursive: true })
    const eips = [
      { id: 'eip-1', title: 'One', description: 'first', body: words(300, 1) },
      { id: 'eip-2', title: 'Two', description: 'second', body: words(300, 2) },
      { id: 'eip-3', title: 'One', description: 'first', body: words(300, 1) }, // exact dup of eip-1 after the header? header differs by id -> near
      { id: 'eip-4', title: 'Four' }, // no body: bad row
    ]
    writeFileSync(join(data, 'eips/eips.jsonl.gz'), gzipSync(eips.map((e) => JSON.stringify(e)).join('\n') + '\n{broken\n'))
    const inc = [{ id: 'dhl-1', date: '2024-01-01', name: 'X', title: 'Reentrancy', poc_path: 'src/test/X_exp.sol', header_comment: words(50, 9) }]
    writeFileSync(join(data, 'defihacklabs/incidents.jsonl'), inc.map((e) => JSON.stringify(e)).join('\n') + '\n')
    writeFileSync(join(data, 'defihacklabs/pocs.jsonl.gz'), gzipSync(JSON.stringify({ poc_path: 'src/test/X_exp.sol', source: 'contract X {}\n' + words(80, 5) }) + '\n'))
    const sources = SOURCES.filter((s) => ['eips', 'dhl-incidents', 'dhl-pocs'].includes(s.name))
    const out1 = join(dir, 'o1')
    const r = await buildCorpus({ dataDir: data, outDir: out1, sources, valFraction: 0.5, quiet: true })
    const eipStats = r.datasheet.sources.find((s) => s.name === 'eips')!
    assert.equal(eipStats.badRows, 2)
    assert.equal(eipStats.nearDuplicates + eipStats.exactDuplicates, 1)
    assert.deepEqual(r.problems.map((p) => [p.file.endsWith('eips.jsonl.gz'), p.line]), [[true, 4], [true, 5]])
    assert.equal(r.splitById.get('eip-3'), r.splitById.get('eip-1'))
    // incident and its PoC share a group, so they are on the same side
    assert.equal(r.splitById.get('dhl-1'), r.splitById.get('src/test/X_exp.sol'))
    const all = [...r.train, ...r.val]
    assert.equal(all.length, 4)
    for (const d of all) assert.deepEqual(Object.keys(d), ['id', 'source', 'license', 'title', 'text', 'sha256'])
    const md = readFileSync(join(out1, 'datasheet.md'), 'utf8')
    assert.match(md, /eips\.jsonl\.gz:4: field "body"/)
    const txt = readFileSync(join(out1, 'train.txt'), 'utf8') + readFileSync(join(out1, 'val.txt'), 'utf8')
    assert.ok(txt.includes('\n\n# 2024-01-01 X') || txt.startsWith('# 2024-01-01 X'))
    const out2 = join(dir, 'o2')
    await buildCorpus({ dataDir: data, outDir: out2, sources, valFraction: 0.5, quiet: true })
    for (const f of ['train.jsonl', 'val.jsonl', 'train.txt', 'val.txt', 'datasheet.json', 'datasheet.md'])
      assert.ok(readFileSync(join(out1, f)).equals(readFileSync(join(out2, f))), f)
    // empty corpus
    writeFileSync(join(data, 'eips/eips.jsonl.gz'), gzipSync('\n'))
    await assert.rejects(buildCorpus({ dataDir: data, outDir: join(dir, 'o3'), sources: sources.slice(0, 1), quiet: true }), /empty corpus/)
    await assert.rejects(buildCorpus({ dataDir: join(dir, 'nope'), outDir: join(dir, 'o3'), sources, quiet: true }), /not found/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('corpus build on the real security sources (subset, for time)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-corpus-real-'))
  try {
    const sources = SOURCES.filter((s) => s.name.startsWith('swc-') || s.name.startsWith('vuln-'))
    const r = await buildCorpus({ dataDir: sharedDataDir(), outDir: dir, sources, quiet: true })
    assert.ok(r.train.length > 300, String(r.train.length))
    assert.ok(r.val.length > 0)
    assert.equal(r.datasheet.totals.badRows, 0)
    // smartbugs copies of SWC test cases are removed as near duplicates
    assert.ok(r.datasheet.dedup.nearRemoved > 0)
    const ids = new Set([...r.train, ...r.val].map((d) => d.id))
    assert.equal(ids.size, r.train.length + r.val.length)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
