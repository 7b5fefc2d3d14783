/**
 * Where ranking outputs come from: K responses sampled from the campaign's policy for a prompt.
 * The model owner wires the real GPT generator; tests and the dev demo use the deterministic one.
 */
export type ResponseSampler = (prompt: string, k: number) => Promise<string[]>

/**
 * A deterministic stand-in for a policy: K distinct responses of visibly different quality
 * (a direct answer, a hedged one, a truncated one, an off-topic one, ...) derived from the prompt,
 * so rankings made in the demo and in tests have an obvious consensus.
 */
export function createDeterministicSampler(): ResponseSampler {
  const styles: Array<(p: string, i: number) => string> = [
    (p) => `Here is a direct answer to "${clip(p, 80)}": the key point is stated first, then the reasoning, then a short example.`,
    (p) => `A careful answer: "${clip(p, 60)}" depends on context; the main considerations are security, cost and who controls the keys.`,
    (p) => `Short answer about ${clip(p, 40)}.`,
    (p) => `${clip(p, 50)}... I think maybe it could be`,
    () => `Unrelated: the weather on-chain is sunny and gas is cheap today.`,
    (p) => `Answer (verbose): ${clip(p, 60)}. ${'This sentence repeats itself. '.repeat(3)}`,
    (p) => `Step 1: read "${clip(p, 30)}". Step 2: check the contract. Step 3: write it down.`,
    () => `I cannot help with that.`,
    (p, i) => `Variant ${i}: ${clip(p, 70)} (summarised).`,
  ]
  return async (prompt, k) => {
    const out: string[] = []
    for (let i = 0; i < k; i++) out.push(styles[i % styles.length](prompt, i) + (i >= styles.length ? ` [${i}]` : ''))
    return out
  }
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim()
  return one.length <= n ? one : one.slice(0, n)
}
