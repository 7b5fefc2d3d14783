import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { toCid, walkDag } from './blocks.ts'
import { manifestProblems, parseFrom, PIPELINE_KIND, RUN_KIND, type PipelineManifest, type RunManifest } from './manifest.ts'
import type { BlockAccess, ContentStore, ReadOptions } from './types.ts'

export type ArtifactCheck = { cid: string; usedAs: string[]; ok: boolean; blocks: number; bytes: number; error?: string }
export type StageCheck = { stage: string; manifest: string; inputs: number; outputs: number }
export type VerifyReport = {
  root: string
  kind: 'pipeline' | 'run'
  ok: boolean
  stages: StageCheck[]
  artifacts: ArtifactCheck[]
  /** Human-readable, one per problem found; empty when ok. */
  problems: string[]
}

type VerifyStore = Pick<ContentStore, 'getDag'> & Pick<BlockAccess, 'getBlock'>

/**
 * Verify a pipeline or run manifest end to end:
 * - every linked manifest is fetched and its shape checked;
 * - every artifact (inputs and outputs of every stage) is refetched block by block and re-hashed;
 * - every input named `from:<stage>/<output>` equals that output of the named earlier stage;
 * - a stage's `previous` link, when present, names the stage manifest before it.
 * Problems are collected, not thrown, so one run reports all of them. A malformed CID still throws.
 */
export async function verifyManifest(store: VerifyStore, cidIn: CID | string, opts: ReadOptions & { onArtifact?: (a: ArtifactCheck) => void } = {}): Promise<VerifyReport> {
  const root = toCid(cidIn)
  const problems: string[] = []
  const read = { timeoutMs: opts.timeoutMs ?? 10_000, signal: opts.signal }
  const load = async <T>(cid: CID, what: string): Promise<T | undefined> => {
    try {
      return await store.getDag<T>(cid, read)
    } catch (err) {
      problems.push(`${what} ${cid} cannot be read: ${(err as Error).message}`)
      return undefined
    }
  }

  const top = await load<RunManifest | PipelineManifest>(root, 'manifest')
  const report: VerifyReport = { root: root.toString(), kind: 'run', ok: false, stages: [], artifacts: [], problems }
  if (!top) return report
  const shape = manifestProblems(top)
  if (shape.length > 0) {
    problems.push(...shape.map((s) => `manifest ${root}: ${s}`))
    return report
  }

  // the ordered list of stage manifests to check
  const stages: { cid: CID; m: RunManifest }[] = []
  if (top.kind === PIPELINE_KIND) {
    report.kind = 'pipeline'
    for (const [i, s] of top.stages.entries()) {
      const m = await load<RunManifest>(s, `stages[${i}]`)
      if (!m) continue
      const p = manifestProblems(m)
      if (m.kind !== RUN_KIND) p.unshift(`kind: expected "${RUN_KIND}"`)
      if (p.length > 0) problems.push(...p.map((x) => `stages[${i}] ${s}: ${x}`))
      else stages.push({ cid: s, m })
    }
  } else {
    // a lone run manifest: follow `previous` back so its from: inputs can be checked too
    stages.push({ cid: root, m: top })
    let prev = top.previous
    const seen = new Set([root.toString()])
    while (prev && !seen.has(prev.toString())) {
      seen.add(prev.toString())
      const m = await load<RunManifest>(prev, 'previous')
      if (!m) break
      const p = manifestProblems(m)
      if (p.length > 0) {
        problems.push(...p.map((x) => `previous ${prev}: ${x}`))
        break
      }
      stages.unshift({ cid: prev, m })
      prev = m.previous
    }
  }

  // artifacts, each verified once however many stages use it
  const uses = new Map<string, { cid: CID; usedAs: string[] }>()
  for (const { m } of stages) {
    for (const [role, links] of [['input', m.inputs], ['output', m.outputs]] as const) {
      for (const [name, cid] of Object.entries(links)) {
        const u = uses.get(cid.toString()) ?? { cid, usedAs: [] }
        u.usedAs.push(`${m.stage}.${role}s.${name}`)
        uses.set(cid.toString(), u)
      }
    }
  }
  for (const { cid, usedAs } of uses.values()) {
    const a: ArtifactCheck = { cid: cid.toString(), usedAs, ok: true, blocks: 0, bytes: 0 }
    try {
      for await (const b of walkDag(cid, (c) => store.getBlock(c, read))) {
        a.blocks++
        a.bytes += b.bytes.byteLength
      }
    } catch (err) {
      a.ok = false
      a.error = err instanceof Instruct3Error ? err.shortMessage : (err as Error).message
      problems.push(`artifact ${cid} (${usedAs.join(', ')}): ${a.error}`)
    }
    report.artifacts.push(a)
    opts.onArtifact?.(a)
  }

  // chaining: from:<stage>/<output> inputs and previous links
  const byName = new Map<string, { index: number; m: RunManifest }>()
  stages.forEach(({ cid, m }, index) => {
    report.stages.push({ stage: m.stage, manifest: cid.toString(), inputs: Object.keys(m.inputs).length, outputs: Object.keys(m.outputs).length })
    for (const [name, got] of Object.entries(m.inputs)) {
      const from = parseFrom(name)
      if (!from) continue
      const src = byName.get(from.stage)
      if (!src) {
        problems.push(`${m.stage}: input "${name}" names stage "${from.stage}", which did not run before it`)
        continue
      }
      const want = src.m.outputs[from.output]
      if (!want) problems.push(`${m.stage}: input "${name}" names output "${from.output}", which stage "${from.stage}" did not produce (it has: ${Object.keys(src.m.outputs).join(', ') || 'none'})`)
      else if (!want.equals(got)) problems.push(`${m.stage}: input "${name}" is ${got} but stage "${from.stage}" output "${from.output}" is ${want}`)
    }
    if (report.kind === 'pipeline' && index > 0 && m.previous && !m.previous.equals(stages[index - 1].cid)) {
      problems.push(`${m.stage}: previous is ${m.previous} but the stage before it in the pipeline is ${stages[index - 1].cid}`)
    }
    byName.set(m.stage, { index, m })
  })

  report.ok = problems.length === 0
  return report
}
