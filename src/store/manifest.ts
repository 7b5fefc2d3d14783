import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import { packageRoot } from '../util/paths.ts'
import type { ContentStore } from './types.ts'

/**
 * Lineage records, stored as dag-json so every link is a real IPLD link (a CID, not a string):
 * a run manifest per pipeline stage, and a pipeline manifest listing the stage manifests in order.
 *
 * How stages are chained: an input named `from:<stage>/<output>` declares that this input is exactly
 * output `<output>` of the earlier stage `<stage>`; `verifyManifest` checks that the CIDs are equal.
 * Inputs with other names (e.g. `corpus`, `base-model`) are external and only re-hashed.
 */
export const RUN_KIND = 'instruct3/run-manifest@1'
export const PIPELINE_KIND = 'instruct3/pipeline-manifest@1'

export type CodeVersion = { package: string; version: string; gitCommit: string | null; gitDirty: boolean | null }
export type Environment = { node: string; platform: string; arch: string; cpu: string; cpus: number }

export type RunManifest = {
  kind: typeof RUN_KIND
  stage: string
  config: unknown
  code: CodeVersion
  inputs: Record<string, CID>
  outputs: Record<string, CID>
  metrics: Record<string, number>
  environment: Environment
  startedAt: string
  finishedAt: string
  previous?: CID
}

export type PipelineManifest = {
  kind: typeof PIPELINE_KIND
  name: string
  /** Stage run manifests, in the order they ran. */
  stages: CID[]
  code: CodeVersion
  environment: Environment
  startedAt: string
  finishedAt: string
  previous?: CID
}

export type RunManifestInit = Omit<RunManifest, 'kind' | 'code' | 'environment' | 'metrics' | 'config'> &
  Partial<Pick<RunManifest, 'code' | 'environment' | 'metrics' | 'config'>>
export type PipelineManifestInit = Omit<PipelineManifest, 'kind' | 'code' | 'environment'> & Partial<Pick<PipelineManifest, 'code' | 'environment'>>

/** Parse an input name of the form `from:<stage>/<output>`; undefined for external inputs. */
export function parseFrom(name: string): { stage: string; output: string } | undefined {
  const m = /^from:([^/]+)\/(.+)$/.exec(name)
  return m ? { stage: m[1], output: m[2] } : undefined
}

let cachedCode: CodeVersion | undefined
/** This checkout's package name/version and git commit (null outside a git checkout). */
export function codeVersion(): CodeVersion {
  if (cachedCode) return cachedCode
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name: string; version: string }
  let gitCommit: string | null = null
  let gitDirty: boolean | null = null
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    gitDirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
  } catch {
    // not a git checkout (installed package): the version alone identifies the code
  }
  cachedCode = { package: pkg.name, version: pkg.version, gitCommit, gitDirty }
  return cachedCode
}

export function environment(): Environment {
  const c = cpus()
  return { node: process.version, platform: process.platform, arch: process.arch, cpu: c[0]?.model.trim() ?? 'unknown', cpus: c.length }
}

/** Check a manifest's shape; returns problems as "field: what is wrong" strings. */
export function manifestProblems(m: unknown): string[] {
  const p: string[] = []
  if (m === null || typeof m !== 'object') return ['manifest: not an object']
  const r = m as Record<string, unknown>
  const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v))
  if (!isDate(r.startedAt)) p.push('startedAt: not an ISO date')
  if (!isDate(r.finishedAt)) p.push('finishedAt: not an ISO date')
  if (isDate(r.startedAt) && isDate(r.finishedAt) && Date.parse(r.finishedAt as string) < Date.parse(r.startedAt as string)) p.push('finishedAt: before startedAt')
  if (r.previous !== undefined && !CID.asCID(r.previous)) p.push('previous: not a CID link')
  if (r.kind === RUN_KIND) {
    if (typeof r.stage !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(r.stage)) p.push('stage: must be a name of letters, digits, "_", "." or "-"')
    for (const field of ['inputs', 'outputs'] as const) {
      const links = r[field]
      if (links === null || typeof links !== 'object' || Array.isArray(links)) {
        p.push(`${field}: not a map of name -> CID link`)
        continue
      }
      for (const [name, v] of Object.entries(links)) {
        if (!CID.asCID(v)) p.push(`${field}.${name}: not a CID link`)
        if (field === 'inputs' && name.startsWith('from:') && !parseFrom(name)) p.push(`inputs.${name}: expected "from:<stage>/<output>"`)
      }
    }
    if (r.metrics !== null && typeof r.metrics === 'object') {
      for (const [k, v] of Object.entries(r.metrics as object)) if (typeof v !== 'number' || !Number.isFinite(v)) p.push(`metrics.${k}: not a finite number`)
    } else p.push('metrics: not an object')
  } else if (r.kind === PIPELINE_KIND) {
    if (typeof r.name !== 'string' || r.name === '') p.push('name: missing')
    if (!Array.isArray(r.stages) || r.stages.length === 0) p.push('stages: must list at least one stage manifest')
    else r.stages.forEach((s, i) => { if (!CID.asCID(s)) p.push(`stages[${i}]: not a CID link`) })
  } else {
    p.push(`kind: expected "${RUN_KIND}" or "${PIPELINE_KIND}"`)
  }
  return p
}

