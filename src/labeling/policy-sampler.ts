/**
 * Ranking outputs from a real policy: K responses sampled (temperature 1, KV cache) from a model
 * checkpoint with the project's own generator, in the chat template. This is what campaigns use when
 * their policy is a checkpoint folder.
 */
import type { ResponseSampler } from './sampler.ts'

export type PolicySamplerOptions = { maxNewTokens?: number; temperature?: number; topP?: number; seed?: number }

export async function createPolicySampler(policyDir: string, opts: PolicySamplerOptions = {}): Promise<ResponseSampler & { dispose(): void }> {
  const { loadPolicy } = await import('../model/policy.ts')
  const policy = await loadPolicy(policyDir)
  let calls = 0
  const sampler = async (prompt: string, k: number): Promise<string[]> => {
    const outs = policy.complete(new Array<string>(k).fill(prompt), {
      chat: true,
      maxNewTokens: opts.maxNewTokens ?? 64,
      temperature: opts.temperature ?? 1,
      topP: opts.topP ?? 0.95,
      seed: (opts.seed ?? 1) * 100_003 + calls++,
    })
    return outs.map((o) => o.text.trim())
  }
  return Object.assign(sampler, { dispose: () => policy.dispose() })
}
