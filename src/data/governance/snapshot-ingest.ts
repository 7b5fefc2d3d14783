/**
 * `instruct3 ingest snapshot`: spaces, proposals and (optionally) votes from a Snapshot hub.
 * out/spaces.jsonl, out/votes.jsonl (streamed), out/snapshot-proposals/{train,val}.jsonl + datasheet.
 */
import { join } from 'node:path'
import { writeFileAtomic } from '../../util/atomic.ts'
import { createProgress } from '../../util/progress.ts'
import { writeDataset, type DatasetSheet } from '../dataset.ts'
import { createSnapshotClient, type SnapshotClientOptions, type SnapshotProposal } from './snapshot.ts'
import { outcomeOf } from './build.ts'

export async function ingestSnapshot(o: SnapshotClientOptions & { spaces: string[]; votes?: boolean; outDir: string; quiet?: boolean; valFraction?: number }) {
  const client = createSnapshotClient(o)
  const spaces = []
  for await (const s of client.spaces(o.spaces)) spaces.push(s)
  await writeFileAtomic(join(o.outDir, 'spaces.jsonl'), spaces.map((s) => JSON.stringify(s) + '\n').join(''))
  const proposals: SnapshotProposal[] = []
  const progress = createProgress({ label: 'snapshot', total: o.spaces.length, unit: 'spaces', quiet: o.quiet })
  for (const space of o.spaces) {
    for await (const p of client.proposals({ space })) proposals.push(p)
    progress.tick(1, { proposals: proposals.length })
  }
  progress.done()
  let votes = 0
  if (o.votes) {
    async function* lines(): AsyncGenerator<Uint8Array> {
      for (const p of proposals) for await (const v of client.votes({ proposal: p.id })) {
        votes++
        yield Buffer.from(JSON.stringify(v) + '\n')
      }
    }
    await writeFileAtomic(join(o.outDir, 'votes.jsonl'), lines())
  }
  // A proposal's winning choice (closed proposals with scores) is the outcome label when present.
  const sheet: DatasetSheet = await writeDataset({
    outDir: o.outDir, name: 'snapshot-proposals', description: `Snapshot proposals of ${o.spaces.join(', ')}.`,
    sources: [{ file: new URL(o.url).origin, upstream: 'Snapshot hub GraphQL', license: 'as published by each space (Snapshot content is user-submitted; check before redistribution)' }],
    schema: { id: 'string', space: 'string', author: 'string', created: 'number', title: 'string', body: 'string', choices: 'string[]', state: 'string?', outcome: 'string' },
    valFraction: o.valFraction,
    rows: proposals.map((p) => {
      const win = p.state === 'closed' && p.scores?.length ? p.choices[p.scores.indexOf(Math.max(...p.scores))] ?? null : null
      return { record: { ...p, space: p.space?.id ?? '', body: p.body ?? '', outcome: p.state === 'closed' ? (win && /^(for|yes|yae|approve)/i.test(win) ? 'accepted' : win && /^(against|no|nay|reject)/i.test(win) ? 'rejected' : 'other') : outcomeOf(p.state), winningChoice: win }, text: `${p.title}\n\n${p.body ?? ''}` }
    }),
  })
  return { spaces: spaces.length, proposals: proposals.length, votes, requests: client.requests, sheet }
}
