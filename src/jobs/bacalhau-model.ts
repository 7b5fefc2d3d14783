/**
 * The subset of Bacalhau's job model (pkg/models in bacalhau-project/bacalhau, v1.5+ API) that instruct3 writes and reads.
 * Field names are Bacalhau's JSON names (PascalCase), so these objects go on the wire as they are.
 */

export type SpecConfig = { Type: string; Params?: Record<string, unknown> }

export type InputSource = { Source: SpecConfig; Alias?: string; Target: string }

export type ResultPath = { Name: string; Path: string }

export type ResourcesConfig = { CPU?: string; Memory?: string; Disk?: string; GPU?: string }

/** Seconds. */
export type TimeoutConfig = { ExecutionTimeout?: number; QueueTimeout?: number; TotalTimeout?: number }

export type Task = {
  Name: string
  Engine: SpecConfig
  Publisher?: SpecConfig
  Env?: Record<string, string>
  Meta?: Record<string, string>
  InputSources?: InputSource[]
  ResultPaths?: ResultPath[]
  Resources?: ResourcesConfig
  Network?: { Type?: string | number; Domains?: string[] }
  Timeouts?: TimeoutConfig
}

export type LabelSelectorRequirement = { Key: string; Operator: string; Values?: string[] }

export type BacalhauJob = {
  ID?: string
  Name?: string
  Namespace?: string
  Type: string
  Priority?: number
  Count?: number
  Constraints?: LabelSelectorRequirement[]
  Meta?: Record<string, string>
  Labels?: Record<string, string>
  Tasks: Task[]
  State?: { StateType: string; Message?: string; Details?: Record<string, string> }
  Version?: number
  Revision?: number
  CreateTime?: number
  ModifyTime?: number
}

/** Docker engine params (pkg/executor/docker/models EngineSpec). */
export type DockerEngineParams = {
  Image: string
  Entrypoint?: string[]
  Parameters?: string[]
  EnvironmentVariables?: string[]
  WorkingDirectory?: string
}

/** Constants from pkg/models/constants.go. */
export const DEFAULT_NAMESPACE = 'default'
export const ENV_VAR_PREFIX = 'BACALHAU_'
export const META_RESERVED_PREFIX = 'bacalhau.org/'
export const JOB_TYPES = ['batch', 'ops', 'service', 'daemon'] as const
export const ENGINE_TYPES = ['docker', 'wasm'] as const
export const STORAGE_TYPES = ['ipfs', 'inline', 'localDirectory', 'local', 's3', 's3PreSigned', 'urlDownload'] as const
export const PUBLISHER_TYPES = ['noop', 'ipfs', 's3', 's3managed', 'local'] as const
export const NETWORK_TYPES = ['Default', 'None', 'Host', 'Full', 'HTTP', 'Bridge'] as const
/** k8s label selector operators (apimachinery selection.Operator). */
export const SELECTOR_OPERATORS = ['in', 'notin', 'exists', '!', '=', '==', '!=', 'gt', 'lt'] as const

/**
 * Execution compute states. Bacalhau sends them as integers (ExecutionStateType has no text marshaller),
 * in the order of the iota in pkg/models/execution.go.
 */
export const EXECUTION_STATES = [
  'Undefined',
  'New',
  'AskForBid',
  'AskForBidAccepted',
  'AskForBidRejected',
  'BidAccepted',
  'Running',
  'Publishing',
  'BidRejected',
  'Completed',
  'Failed',
  'Cancelled',
] as const
export type ExecutionState = (typeof EXECUTION_STATES)[number]

/** Execution desired states, also integers. */
export const EXECUTION_DESIRED_STATES = ['Pending', 'Running', 'Stopped'] as const

export function executionStateName(v: unknown): ExecutionState | `Unknown(${string})` {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < EXECUTION_STATES.length) return EXECUTION_STATES[v]
  // Tolerate a future server that marshals them as text.
  if (typeof v === 'string') {
    const hit = EXECUTION_STATES.find((s) => s.toLowerCase() === v.toLowerCase())
    if (hit) return hit
  }
  return `Unknown(${String(v)})`
}

/** Terminal execution states, as in ExecutionStateType.IsTerminal. */
export function isTerminalExecutionState(s: string): boolean {
  return s === 'BidRejected' || s === 'Completed' || s === 'Failed' || s === 'Cancelled' || s === 'AskForBidRejected'
}

/** An execution as returned by GET /jobs/{id}/executions (only the fields instruct3 reads). */
export type Execution = {
  ID: string
  JobID: string
  NodeID?: string
  ComputeState: { StateType: number | string; Message?: string }
  DesiredState?: { StateType: number | string; Message?: string }
  PublishedResult?: SpecConfig | null
  RunOutput?: { Stdout?: string; stderr?: string; ExitCode?: number; ErrorMsg?: string } | null
  CreateTime?: number
  ModifyTime?: number
}

/** Execution log types (pkg/models/execution_log.go): 1 stdout, 2 stderr. */
export type ExecutionLog = { Type: number; Line: string }
