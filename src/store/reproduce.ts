import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { toCid } from './blocks.ts'
import { manifestProblems, PIPELINE_KIND, RUN_KIND, type PipelineManifest, type RunManifest } from './manifest.ts'
import type { ContentStore } from './types.ts'

/**
 * The hook the pipeline supplies: re-run one stage from its manifest (same config, same input CIDs,
 * materialised from the store) and return the CIDs of what it produced, by output name.
 */
export type Rerun = (stage: RunManifest, ctx: { manifest: CID }) => Promise<Record<string, CID>>

export type OutputComparison = { name: string; recorded: string | null; reproduced: string | null; same: boolean }
export type ReproduceReport = { stage: string; manifest: string; identical: boolean; outputs: OutputComparison[] }

/**
 * Re-run one stage and compare output CIDs with the recorded ones. Same CID = bitwise identical output.
 * `cid` is a run manifest, or a pipeline manifest plus `opts.stage` naming the stage to re-run.
 */
export async function reproduce(store: Pick<ContentStore, 'getDag'>, cidIn: CID | string, rerun: Rerun, opts: { stage?: string } = {}): Promise<ReproduceReport> {
  let cid = toCid(cidIn)
  let m = await store.getDag<RunManifest | PipelineManifest>(cid)
  const shape = manifestProblems(m)
  if (shape.length > 0) throw new Instruct3Error(`not a valid manifest: ${shape.join('; ')}`, { code: 'EMANIFEST', details: { cid: cid.toString() } })
  if (m.kind === PIPELINE_KIND) {
    if (!opts.stage) throw new Instruct3Error('a pipeline manifest needs a stage name to re-run', { code: 'EMANIFEST', details: { field: 'stage' } })
    let found: { cid: CID; m: RunManifest } | undefined
    for (const s of m.stages) {
      const sm = await store.getDag<RunManifest>(s)
      if (sm.stage === opts.stage) found = { cid: s, m: sm }
    }
    if (!found) throw new Instruct3Error(`pipeline ${cid} has no stage "${opts.stage}"`, { code: 'EMANIFEST', details: { field: 'stage' } })
    cid = found.cid
    m = found.m
  }
  if (m.kind !== RUN_KIND) throw new Instruct3Error('not a run manifest', { code: 'EMANIFEST', details: { cid: cid.toString() } })
  if (opts.stage && m.stage !== opts.stage) throw new Instruct3Error(`manifest is for stage "${m.stage}", not "${opts.stage}"`, { code: 'EMANIFEST', details: { field: 'stage' } })

  const got = await rerun(m, { manifest: cid })
  const names = [...new Set([...Object.keys(m.outputs), ...Object.keys(got)])].sort()
  const outputs = names.map((name) => {
    const recorded = m.outputs[name]?.toString() ?? null
    const reproduced = got[name]?.toString() ?? null
    return { name, recorded, reproduced, same: recorded !== null && recorded === reproduced }
  })
  return { stage: m.stage, manifest: cid.toString(), identical: outputs.every((o) => o.same), outputs }
}
