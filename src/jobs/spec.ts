import { readFileSync } from 'node:fs'
import { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import type { BacalhauJob, DockerEngineParams, Task } from './bacalhau-model.ts'
import { DEFAULT_NAMESPACE, ENV_VAR_PREFIX } from './bacalhau-model.ts'
import { parseBytes, parseCpu, parseGpu } from './quantities.ts'
import { INPUTS_ROOT, OUTPUTS_NAME, OUTPUTS_PATH, type StageJobSpec } from './types.ts'

/** Input names become path segments under /inputs: keep them to one safe segment. */
const INPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export type SpecIssue = { field: string; message: string }

/** Check a stage spec's own fields (before it is turned into a Bacalhau job or run locally). */
export function checkStageSpec(input: unknown): SpecIssue[] {
  const issues: SpecIssue[] = []
  const bad = (field: string, message: string) => issues.push({ field, message })
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ field: 'spec', message: 'must be an object' }]
  const s = input as Record<string, unknown>

  for (const k of ['name', 'stage', 'image'] as const) {
    if (typeof s[k] !== 'string' || (s[k] as string).trim() === '') bad(k, 'must be a non-empty string')
    else if ((s[k] as string).includes('\0')) bad(k, 'contains a null character')
  }
  if (typeof s.stage === 'string' && s.stage !== '' && !/^[a-z0-9][a-z0-9-]*$/.test(s.stage)) {
    bad('stage', 'must be lowercase letters, digits and dashes')
  }
  if (!isStringArray(s.args)) bad('args', 'must be an array of strings')
  if (s.entrypoint !== undefined && (!isStringArray(s.entrypoint) || s.entrypoint.length === 0)) {
    bad('entrypoint', 'must be a non-empty array of strings')
  }

  if (!Array.isArray(s.inputs)) bad('inputs', 'must be an array of {name, cid}')
  else {
    const seen = new Set<string>()
    s.inputs.forEach((inp: unknown, i: number) => {
      const at = `inputs[${i}]`
      if (typeof inp !== 'object' || inp === null) return bad(at, 'must be an object {name, cid}')
      const { name, cid } = inp as Record<string, unknown>
      if (typeof name !== 'string' || !INPUT_NAME.test(name)) bad(`${at}.name`, 'must be one path segment: letters, digits, ".", "_", "-"')
      else if (seen.has(name)) bad(`${at}.name`, `duplicate input name "${name}"`)
      else seen.add(name)
      if (typeof cid !== 'string') bad(`${at}.cid`, 'must be a CID string')
      else {
        try {
          CID.parse(cid)
        } catch {
          bad(`${at}.cid`, `not a CID: "${cid}"`)
        }
      }
    })
  }

  if (s.resources !== undefined) {
    const r = s.resources as Record<string, unknown>
    if (typeof r !== 'object' || r === null) bad('resources', 'must be an object')
    else {
      const chk = (k: string, parse: (v: string) => number | null, what: string) => {
        const v = r[k]
        if (v === undefined) return
        const str = typeof v === 'number' ? String(v) : v
        if (typeof str !== 'string' || parse(str) === null) bad(`resources.${k}`, `invalid ${what} ${JSON.stringify(v)}`)
        else if (parse(str)! < 0) bad(`resources.${k}`, `${what} must not be negative`)
      }
      chk('cpu', parseCpu, 'CPU (cores like "2" or millicores like "500m")')
      chk('memory', parseBytes, 'memory (bytes like "4gb", "512mib")')
      chk('disk', parseBytes, 'disk (bytes like "10gb")')
      chk('gpu', parseGpu, 'GPU count')
    }
  }

  if (s.timeouts !== undefined) {
    const t = s.timeouts as Record<string, unknown>
    if (typeof t !== 'object' || t === null) bad('timeouts', 'must be an object')
    else {
      for (const k of ['executionSeconds', 'queueSeconds', 'totalSeconds']) {
        const v = t[k]
        if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) bad(`timeouts.${k}`, 'must be a whole number of seconds >= 0')
      }
      const e = Number(t.executionSeconds ?? 0)
      const q = Number(t.queueSeconds ?? 0)
      const tot = Number(t.totalSeconds ?? 0)
      if (tot > 0 && e + q > tot) bad('timeouts.totalSeconds', `execution (${e}s) + queue (${q}s) exceed total (${tot}s)`)
    }
  }

  if (s.env !== undefined) {
    if (typeof s.env !== 'object' || s.env === null) bad('env', 'must be an object of strings')
    else {
      for (const [k, v] of Object.entries(s.env)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(k)) bad(`env.${k}`, 'name must be uppercase letters, digits and "_", starting with a letter')
        else if (k.startsWith(ENV_VAR_PREFIX)) bad(`env.${k}`, `names starting with ${ENV_VAR_PREFIX} are reserved by Bacalhau`)
        if (typeof v !== 'string' || v === '') bad(`env.${k}`, 'value must be a non-empty string')
      }
    }
  }
  if (s.workingDir !== undefined && (typeof s.workingDir !== 'string' || !s.workingDir.startsWith('/'))) {
    bad('workingDir', 'must be an absolute path')
  }
  return issues
}

