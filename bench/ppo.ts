// `npm run bench -- ppo [--d 128] [--layers 4] [--vocab 4096] [--batch 16] [--mini 8] [--epochs 4] [--prompt 16] [--new 64] [--iters 4]`
// One PPO-ptx iteration broken down into generation (KV-cache sampling), scoring (policy, reference,
// value and reward-model forwards, GAE) and training (ppoEpochs x minibatches of a policy step with
// the ptx loss and a value step), on random GPT-2 models of the demo's size. Medians over iterations
// 2..N (iteration 1 compiles). Baselines measured in the same run: plain generation with the same
// generator and batch (tokens/s), and one plain LM training step (fwd+bwd+AdamW) on a [mini, T] batch,
// so "training" can be read as a multiple of ordinary training steps.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { trainPpo } from '../src/train/ppo.ts'
import { makeConfig } from '../src/model/config.ts'
import { initParams } from '../src/model/gpt.ts'
import { saveCheckpoint } from '../src/model/checkpoint.ts'
import { createGenerator } from '../src/model/generate.ts'
import { createTrainable, uploadParams } from '../src/model/trainable.ts'
import { lmObjective } from '../src/model/objectives.ts'
import { createRng } from '../src/model/rng.ts'
import { tree } from '../src/model/jax.ts'
import { bucketLength } from '../src/train/collate.ts'
import type { MetricsRow } from '../src/train/metrics.ts'

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : def
}
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export async function run(args: string[]): Promise<void> {
  const d = arg(args, 'd', 128)
  const layers = arg(args, 'layers', 4)
  const vocab = arg(args, 'vocab', 4096)
  const batch = arg(args, 'batch', 16)
  const mini = arg(args, 'mini', 8)
  const epochs = arg(args, 'epochs', 4)
  const promptLen = arg(args, 'prompt', 16)
  const newTokens = arg(args, 'new', 64)
  const iters = Math.max(2, arg(args, 'iters', 4))
  const c = makeConfig({ vocabSize: vocab, nCtx: 128, nEmbd: d, nLayer: layers, nHead: 4, dropout: 0 })
  const tmp = mkdtempSync(join(tmpdir(), 'i3-bench-ppo-'))
  // EOS and PAD are ids the random model rarely samples: every response runs to maxNewTokens (worst case)
  const tokens = { eosId: vocab - 1, padId: vocab - 2 }
  try {
    await saveCheckpoint(join(tmp, 'sft'), c, initParams(c, 1))
    const head = { 'score.weight': { shape: [d], data: Float32Array.from({ length: d }, (_, i) => Math.sin(i) * 0.1) }, 'score.bias': { shape: [1], data: new Float32Array(1) } }
    await saveCheckpoint(join(tmp, 'rm'), c, initParams(c, 2), { extraTensors: head })
    const rng = createRng(3)
    const prompts = Array.from({ length: 64 }, () => Array.from({ length: promptLen }, () => rng.int(vocab - 8)))
    const ptx = Int32Array.from({ length: 50_000 }, () => rng.int(vocab - 8))
    console.log(`ppo bench: d=${d} layers=${layers} vocab=${vocab} nCtx=128 | rollout batch ${batch}, prompt ${promptLen} + ${newTokens} new tokens | ${epochs} epochs x ${batch / mini} minibatches of ${mini} | ptx 4 windows | ${iters} iterations`)
    const rows: MetricsRow[] = []
    const t0 = performance.now()
    await trainPpo({
      policyDir: join(tmp, 'sft'),
      reward: { modelDir: join(tmp, 'rm') },
      prompts,
      ptxTokens: ptx,
      outDir: join(tmp, 'out'),
      tokens,
      iterations: iters,
      rolloutBatch: batch,
      miniBatch: mini,
      ppoEpochs: epochs,
      maxNewTokens: newTokens,
      checkpointEvery: 0,
      guards: { stop: false },
      quiet: true,
      onIteration: (r) => rows.push(r),
    })
    const wall = (performance.now() - t0) / 1000
    const steady = rows.slice(1)
    const g = median(steady.map((r) => r['time/generation'] as number))
    const s = median(steady.map((r) => r['time/scoring'] as number))
    const tr = median(steady.map((r) => r['time/training'] as number))
    const total = g + s + tr
    const respTokens = median(steady.map((r) => (r['val/response_length'] as number) * batch))
    console.log(`iteration 1 (compiles): gen ${(rows[0]['time/generation'] as number).toFixed(2)} s, scoring ${(rows[0]['time/scoring'] as number).toFixed(2)} s, training ${(rows[0]['time/training'] as number).toFixed(2)} s`)
    console.log(`median of iterations 2..${iters}:`)
    console.log(`  generation ${g.toFixed(3)} s (${(respTokens / g).toFixed(0)} tokens/s)  ${((100 * g) / total).toFixed(1)}%`)
    console.log(`  scoring    ${s.toFixed(3)} s  ${((100 * s) / total).toFixed(1)}%`)
    console.log(`  training   ${tr.toFixed(3)} s  ${((100 * tr) / total).toFixed(1)}%`)
    console.log(`  total      ${total.toFixed(3)} s/iteration; generation share ${((100 * g) / total).toFixed(1)}% (whole run ${wall.toFixed(1)} s incl. setup and saving)`)

    // ---- baselines, same process, same sizes ----
    const params = uploadParams(c, initParams(c, 1))
    const gen = createGenerator(c)
    const bp = prompts.slice(0, batch)
    gen.generate(params, bp, { maxNewTokens: newTokens, temperature: 1, rng: createRng(9), eosId: tokens.eosId }) // compile
    const gt: number[] = []
    let gtok = 0
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      const out = gen.generate(params, bp, { maxNewTokens: newTokens, temperature: 1, rng: createRng(10 + i), eosId: tokens.eosId })
      gt.push((performance.now() - t) / 1000)
      gtok = out.tokens.reduce((a, r) => a + r.length, 0)
    }
    gen.dispose()
    tree.dispose(params)
    const T = bucketLength(promptLen + newTokens, c.nCtx)
    const lm = createTrainable({ config: c, params: initParams(c, 1), objective: lmObjective })
    const mk = () => {
      const inputs = Int32Array.from({ length: mini * T }, () => rng.int(vocab))
      return { inputs: { data: inputs, shape: [mini, T] }, targets: { data: inputs.map((x) => (x + 1) % vocab), shape: [mini, T] }, mask: { data: new Float32Array(mini * T).fill(1), shape: [mini, T] } }
    }
    lm.accumulate(mk())
    lm.update(1e-4)
    const lt: number[] = []
    for (let i = 0; i < 5; i++) {
      const b = mk()
      const t = performance.now()
      lm.accumulate(b)
      lm.update(1e-4)
      lt.push((performance.now() - t) / 1000)
    }
    lm.dispose()
    const gBase = median(gt)
    const lBase = median(lt)
    const nMini = epochs * (batch / mini)
    console.log(`baselines (same run): plain generation ${gBase.toFixed(3)} s for ${gtok} tokens (${(gtok / gBase).toFixed(0)} tokens/s); one LM train step [${mini}, ${T}] ${(lBase * 1000).toFixed(0)} ms`)
    console.log(`ratios: PPO generation / plain generation = ${(g / gBase).toFixed(2)}x; PPO training = ${(tr / lBase).toFixed(1)} LM steps for ${nMini} minibatches (${(tr / nMini / lBase).toFixed(2)} LM steps per minibatch: policy + ptx + value)`)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
