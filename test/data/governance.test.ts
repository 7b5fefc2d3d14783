import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parseFrontMatter } from '../../src/data/governance/frontmatter.ts'
import { parseEipMarkdown, readEipDir } from '../../src/data/governance/eips.ts'
import { buildGovernance, outcomeOf } from '../../src/data/governance/build.ts'
import { buildSecurity } from '../../src/data/security/build.ts'
import { createSnapshotClient } from '../../src/data/governance/snapshot.ts'
import { ingestSnapshot } from '../../src/data/governance/snapshot-ingest.ts'
import { startSnapshotStandin, snapshotSchema, type Row } from './snapshot-standin.ts'
import { parse, validate } from 'graphql'
import { writeDataset } from '../../src/data/dataset.ts'
import type { RowProblem } from '../../src/data/sources.ts'
import { sharedDataDir } from '../../src/util/paths.ts'

const tmp = () => mkdtempSync(join(tmpdir(), 'i3-gov-'))

test('front matter: fields, lists, quotes; malformed input names file and line', () => {
  const fm = parseFrontMatter('---\neip: 20\ntitle: "Token: Standard"\nrequires:\n  - 165\n  - 721\n---\n\n## Abstract\nx\n', 'eip-20.md')
  assert.deepEqual(fm.data, { eip: '20', title: 'Token: Standard', requires: '165, 721' })
  assert.equal(fm.body, '## Abstract\nx\n')
  assert.equal(fm.bodyLine, 8)
  assert.throws(() => parseFrontMatter('# no front matter', 'a.md'), /a\.md:1: missing front matter/)
  assert.throws(() => parseFrontMatter('---\neip: 1\n', 'b.md'), /b\.md:3: front matter is not closed/)
  assert.throws(() => parseFrontMatter('---\neip: 1\nthis is not a field\n---\nbody', 'c.md'), /c\.md:3: front matter line/)
  assert.throws(() => parseFrontMatter('---\neip: 1\neip: 2\n---\nbody', 'd.md'), /d\.md:3: field "eip": duplicate/)
  assert.throws(() => parseEipMarkdown('---\ntitle: x\nstatus: Final\n---\nbody', 'e.md'), /e\.md:2: field "eip"/)
  assert.equal(outcomeOf('Implemented'), 'accepted')
  assert.equal(outcomeOf('Rejected'), 'rejected')
  assert.equal(outcomeOf('Draft'), 'pending')
  assert.equal(outcomeOf('Withdrawn'), 'withdrawn')
})

