// `npm run bench -- reward [--d 64] [--layers 2] [--vocab 2048] [--ctx 128] [--groups 8] [--k 5] [--prompt 100] [--response 28] [--steps 8]`
// One reward-model training step (InstructGPT's K-wise loss, fwd + bwd + AdamW) on G prompts with K
// responses each, two ways, in the same process and alternating so that a noisy machine hurts both:
//   full sequences   every response forwarded with its whole prompt: [G*K, ctx] tokens (before)
//   shared prefix    each prompt forwarded once, its K responses attending to it (prefixTrunk):
//                    [G, Tp] + [G*K, Tr] tokens, Tp and Tr rounded up to 16 as training does
// Defaults are the demo's model and its typical comparison (a fitted ~100-token prompt, 5 responses of
// ~28 tokens). Both paths give the same rewards (test/train/reward.test.ts). The engine itself is
// compared with PyTorch by `npm run bench -- train`; this one compares two uses of it.
import { makeConfig } from '../src/model/config.ts'
import { initParams } from '../src/model/gpt.ts'
import { createTrainable, type HostBatch } from '../src/model/trainable.ts'
import { rewardObjective } from '../src/model/objectives.ts'
import { createRng } from '../src/model/rng.ts'
import { bucketLength } from '../src/train/collate.ts'
import { rewardBatch, type Group } from '../src/train/reward.ts'
import { machineLine, median, parseArgs, peakRssMb, table } from './engine-common.ts'

export async function run(args: string[]): Promise<void> {
  const a = parseArgs(args)
  const num = (k: string, d: number) => (a[k] === undefined ? d : Number(a[k]))
  const d = num('d', 64), layers = num('layers', 2), vocab = num('vocab', 2048), ctx = num('ctx', 128)
  const G = num('groups', 8), K = num('k', 5), promptLen = num('prompt', 100), responseLen = num('response', 28), steps = num('steps', 8)
  const c = makeConfig({ vocabSize: vocab, nCtx: ctx, nEmbd: d, nLayer: layers, nHead: Math.max(1, d / 32) })
  if (promptLen + responseLen > ctx) throw new Error(`--prompt + --response must fit --ctx ${ctx}`)
  const rng = createRng(1)
  const tokens = (n: number) => Array.from({ length: n }, () => rng.int(vocab - 1))
  const pairs = Array.from({ length: K - 1 }, (_, i) => [0, i + 1] as [number, number])
  const groups: Group[] = Array.from({ length: G }, () => ({ prompt: tokens(promptLen), responses: Array.from({ length: K }, () => tokens(responseLen)), pairs }))
  const P = Math.max(8, Math.ceil((G * pairs.length) / 8) * 8)
  const shared = rewardBatch(groups, ctx, vocab - 1, { G, K, Tp: bucketLength(promptLen, ctx), Tr: bucketLength(responseLen, ctx), P })
  // the same comparisons as full sequences, padded to the context as a one-shape run pads them
  const N = G * K
  const inputs = new Int32Array(N * ctx).fill(vocab - 1)
  const last = new Int32Array(N)
  groups.forEach((g, i) => g.responses.forEach((r, k) => {
    inputs.set([...g.prompt, ...r], (i * K + k) * ctx)
    last[i * K + k] = promptLen + responseLen - 1
  }))
  const full: HostBatch = { inputs: { data: inputs, shape: [N, ctx] }, last: { data: last, shape: [N] }, win: shared.win, lose: shared.lose, weight: shared.weight }

  const params = initParams(c, 0)
  params['score.weight'] = new Float32Array(d).fill(0.01)
  params['score.bias'] = new Float32Array(1)
  const ways = [
    { name: 'full sequences', batch: full, tokens: N * ctx },
    { name: 'shared prefix', batch: shared, tokens: G * bucketLength(promptLen, ctx) + N * bucketLength(responseLen, ctx) },
  ]
  const trainers = ways.map(() => createTrainable({ config: c, params: { ...params }, objective: rewardObjective }))
  const times: number[][] = ways.map(() => [])
  for (let s = 0; s < steps + 2; s++)
    ways.forEach((w, i) => {
      const t0 = performance.now()
      trainers[i].accumulate(w.batch)
      trainers[i].update(1e-4)
      if (s >= 2) times[i].push(performance.now() - t0) // the first two compile and warm up
    })
  trainers.forEach((t) => t.dispose())

  console.log(machineLine())
  console.log(`reward-model step: d=${d}, ${layers} layers, vocab ${vocab}, context ${ctx}; ${G} prompts of ${promptLen} tokens x ${K} responses of ${responseLen}; median of ${steps} steps`)
  const base = median(times[0])
  console.log(
    table(
      ['way', 'tokens forwarded', 'ms/step', 'comparisons/s', 'speed-up'],
      ways.map((w, i) => {
        const ms = median(times[i])
        return [w.name, String(w.tokens), ms.toFixed(0), ((G * 1000) / ms).toFixed(1), (base / ms).toFixed(2) + 'x']
      }),
    ),
  )
  console.log(`peak RSS ${peakRssMb().toFixed(0)} MB`)
}