/** Throw an Instruct3Error naming the first bad field unless the stage spec is valid. */
export function assertStageSpec(input: unknown, file?: string): StageJobSpec {
  const issues = checkStageSpec(input)
  if (issues.length > 0) {
    const more = issues.length > 1 ? `; also: ${issues.slice(1).map((i) => `${i.field}: ${i.message}`).join('; ')}` : ''
    throw new Instruct3Error(`invalid job spec: ${issues[0].message}${more}`, {
      code: 'EJOBSPEC',
      details: { ...(file ? { file } : {}), field: issues[0].field, errors: issues },
    })
  }
  return input as StageJobSpec
}

export function inputTarget(name: string): string {
  return `${INPUTS_ROOT}/${name}`
}

/**
 * Emit the Bacalhau job for a stage: a batch job with one docker task, its inputs as ipfs InputSources mounted at
 * /inputs/<name>, /outputs published through the ipfs publisher.
 */
export function toBacalhauJob(spec: StageJobSpec): BacalhauJob {
  assertStageSpec(spec)
  const params: DockerEngineParams = { Image: spec.image }
  if (spec.entrypoint) params.Entrypoint = [...spec.entrypoint]
  params.Parameters = [...spec.args]
  const env = Object.entries(spec.env ?? {})
  if (env.length > 0) params.EnvironmentVariables = env.map(([k, v]) => `${k}=${v}`)
  if (spec.workingDir) params.WorkingDirectory = spec.workingDir

  const task: Task = {
    Name: spec.stage,
    Engine: { Type: 'docker', Params: params },
    Publisher: { Type: 'ipfs', Params: {} },
    InputSources: spec.inputs.map((i) => ({ Alias: i.name, Target: inputTarget(i.name), Source: { Type: 'ipfs', Params: { CID: i.cid } } })),
    ResultPaths: [{ Name: OUTPUTS_NAME, Path: OUTPUTS_PATH }],
  }
  const r = spec.resources
  if (r) {
    task.Resources = {}
    if (r.cpu !== undefined) task.Resources.CPU = String(r.cpu)
    if (r.memory !== undefined) task.Resources.Memory = String(r.memory)
    if (r.disk !== undefined) task.Resources.Disk = String(r.disk)
    if (r.gpu !== undefined) task.Resources.GPU = String(r.gpu)
  }
  const t = spec.timeouts
  if (t) {
    task.Timeouts = {}
    if (t.executionSeconds !== undefined) task.Timeouts.ExecutionTimeout = t.executionSeconds
    if (t.queueSeconds !== undefined) task.Timeouts.QueueTimeout = t.queueSeconds
    if (t.totalSeconds !== undefined) task.Timeouts.TotalTimeout = t.totalSeconds
  }
  return {
    Name: spec.name,
    Namespace: DEFAULT_NAMESPACE,
    Type: 'batch',
    Count: 1,
    Meta: { 'instruct3/stage': spec.stage, ...(spec.meta ?? {}) },
    Tasks: [task],
  }
}

export type JobFile = { kind: 'stage'; spec: StageJobSpec } | { kind: 'bacalhau'; job: unknown }

/**
 * Read a job file: a stage spec (has "stage"), a Bacalhau job (has "Tasks"), or a PUT body ({"Job": {...}}).
 * A stage spec is checked here; a Bacalhau job is returned as is for validateBacalhauJob.
 */
export function readJobFile(file: string): JobFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new Instruct3Error('cannot read job file', { code: 'ENOENT', details: { file }, cause })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new Instruct3Error(`invalid JSON (${(cause as Error).message})`, { code: 'EJOBSPEC', details: { file }, cause })
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>
    if ('stage' in v) return { kind: 'stage', spec: assertStageSpec(v, file) }
    if ('Job' in v) return { kind: 'bacalhau', job: v.Job }
    if ('Tasks' in v || 'Type' in v) return { kind: 'bacalhau', job: v }
  }
  throw new Instruct3Error('not a job file: expected a stage spec ({"stage": ...}) or a Bacalhau job ({"Tasks": [...]})', {
    code: 'EJOBSPEC',
    details: { file },
  })
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}