test('real EIPs rendered back to markdown parse to the same fields; malformed files skipped with counts; governance datasets build', async () => {
  const dir = tmp()
  try {
    const rows = gunzipSync(readFileSync(join(sharedDataDir(), 'eips', 'eips.jsonl.gz'))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).slice(0, 60)
    const eipsDir = join(dir, 'checkout')
    for (const r of rows) {
      const fm = Object.entries(r.frontmatter as Record<string, string>).map(([k, v]) => `${k}: ${v}`).join('\n')
      mkdirSync(join(eipsDir, r.path, '..'), { recursive: true })
      writeFileSync(join(eipsDir, r.path), `---\n${fm}\n---\n\n${r.body}`)
    }
    mkdirSync(join(eipsDir, 'EIPS'), { recursive: true })
    writeFileSync(join(eipsDir, 'EIPS', 'eip-99999.md'), '---\neip: 99999\ntitle: broken\nnot a key value line\n---\nbody')
    writeFileSync(join(eipsDir, 'EIPS', 'eip-99998.md'), 'no front matter at all')
    const problems: RowProblem[] = []
    const recs = readEipDir(eipsDir, (p) => problems.push(p))
    assert.equal(recs.length, rows.length)
    assert.deepEqual(problems.map((p) => [p.file.endsWith('eip-99998.md') || p.file.endsWith('eip-99999.md'), p.line]).sort(), [[true, 1], [true, 4]])
    const byId = new Map(recs.map((r) => [r.id, r]))
    for (const r of rows) {
      const got = byId.get(r.id)!
      assert.ok(got, r.id)
      assert.equal(got.number, Number(r.number))
      for (const k of ['title', 'status', 'author', 'description', 'created', 'category', 'type'] as const) assert.equal(got[k] ?? null, r[k] ?? null, `${r.id} ${k}`)
      assert.equal(got.body, r.body)
    }
    const out = join(dir, 'out')
    const sheets = await buildGovernance({ dataDir: sharedDataDir(), outDir: out, eipsDir })
    const eips = sheets.find((s) => s.name === 'eips')!
    assert.equal(eips.counts.rows, rows.length)
    assert.equal(eips.problems.length, 2)
    const dao = sheets.find((s) => s.name === 'dao-proposals')!
    assert.ok(dao.counts.train > 1000 && dao.counts.val > 10)
    const first = JSON.parse(readFileSync(join(out, 'dao-proposals', 'train.jsonl'), 'utf8').split('\n')[0])
    for (const k of ['id', 'dao', 'kind', 'title', 'outcome', 'body', 'sha256']) assert.ok(k in first, k)
    assert.match(readFileSync(join(out, 'eips', 'datasheet.md'), 'utf8'), /eip-9999[89]\.md:[14]/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('security datasets from the real data: schema, dedup, split aligned with the corpus', async () => {
  const out = tmp()
  try {
    const sheets = await buildSecurity({ dataDir: sharedDataDir(), outDir: out })
    assert.deepEqual(sheets.map((s) => s.name), ['swc-entries', 'swc-test-cases', 'incidents', 'vuln-guides'])
    const inc = sheets.find((s) => s.name === 'incidents')!
    assert.ok(inc.counts.train > 600 && inc.counts.val > 10)
    assert.equal(inc.counts.invalid, 1) // one upstream incident has no root-cause label
    assert.ok(sheets.find((s) => s.name === 'vuln-guides')!.counts.nearDuplicates > 0)
    const row = JSON.parse(readFileSync(join(out, 'incidents', 'train.jsonl'), 'utf8').split('\n')[0])
    assert.ok(row.root_cause && row.sha256)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('writeDataset reports invalid rows, removes duplicates, refuses an empty dataset', async () => {
  const out = tmp()
  try {
    const s = await writeDataset({
      outDir: out, name: 'd', description: 'x', sources: [], schema: { id: 'string', n: 'number' },
      rows: [
        { record: { id: 'a', n: 1 }, text: 'alpha beta gamma delta epsilon zeta eta theta' },
        { record: { id: 'b', n: 2 }, text: 'ALPHA beta gamma delta epsilon zeta eta theta' },
        { record: { id: 'c' }, text: 'other', where: { file: 'f.jsonl', line: 7 } },
      ],
    })
    assert.deepEqual([s.counts.invalid, s.counts.exactDuplicates, s.counts.train + s.counts.val], [1, 1, 1])
    assert.deepEqual(s.problems, [{ file: 'f.jsonl', line: 7, message: 'field "n": missing required field' }])
    await assert.rejects(writeDataset({ outDir: out, name: 'e', description: '', sources: [], schema: { id: 'string' }, rows: [{ record: {}, text: 'x' }] }), /empty/)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

// ---- Snapshot: the hub's own schema and limits in a local stand-in (test/data/snapshot-standin.ts). Test code only. ----
function snapshotData() {
  const spaces: Row[] = [{ id: 'dao.eth', name: 'DAO', network: '1', symbol: 'DAO', admins: [], members: [], created: 1 }, { id: 'other.eth', name: 'Other', created: 2 }]
  // 150 more spaces: more than the hub's 100-entry cap on id_in
  for (let i = 0; i < 150; i++) spaces.push({ id: `s${i}.eth`, name: `S${i}`, created: 10 + i })
  const proposals: Row[] = Array.from({ length: 23 }, (_, i) => ({
    id: `0xp${i}`, author: '0xa', created: 1000 + Math.floor(i / 4), space: { id: 'dao.eth' }, network: '1', type: 'single-choice', title: `Proposal ${i}`,
    body: `Body of proposal number ${i} about ${['fees', 'grants', 'listing', 'risk'][i % 4]} ${'word '.repeat(i)}`, discussion: '', choices: ['For', 'Against'], start: 1, end: 2,
    snapshot: 19_000_000 + i, state: i < 20 ? 'closed' : 'active', scores: [i % 3, 1], scores_total: 3, votes: 0, quorum: 0,
  }))
  // many votes share one created second: re-anchoring must not lose or repeat them
  const votes: Row[] = Array.from({ length: 57 }, (_, i) => ({ id: `0xv${i}`, voter: `0x${i}`, created: 5000 + Math.floor(i / 10), space: { id: 'dao.eth' }, proposal: { id: '0xp0' }, choice: 1 + (i % 2), vp: i }))
  return { spaces, proposals, votes }
}
async function snapshotStandIn(opts: { maxSkip: number; rateLimitEvery: number }) {
  const data = snapshotData()
  const s = await startSnapshotStandin({ ...data, rateLimitEvery: opts.rateLimitEvery, limits: { skip: opts.maxSkip } })
  return { ...s, ...data }
}

test('Snapshot client: schema-valid queries, pagination past the skip cap, rate-limit retries', async () => {
  const s = await snapshotStandIn({ maxSkip: 10, rateLimitEvery: 5 })
  try {
    const c = createSnapshotClient({ url: s.url, pageSize: 5, maxSkip: 10, retryDelayMs: 1 })
    const spaces = []
    for await (const x of c.spaces(['dao.eth'])) spaces.push(x)
    assert.deepEqual(spaces.map((x) => x.id), ['dao.eth'])
    const ps = []
    for await (const p of c.proposals({ space: 'dao.eth' })) ps.push(p.id)
    assert.deepEqual(ps, s.proposals.map((p) => p.id))
    const vs = []
    for await (const v of c.votes({ proposal: '0xp0' })) vs.push(v.id)
    assert.deepEqual([...vs].sort(), s.votes.map((v) => v.id).sort())
    assert.equal(new Set(vs).size, vs.length)
    assert.ok(s.bodies.some((b) => b.includes('"created_gte":1003')), 're-anchored on created') // proposals: 4 per second
    assert.ok(c.requests > 20)
    // a GraphQL error (not a rate limit) is reported, not retried forever
    const bad = createSnapshotClient({ url: s.url, pageSize: 5, maxSkip: 100, retryDelayMs: 1 })
    await assert.rejects((async () => { for await (const _ of bad.proposals({ space: 'dao.eth' })) {} })(), /Snapshot GraphQL error: .*skip/)
    // too many items at one timestamp cannot be paginated with a tiny cap: a clear error
    const tiny = createSnapshotClient({ url: s.url, pageSize: 5, maxSkip: 5, retryDelayMs: 1 })
    await assert.rejects((async () => { for await (const _ of tiny.votes({ proposal: '0xp0' })) {} })(), /share created=5000/)
  } finally {
    await s.close()
  }
})

test('ingest snapshot writes spaces, votes and a split proposals dataset', async () => {
  const s = await snapshotStandIn({ maxSkip: 10, rateLimitEvery: 7 })
  const out = tmp()
  try {
    const r = await ingestSnapshot({ url: s.url, spaces: ['dao.eth'], votes: true, outDir: out, pageSize: 5, maxSkip: 10, retryDelayMs: 1, quiet: true })
    assert.deepEqual([r.spaces, r.proposals, r.votes], [1, 23, 57])
    assert.equal(readFileSync(join(out, 'votes.jsonl'), 'utf8').trim().split('\n').length, 57)
    assert.equal(r.sheet.counts.train + r.sheet.counts.val, 23)
    const rows = readFileSync(join(out, 'snapshot-proposals', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.ok(rows.every((p) => ['accepted', 'rejected', 'other', 'pending'].includes(p.outcome)))
  } finally {
    await s.close()
    rmSync(out, { recursive: true, force: true })
  }
})

test('Snapshot client: more than 100 space ids are asked for 100 at a time (the hub caps every *_in list at 100)', async () => {
  const s = await snapshotStandIn({ maxSkip: 5000, rateLimitEvery: 1000 })
  try {
    const ids = s.spaces.map((x) => x.id) // 152 ids
    const c = createSnapshotClient({ url: s.url, pageSize: 1000, retryDelayMs: 1 })
    const got: string[] = []
    for await (const x of c.spaces(ids)) got.push(x.id)
    assert.deepEqual(got.sort(), [...ids].sort())
    const sizes = s.bodies.map((b) => JSON.parse(b).variables.where.id_in.length)
    assert.deepEqual(sizes, [100, 52])
    // what the hub answers a longer list with (helpers.ts checkLimits), reported as a GraphQL error
    const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query($w: SpaceWhere) { spaces(first: 10, skip: 0, where: $w) { id } }', variables: { w: { id_in: ids } } }) })
    assert.equal((await res.json()).errors[0].message, 'The `id_in` argument must not be greater than 100')
    assert.throws(() => c.proposals({ space_in: Array.from({ length: 10_001 }, (_, i) => `s${i}`) }), /space_in lists 10001 spaces; the hub accepts at most 10000/)
  } finally {
    await s.close()
  }
})

test("Snapshot client: queries validate against snapshot-hub's schema.gql and `snapshot` comes back as an Int", async () => {
  const s = await snapshotStandIn({ maxSkip: 5000, rateLimitEvery: 1000 })
  try {
    const c = createSnapshotClient({ url: s.url, pageSize: 10, retryDelayMs: 1 })
    const ps = []
    for await (const p of c.proposals({ space: 'dao.eth' })) ps.push(p)
    for await (const _ of c.spaces(['dao.eth'])) {}
    for await (const _ of c.votes({ proposal: '0xp0' })) {}
    assert.equal(typeof ps[0].snapshot, 'number')
    assert.equal(ps[3].snapshot, 19_000_003)
    // every query our client sent, checked against the vendored schema (the stand-in also executes them with it)
    const schema = snapshotSchema()
    const kinds = new Set<string>()
    for (const b of s.bodies) {
      const { query } = JSON.parse(b) as { query: string }
      assert.deepEqual(validate(schema, parse(query)).map((e) => e.message), [], query)
      kinds.add(/\{ (\w+)\(/.exec(query)![1])
    }
    assert.deepEqual([...kinds].sort(), ['proposals', 'spaces', 'votes'])
    // and a query in the old shape would not: snapshot is no String, so a String variable for it is refused
    assert.match(validate(schema, parse('query($s: String) { proposals(first: 1, skip: 0, where: { created_gte: $s }) { id } }'))[0]?.message ?? '', /String.*Int/)
  } finally {
    await s.close()
  }
})