/** Every CID a manifest links to, with the field it sits in. */
export function manifestLinks(m: RunManifest | PipelineManifest): { field: string; cid: CID }[] {
  const out: { field: string; cid: CID }[] = []
  if (m.kind === RUN_KIND) {
    for (const [k, v] of Object.entries(m.inputs)) out.push({ field: `inputs.${k}`, cid: v })
    for (const [k, v] of Object.entries(m.outputs)) out.push({ field: `outputs.${k}`, cid: v })
  } else {
    m.stages.forEach((s, i) => out.push({ field: `stages[${i}]`, cid: s }))
  }
  if (m.previous) out.push({ field: 'previous', cid: m.previous })
  return out
}

/**
 * Validate and store a manifest. Every link must already resolve in the store (all blocks present):
 * a manifest pointing at something the store cannot produce is refused and nothing is written.
 */
async function writeChecked(store: ContentStore, m: RunManifest | PipelineManifest, label: string): Promise<CID> {
  const problems = manifestProblems(m)
  if (problems.length > 0) throw new Instruct3Error(`invalid ${label}: ${problems.join('; ')}`, { code: 'EMANIFEST', details: { field: problems[0].split(':')[0] } })
  const unresolved: string[] = []
  for (const { field, cid } of manifestLinks(m)) if (!(await store.has(cid))) unresolved.push(`${field} -> ${cid}`)
  if (unresolved.length > 0) {
    throw new Instruct3Error(`${label} has links that do not resolve in the store: ${unresolved.join(', ')}`, { code: 'EUNRESOLVED', details: { field: unresolved[0].split(' ')[0] } })
  }
  return store.putDag(m)
}

/** Write one stage's run manifest (code version and environment filled in when not given). */
export async function writeManifest(store: ContentStore, init: RunManifestInit): Promise<CID> {
  const m: RunManifest = {
    kind: RUN_KIND,
    stage: init.stage,
    config: init.config ?? null,
    code: init.code ?? codeVersion(),
    inputs: init.inputs,
    outputs: init.outputs,
    metrics: init.metrics ?? {},
    environment: init.environment ?? environment(),
    startedAt: init.startedAt,
    finishedAt: init.finishedAt,
    ...(init.previous ? { previous: init.previous } : {}),
  }
  return writeChecked(store, m, `run manifest for stage "${init.stage}"`)
}

/** Write the pipeline manifest that links the stage manifests, in run order. */
export async function writePipelineManifest(store: ContentStore, init: PipelineManifestInit): Promise<CID> {
  const m: PipelineManifest = {
    kind: PIPELINE_KIND,
    name: init.name,
    stages: init.stages,
    code: init.code ?? codeVersion(),
    environment: init.environment ?? environment(),
    startedAt: init.startedAt,
    finishedAt: init.finishedAt,
    ...(init.previous ? { previous: init.previous } : {}),
  }
  for (const [i, s] of m.stages.entries()) {
    const stage = await store.getDag<{ kind?: unknown }>(s, { timeoutMs: 5_000 }).catch(() => undefined)
    if (!stage || stage.kind !== RUN_KIND) throw new Instruct3Error(`stages[${i}] (${s}) is not a run manifest in the store`, { code: 'EUNRESOLVED', details: { field: `stages[${i}]` } })
  }
  return writeChecked(store, m, `pipeline manifest "${init.name}"`)
}
