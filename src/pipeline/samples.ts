/**
 * The `samples` stage: every comparison gets one more response, a sample of the SFT model (temperature
 * 1, the distribution PPO starts from), ranked with the wrong answers and marked `origins: "sft-sample"`.
 *
 * InstructGPT's labelers ranked *model outputs*. A reward model that has only seen references and
 * their corruptions has never seen what the policy writes, and PPO optimises exactly there. With the
 * samples it learns that the reference beats the policy's own attempt (the signal PPO climbs), and the
 * evaluation reports its accuracy on those pairs separately (`reference > sft-sample`).
 */
import { writeFileAtomicSync } from '../util/atomic.ts'
import { toJsonl } from '../util/jsonl.ts'
import { MAX_K, type Comparison } from '../data/formats.ts'
import { loadPolicy } from '../model/policy.ts'
import { createRng } from '../model/rng.ts'
import { fitPrompt, formatPrompt } from '../tokenizer/index.ts'

export type AddSamplesInit = {
  policyDir: string
  /** Comparisons in, and the file each augmented set goes to. */
  sets: Array<{ rows: Comparison[]; to: string }>
  maxNewTokens: number
  seed: number
  /** Prompts generated per batch (one compiled shape). */
  batchSize?: number
  origin?: string
}

/** `emptyOrDuplicate` counts samples left out: empty, equal to a response already there, or too long to fit. */
export type AddSamplesResult = { comparisons: number; added: number; emptyOrDuplicate: number; meanTokens: number }

export async function addPolicySamples(init: AddSamplesInit): Promise<AddSamplesResult> {
  const policy = await loadPolicy(init.policyDir)
  const tok = policy.tokenizer
  const nCtx = policy.checkpoint.config.nCtx
  const B = init.batchSize ?? 32
  const origin = init.origin ?? 'sft-sample'
  const rng = createRng(init.seed)
  const res: AddSamplesResult = { comparisons: 0, added: 0, emptyOrDuplicate: 0, meanTokens: 0 }
  let tokens = 0
  try {
    for (const f of init.sets) {
      const rows = f.rows
      // tokens of the longest existing response; room for it and for the sample (+ EOS): the prompt is refitted once for both
      const longest = rows.map((c) => Math.max(...c.responses.map((r) => tok.encode(r).length)))
      // (a comparison whose own responses cannot fit still gets a sample prompt; the check below leaves it as it is)
      const prompts = rows.map((c, i) => fitPrompt(tok, c.prompt, nCtx, Math.max(init.maxNewTokens, longest[i]) + 1) ?? fitPrompt(tok, c.prompt, nCtx, init.maxNewTokens + 1) ?? '')
      const promptIds = prompts.map((p) => formatPrompt(tok, p))
      const out: Comparison[] = []
      for (let i = 0; i < rows.length; i += B) {
        const ids = promptIds.slice(i, i + B)
        const n = ids.length
        while (ids.length < B) ids.push(ids[0]) // one batch shape: pad with a repeat, ignored
        const g = policy.generateIds(ids, { maxNewTokens: init.maxNewTokens, temperature: 1, eosId: tok.eosId, rng })
        for (let j = 0; j < n; j++) {
          const c = rows[i + j]
          const body = g.finished[j] ? g.tokens[j].slice(0, -1) : g.tokens[j]
          const text = tok.decode(body, { skipSpecial: true }).trim()
          const origins = c.origins ?? c.responses.map((_, k) => (k === 0 ? 'reference' : 'unknown'))
          const worst = Math.max(...c.ranking)
          if (!text || c.responses.includes(text) || c.responses.length >= MAX_K) {
            res.emptyOrDuplicate++
            out.push(c)
            continue
          }
          // decoded text can re-encode longer than the sampled ids (bytes that were not UTF-8): refit if needed
          const responses = [...c.responses, text]
          const need = Math.max(longest[i + j], tok.encode(text).length) + 1
          const prompt = promptIds[i + j].length + need <= nCtx ? prompts[i + j] : fitPrompt(tok, c.prompt, nCtx, need)
          if (prompt === null) {
            res.emptyOrDuplicate++
            out.push(c)
            continue
          }
          tokens += body.length
          res.added++
          // ranked with the wrong answers: below the reference, no order among the wrong ones
          out.push({ ...c, prompt, responses, ranking: [...c.ranking, Math.max(worst, 1)], origins: [...origins, origin] })
        }
      }
      res.comparisons += rows.length
      writeFileAtomicSync(f.to, toJsonl(out))
    }
  } finally {
    policy.dispose()
  }
  res.meanTokens = res.added ? tokens / res.added : 0
  return res
}
