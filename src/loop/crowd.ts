/**
 * The simulated crowd: wallets that stand in for people in the demo and the tests. Each one goes
 * through the labeling service's public HTTP API exactly as the web app does (SIWE sign-in, task
 * claims, EIP-712-signed labels) and stakes on chain through src/chain. Its labels are marked
 * `simulated-labeler` wherever they go.
 *
 * Each wallet ranks the outputs of a task by a rule the model never sees in its training rows: how
 * close each output is to the task's reference answer (word and character n-gram F1; readability breaks
 * near-ties), plus its own noise.
 *  - careful (three of them): small noise;
 *  - careless: noise as large as the differences between policy samples (near-random on them), but
 *    it still tells a reference from a corrupted one, so it passes most gold tasks;
 *  - cheater: ranks by the reverse of the rule (it fails every gold task, so the escrow slashes it).
 */
import type { Address, Hex } from 'viem'
import { createApiClient, makeLabel, signLabel, type Signer } from '../labeling/client.ts'
import type { TaskView } from '../labeling/tasks.ts'
import { crowdScore as hiddenScore } from '../data/text-match.ts'
import { mulberry32 } from '../util/rng.ts'

export type CrowdKind = 'careful' | 'careless' | 'cheater'

export type CrowdMember = { name: string; kind: CrowdKind; noise: number; signer: Signer & { address: Address } }

export type CrowdResult = { member: string; address: Address; kind: CrowdKind; submitted: number; duplicates: number }

/** The default crowd: three careful wallets, one careless, one cheater (five wallets). */
export function defaultCrowd(signers: Array<Signer & { address: Address }>): CrowdMember[] {
  const spec: Array<[string, CrowdKind, number]> = [
    ['careful-1', 'careful', 0.003],
    ['careful-2', 'careful', 0.005],
    ['careful-3', 'careful', 0.008],
    ['careless', 'careless', 0.1],
    ['cheater', 'cheater', 0.02],
  ]
  if (signers.length < spec.length) throw new Error(`the default crowd needs ${spec.length} wallets, got ${signers.length}`)
  return spec.map(([name, kind, noise], i) => ({ name, kind, noise, signer: signers[i] }))
}

/** Dense ranks (0 = best) of scores, higher is better; equal scores tie. */
export function ranksOf(scores: number[]): number[] {
  const distinct = [...new Set(scores)].sort((a, b) => b - a)
  return scores.map((s) => distinct.indexOf(s))
}

/** How one member ranks a task's outputs given the reference answer (see the module comment). */
export function rankOutputs(member: Pick<CrowdMember, 'kind' | 'noise'>, outputs: string[], reference: string, rand: () => number): number[] {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const scores = outputs.map((o) => {
    const c = hiddenScore(o, reference)
    const s = member.kind === 'cheater' ? -c : c
    // rounding makes exact ties possible for identical outputs, never for noisy distinct ones
    return Math.round((s + member.noise * gauss()) * 1e6) / 1e6
  })
  return ranksOf(scores)
}

export type RunCrowdOptions = {
  /** The labeling service, e.g. http://127.0.0.1:8787 */
  url: string
  /** The service's campaign id. */
  campaign: string
  chainId: number
  members: CrowdMember[]
  /** The hidden rule's answers: reference answer per prompt text (gold prompts included). */
  references: Map<string, string>
  seed: number
  /** Tasks claimed per request. */
  batch?: number
  onProgress?: (msg: string) => void
}

/**
 * Every member signs in, then they take turns: each claims a few tasks and labels them, until the
 * service has none left for anyone (turns, so every member sees a share of the tasks, as people
 * working at the same time would). Idempotent: a label's idempotency key is (member, task), so a crowd
 * re-run after a crash resubmits what was lost and the service answers the rest as duplicates.
 */
export async function runCrowd(opts: RunCrowdOptions): Promise<CrowdResult[]> {
  const members = []
  for (const [mi, m] of opts.members.entries()) {
    const api = createApiClient(opts.url)
    const si = await api.signIn(m.signer, { chainId: opts.chainId })
    if (si.status !== 200) throw new Error(`${m.name}: sign-in failed (${si.status}): ${JSON.stringify(si.body)}`)
    members.push({ m, api, rand: mulberry32(opts.seed * 1000 + mi), res: { member: m.name, address: m.signer.address, kind: m.kind, submitted: 0, duplicates: 0 } as CrowdResult, done: false })
  }
  while (members.some((x) => !x.done)) {
    for (const x of members) {
      if (x.done) continue
      const { m, api, rand, res } = x
      const claim = await api.call<{ tasks: TaskView[] }>('POST', `/api/campaigns/${opts.campaign}/tasks/claim`, { count: opts.batch ?? 2, kinds: ['ranking'] })
      if (claim.status !== 200) throw new Error(`${m.name}: claim failed (${claim.status}): ${JSON.stringify(claim.body)}`)
      if (claim.body.tasks.length === 0) {
        x.done = true
        continue
      }
      for (const task of claim.body.tasks) {
        const reference = opts.references.get(task.prompt)
        if (reference === undefined) throw new Error(`${m.name}: no reference answer for the prompt of task ${task.taskId}`)
        const ranking = rankOutputs(m, task.outputs ?? [], reference, rand)
        const label = makeLabel(task, m.signer.address, { ranking })
        const { signature } = await signLabel(m.signer, opts.chainId, label)
        const r = await api.call('POST', '/api/labels', { taskId: task.taskId, idempotencyKey: `crowd-${m.name}-${task.taskId}`, label, signature: signature as Hex })
        if (r.status === 201) res.submitted++
        else if (r.status === 200) res.duplicates++
        else throw new Error(`${m.name}: label for task ${task.taskId} refused (${r.status}): ${JSON.stringify(r.body)}`)
      }
    }
    opts.onProgress?.(members.map((x) => `${x.m.name} ${x.res.submitted}`).join(', '))
  }
  return members.map((x) => x.res)
}
