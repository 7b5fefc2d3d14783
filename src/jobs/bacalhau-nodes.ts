import { Instruct3Error } from '../util/errors.ts'
import type { NodeSummary } from './bacalhau.ts'
import type { BacalhauJob } from './bacalhau-model.ts'
import { parseGpu } from './quantities.ts'

/**
 * Can any compute node the orchestrator knows run this job? Bacalhau (v1.9.3) only registers the IPFS input
 * source and the IPFS publisher on a compute node configured with an IPFS endpoint
 * (pkg/executor/util/utils.go: InputSources.Types.IPFS.Endpoint; pkg/publisher/util/utils.go:
 * Publishers.Types.IPFS.Endpoint); a node without them lists no "ipfs" in ComputeNodeInfo.StorageSources /
 * Publishers, and a job needing them would sit queued until its QueueTimeout. This check asks
 * /api/v1/orchestrator/nodes first and says what is missing, node by node.
 */
export type NodeRequirements = { engine: string; ipfsInputs: boolean; publisher?: string; gpus: number }

/** What the job needs of a compute node. */
export function jobRequirements(job: BacalhauJob): NodeRequirements {
  const t = job.Tasks[0]
  const gpu = t.Resources?.GPU
  return {
    engine: t.Engine.Type,
    ipfsInputs: (t.InputSources ?? []).some((s) => s.Source.Type === 'ipfs'),
    publisher: t.Publisher?.Type,
    gpus: gpu ? (parseGpu(gpu) ?? 0) : 0,
  }
}

/** What one node lacks for `req` (empty: it can run the job). */
export function nodeShortfall(n: NodeSummary, req: NodeRequirements): string[] {
  const missing: string[] = []
  if (n.connection.toUpperCase() !== 'CONNECTED') missing.push(`not connected (${n.connection || 'unknown'})`)
  if (n.membership.toUpperCase() !== 'APPROVED') missing.push(`not approved (${n.membership || 'unknown'})`)
  if (!n.engines.includes(req.engine)) missing.push(`no ${req.engine} engine`)
  if (req.ipfsInputs && !n.storageSources.includes('ipfs')) missing.push('no IPFS input source (set InputSources.Types.IPFS.Endpoint on the compute node)')
  if (req.publisher && !n.publishers.includes(req.publisher)) {
    missing.push(req.publisher === 'ipfs' ? 'no IPFS publisher (set Publishers.Types.IPFS.Endpoint on the compute node)' : `no ${req.publisher} publisher`)
  }
  if (req.gpus > n.gpus) missing.push(`${n.gpus} GPU(s), the job asks for ${req.gpus}`)
  return missing
}

/** Throws ENONODE naming each compute node and what it lacks, unless at least one node can run the job. */
export function assertSomeNodeCanRun(nodes: NodeSummary[], job: BacalhauJob): void {
  const req = jobRequirements(job)
  const compute = nodes.filter((n) => n.type.toLowerCase() === 'compute' || n.type === '2')
  if (compute.some((n) => nodeShortfall(n, req).length === 0)) return
  const detail = compute.length === 0 ? 'the orchestrator knows no compute node' : compute.map((n) => `${n.id}: ${nodeShortfall(n, req).join('; ')}`).join(' | ')
  throw new Instruct3Error(`no Bacalhau compute node can run job "${job.Name ?? ''}": ${detail}`, { code: 'ENONODE', details: { field: 'nodes' } })
}
