import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { createServer, type Server } from 'node:http'
import { buildSchema, graphql } from 'graphql'
import { parseFrontMatter } from '../../src/data/governance/frontmatter.ts'
import { parseEipMarkdown, readEipDir } from '../../src/data/governance/eips.ts'
import { buildGovernance, outcomeOf } from '../../src/data/governance/build.ts'
import { buildSecurity } from '../../src/data/security/build.ts'
import { createSnapshotClient } from '../../src/data/governance/snapshot.ts'
import { ingestSnapshot } from '../../src/data/governance/snapshot-ingest.ts'
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

// ---- Snapshot: a local stand-in that speaks (a subset of) the hub's GraphQL schema. Test code only. ----
const SDL = `
scalar Any
enum OrderDirection { asc desc }
input SpaceWhere { id: String, id_in: [String] }
input ProposalWhere { id: String, id_in: [String], space: String, space_in: [String], state: String, created_gte: Int, created_gt: Int }
input VoteWhere { id: String, proposal: String, space: String, voter: String, created_gte: Int, created_gt: Int }
type Space { id: String!, name: String, about: String, network: String, symbol: String, admins: [String], members: [String] }
type Proposal { id: String!, author: String!, created: Int!, space: Space, network: String!, type: String, title: String!, body: String, discussion: String, choices: [String]!, start: Int!, end: Int!, snapshot: String, state: String, scores: [Float], scores_total: Float, votes: Int, quorum: Float, link: String }
type Vote { id: String!, voter: String!, created: Int!, space: Space!, proposal: Proposal, choice: Any!, vp: Float, reason: String }
type Query {
  spaces(first: Int, skip: Int, where: SpaceWhere, orderBy: String, orderDirection: OrderDirection): [Space]
  proposals(first: Int, skip: Int, where: ProposalWhere, orderBy: String, orderDirection: OrderDirection): [Proposal]
  votes(first: Int, skip: Int, where: VoteWhere, orderBy: String, orderDirection: OrderDirection): [Vote]
}`

type Row = Record<string, unknown> & { id: string; created: number }
async function snapshotStandIn(opts: { maxSkip: number; rateLimitEvery: number }) {
  const schema = buildSchema(SDL)
  const spaces = [{ id: 'dao.eth', name: 'DAO', network: '1', symbol: 'DAO', admins: [], members: [] }, { id: 'other.eth', name: 'Other' }]
  const proposals: Row[] = Array.from({ length: 23 }, (_, i) => ({
    id: `0xp${i}`, author: '0xa', created: 1000 + Math.floor(i / 4), space: { id: 'dao.eth' }, network: '1', type: 'single-choice', title: `Proposal ${i}`,
    body: `Body of proposal number ${i} about ${['fees', 'grants', 'listing', 'risk'][i % 4]} ${'word '.repeat(i)}`, choices: ['For', 'Against'], start: 1, end: 2, state: i < 20 ? 'closed' : 'active', scores: [i % 3, 1], scores_total: 3, votes: 0,
  }))
  // many votes share one created second: re-anchoring must not lose or repeat them
  const votes: Row[] = Array.from({ length: 57 }, (_, i) => ({ id: `0xv${i}`, voter: `0x${i}`, created: 5000 + Math.floor(i / 10), space: { id: 'dao.eth' }, proposal: { id: '0xp0' }, choice: 1 + (i % 2), vp: i }))
  const filter = (rows: Row[], where: Record<string, unknown> = {}) =>
    rows.filter((r) => Object.entries(where).every(([k, v]) => {
      if (k === 'id_in') return (v as string[]).includes(r.id)
      if (k === 'created_gte') return r.created >= (v as number)
      if (k === 'created_gt') return r.created > (v as number)
      if (k === 'space') return (r.space as { id: string })?.id === v
      if (k === 'proposal') return (r.proposal as { id: string })?.id === v
      return r[k] === v
    }))
  const page = (rows: Row[], a: { first?: number; skip?: number; where?: Record<string, unknown>; orderBy?: string; orderDirection?: string }) => {
    if ((a.skip ?? 0) > opts.maxSkip) throw new Error(`The \`skip\` argument must not be greater than ${opts.maxSkip}`)
    if ((a.first ?? 20) > 1000) throw new Error('The `first` argument must not be greater than 1000')
    const sorted = [...filter(rows, a.where)].sort((x, y) => (x.created - y.created || x.id.localeCompare(y.id, 'en', { numeric: true })) * (a.orderDirection === 'desc' ? -1 : 1))
    return sorted.slice(a.skip ?? 0, (a.skip ?? 0) + (a.first ?? 20))
  }
  const root = {
    spaces: (a: { first?: number; skip?: number; where?: { id_in?: string[] } }) => spaces.filter((s) => !a.where?.id_in || a.where.id_in.includes(s.id)).slice(a.skip ?? 0, (a.skip ?? 0) + (a.first ?? 20)),
    proposals: (a: Parameters<typeof page>[1]) => page(proposals, a),
    votes: (a: Parameters<typeof page>[1]) => page(votes, a),
  }
  let n = 0
  const bodies: string[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', async () => {
      n++
      if (n % opts.rateLimitEvery === 0) {
        res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'too many requests' }] }))
        return
      }
      const { query, variables } = JSON.parse(body)
      bodies.push(body)
      const result = await graphql({ schema, source: query, rootValue: root, variableValues: variables })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`, server, proposals, votes, bodies }
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
    s.server.close()
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
    s.server.close()
    rmSync(out, { recursive: true, force: true })
  }
})
