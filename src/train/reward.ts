/**
 * Reward model (InstructGPT step 2): the SFT model's trunk plus a scalar head read at the last token
 * (EOS) of `prompt + response`. InstructGPT's loss puts all C(K,2) pairs of one prompt in one batch
 * element, forwarding each of the K completions once:
 *   loss = -1/C(K,2) * sum_{(w,l)} log sigmoid(r(x, y_w) - r(x, y_l))
 * (ties give no pair). The prompt x is forwarded once for its K completions, which attend to its keys
 * and values (prefixTrunk): the same rewards as K full sequences, for about half the tokens on the demo's
 * comparisons. `mode: 'pairwise'` instead treats every pair as its own element (each completion
 * forwarded once per pair), as pairwise RM trainers do. After training, the head's bias is shifted so
 * that demonstrations score mean 0. Metrics: accuracy and mean margin over pairs.
 */
import { existsSync } from 'node:fs'
import { Instruct3Error } from '../util/errors.ts'
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.ts'
import { rewardObjective } from '../model/objectives.ts'
import { groupBatch, loadRewardModel, rewardGroup, type GroupShape, type RewardGroup } from '../model/reward-model.ts'
import { createRng } from '../model/rng.ts'
import type { HostBatch } from '../model/trainable.ts'
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.ts'
import { comparisonPairs, type Comparison, type Demonstration } from '../data/formats.ts'
import type { Rows } from './rows.ts'
import { defaultLoopConfig, runTrainingLoop, type LoopConfig, type LoopResult } from './loop.ts'
import { bucketLength, shuffled } from './collate.ts'
import { defaultRewardConfig, type RewardConfig } from './reward-config.ts'

export { defaultRewardConfig, type RewardConfig } from './reward-config.ts'

/** One batch element: a prompt, its K responses (the prompt forwarded once) and the (winner, loser) pairs among them. */
export type Group = RewardGroup & { pairs: Array<[number, number]> }

export function comparisonGroup(tok: Tokenizer, c: Comparison, nCtx: number): Group {
  return { ...rewardGroup(tok, c.prompt, c.responses, nCtx), pairs: comparisonPairs(c) }
}

/** A batch shape to pad every batch of a run to: G groups of K responses, prompt length Tp, response length Tr, P pairs. */
export type RewardShape = GroupShape & { P: number }

const longestResponse = (g: Group) => {
  let n = 0
  for (const r of g.responses) n = Math.max(n, r.length)
  return n
}

/**
 * The one shape that fits any `batchSize` groups of `groups`. A run pads its batches to a fixed shape: it
 * compiles once, and it matters for memory: jax-js 0.1.25's WASM allocator reuses a freed buffer only for
 * a request of the same size class and never shrinks, so batches of ever new shapes grew a d=128 reward
 * model past the 4 GiB memory32 limit (RangeError in #bumpAlloc) within 2 minutes.
 */
export function rewardShape(groups: Group[], batchSize: number, nCtx: number): RewardShape {
  // a loop, not Math.max(...): a large dataset would overflow the argument list
  let K = 0, pairs = 0, Tp = 0, Tr = 0
  for (const g of groups) {
    K = Math.max(K, g.responses.length)
    pairs = Math.max(pairs, g.pairs.length)
    Tp = Math.max(Tp, g.prompt.length)
    Tr = Math.max(Tr, longestResponse(g))
  }
  return { G: batchSize, K, Tp: bucketLength(Tp, nCtx), Tr: bucketLength(Tr, nCtx), P: Math.max(8, Math.ceil((batchSize * pairs) / 8) * 8) }
}

/**
 * The shapes of a run's batches. Shared prefix: two shapes by the longest response of a group, one
 * whose Tr fits 90% of the groups and one for the rest, because responses are short next to their
 * prompts and a few long ones (hex-heavy answers) would otherwise pad every batch to their length and
 * eat the gain (docs/rlhf.md has what other splits measured). Sorted by Tr; a group belongs to the first
 * shape whose Tr fits it. When full sequences would forward fewer
 * tokens over an epoch (hh-rlhf: K = 2, long responses), one full-sequence shape (`T`) instead.
 */
export function rewardShapes(groups: Group[], batchSize: number, nCtx: number): RewardShape[] {
  const all = rewardShape(groups, batchSize, nCtx)
  const lengths = groups.map(longestResponse).sort((a, b) => a - b)
  const at = (q: number) => bucketLength(lengths[Math.floor(q * (lengths.length - 1))] ?? 0, nCtx)
  const trs = [at(0.9)].filter((tr) => tr < all.Tr)
  const shared = [...trs.map((Tr) => ({ ...all, Tr })), all]
  let T = 0
  for (const g of groups) T = Math.max(T, g.prompt.length + longestResponse(g))
  const full = { ...all, T: bucketLength(T, nCtx) }
  const count = new Array<number>(shared.length).fill(0)
  for (const g of groups) count[shapeFor(shared, g)]++
  const sharedTokens = shared.reduce((a, s, i) => a + Math.ceil(count[i] / batchSize) * batchSize * (s.Tp + s.K * s.Tr), 0)
  const fullTokens = Math.ceil(groups.length / batchSize) * batchSize * all.K * full.T
  return fullTokens <= sharedTokens ? [full] : shared
}

/** The shape of `shapes` (from rewardShapes) that a group's batches use. */
export function shapeFor(shapes: RewardShape[], g: Group): number {
  const n = longestResponse(g)
  return shapes.findIndex((s) => (s.T ? g.prompt.length + n <= s.T : n <= s.Tr))
}

/**
 * One epoch's micro-batches: the groups of each shape shuffled and cut into batches of `batchSize` (a
 * shape's last batch is filled from its start), then all batches shuffled. A pure function of the seed.
 */
export function epochBatches(groups: Group[], shapes: RewardShape[], batchSize: number, seed: number): Array<{ shape: number; groups: Group[] }> {
  const rng = createRng(seed)
  const out: Array<{ shape: number; groups: Group[] }> = []
  shapes.forEach((_, si) => {
    const mine = shuffled(groups.filter((g) => shapeFor(shapes, g) === si), rng.next)
    for (let i = 0; i < mine.length; i += batchSize)
      out.push({ shape: si, groups: Array.from({ length: batchSize }, (_, j) => mine[(i + j) % mine.length]) })
  })
  return shuffled(out, rng.next)
}

/**
 * Batch of groups for the shared-prefix forward (groupBatch: group g's response k is row g*K + k), plus P
 * pairs padded to a multiple of 8 with weight 0; each real pair weighs 1 / (pairs in its group), so every
 * prompt counts once. Without `shape`, the smallest shape that fits these groups.
 */
export function rewardBatch(groups: Group[], nCtx: number, padId: number, shape?: RewardShape): HostBatch {
  const s = shape ?? rewardShape(groups, groups.length, nCtx)
  const win: number[] = []
  const lose: number[] = []
  const weight: number[] = []
  groups.forEach((g, i) => {
    for (const [w, l] of g.pairs) {
      win.push(i * s.K + w)
      lose.push(i * s.K + l)
      weight.push(1 / g.pairs.length)
    }
  })
  if (win.length > s.P) throw new Error(`internal: ${win.length} pairs exceed the batch shape's ${s.P}`)
  while (win.length < s.P) {
    win.push(0)
    lose.push(0)
    weight.push(0)
  }
  return {
    ...groupBatch(groups, s, padId),
    win: { data: Int32Array.from(win), shape: [s.P] },
    lose: { data: Int32Array.from(lose), shape: [s.P] },
    weight: { data: Float32Array.from(weight), shape: [s.P] },
  }
}

export async function trainReward(cfg: RewardConfig): Promise<LoopResult & { bias: number }> {
  const base = loadCheckpoint(cfg.base)
  const tok = loadTokenizer(cfg.base)
  const config = base.config
  const toGroups = (cs: readonly Comparison[]): Group[] => {
    const gs = cs.map((c) => comparisonGroup(tok, c, config.nCtx)).filter((g) => g.pairs.length > 0)
    if (cfg.mode === 'listwise') return gs
    return gs.flatMap((g) => g.pairs.map(([w, l]) => ({ prompt: g.prompt, responses: [g.responses[w], g.responses[l]], pairs: [[0, 1]] as Array<[number, number]> })))
  }
  const train = toGroups(cfg.train.rows)
  const val = cfg.val ? toGroups(cfg.val.rows) : []
  if (train.length === 0) throw new Instruct3Error('no comparison has an untied pair', { code: 'EDATA', details: cfg.train.file ? { file: cfg.train.file } : {} })
  const loop: LoopConfig = { ...defaultLoopConfig, ...defaultRewardConfig.loop, ...cfg.loop, steps: 0 }
  const B = cfg.batchSize
  const shapes = rewardShapes([...train, ...val], B, config.nCtx)
  const microPerEpoch = epochBatches(train, shapes, B, 0).length
  const stepsPerEpoch = Math.max(1, Math.ceil(microPerEpoch / loop.gradAccum))
  loop.steps = stepsPerEpoch * cfg.epochs
  let cachedEpoch = -1
  let plan: Array<{ shape: number; groups: Group[] }> = []
  const valBatches: HostBatch[] = []
  shapes.forEach((shape, si) => {
    const mine = val.filter((g) => shapeFor(shapes, g) === si)
    for (let i = 0; i < mine.length; i += B) valBatches.push(rewardBatch(mine.slice(i, i + B), config.nCtx, tok.padId, shape))
  })

  // head init: small random weights, zero bias (deterministic in the seed)
  const rng = createRng(loop.seed + 17)
  const w = new Float32Array(config.nEmbd).map(() => rng.normal() / Math.sqrt(config.nEmbd + 1))
  const params = { ...base.params, 'score.weight': w, 'score.bias': new Float32Array(1) }
  const result = await runTrainingLoop({
    name: 'reward',
    outDir: cfg.outDir,
    config,
    params,
    objective: rewardObjective,
    loop,
    copyFrom: cfg.base,
    quiet: cfg.quiet,
    meta: { stage: 'reward', mode: cfg.mode, tokenizer_fingerprint: tok.fingerprint, comparisons: train.length },
    data: {
      tokensPerBatch: B * (shapes[0].T ? shapes[0].K * shapes[0].T : shapes[0].Tp + shapes[0].K * shapes[0].Tr),
      nextBatch: (_rng, step, micro) => {
        const epoch = Math.floor(step / stepsPerEpoch)
        if (epoch !== cachedEpoch) {
          plan = epochBatches(train, shapes, B, loop.seed * 104729 + epoch)
          cachedEpoch = epoch
        }
        const b = plan[((step % stepsPerEpoch) * loop.gradAccum + micro) % plan.length]
        return rewardBatch(b.groups, config.nCtx, tok.padId, shapes[b.shape])
      },
      evaluate: valBatches.length
        ? (t) => {
            let loss = 0, acc = 0, margin = 0
            for (const b of valBatches) {
              const r = t.evaluate(b)
              loss += r.loss
              acc += r.metrics.accuracy
              margin += r.metrics.margin
            }
            const n = valBatches.length
            return { 'eval/loss': loss / n, 'eval/accuracy': acc / n, 'eval/margin': margin / n }
          }
        : undefined,
    },
  })
  // normalise: demonstrations score mean 0
  let bias = 0
  if (cfg.demonstrations) {
    const demos = cfg.demonstrations.rows
    const rm = loadRewardModel(result.modelDir)
    const scores = rm.scoreTexts(demos.map((d) => ({ prompt: d.prompt, response: d.response })))
    rm.dispose()
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length
    const ck = loadCheckpoint(result.modelDir)
    const b = ck.extraTensors['score.bias']
    b.data[0] -= mean
    bias = b.data[0]
    await saveCheckpoint(result.modelDir, ck.config, ck.params, {
      extraTensors: ck.extraTensors,
      meta: { ...ck.meta, reward_bias: bias, demonstrations_mean_before: mean },
      copyFrom: result.modelDir,
    })
  }
  return { ...result, bias }
}

/** Accuracy on the pairs of one kind: `winner origin > loser origin` ("reference > shuffled"). */
export type PairKindAccuracy = { kind: string; accuracy: number; pairs: number }

/** Accuracy on the comparisons of one task (each prompt weighted once), and per kind of pair within it. */
export type TaskAccuracy = { task: string; accuracy: number; prompts: number; byKind: PairKindAccuracy[] }

/** Accuracy on the comparisons of one origin (human, simulated-labeler, synthetic; `synthetic: true` rows count as synthetic; others without one: "unknown"). */
export type OriginAccuracy = { origin: string; accuracy: number; prompts: number; pairs: number }

export type RewardEvaluation = { accuracy: number; margin: number; pairs: number; prompts: number; byKind: PairKindAccuracy[]; byTask: TaskAccuracy[]; byOrigin: OriginAccuracy[] }

type KindTally = Map<string, { right: number; pairs: number }>
const tallied = (kinds: KindTally): PairKindAccuracy[] =>
  [...kinds].map(([kind, e]) => ({ kind, accuracy: e.right / e.pairs, pairs: e.pairs })).sort((x, y) => y.pairs - x.pairs)

/**
 * Pairwise accuracy and mean margin of a reward model on comparisons (all untied pairs, each prompt
 * weighted once); for comparisons that say where their responses came from (`origins`), the accuracy
 * per kind of pair; and for comparisons that name their `task`, the same per task.
 */
export async function evaluateReward(modelDir: string, comparisons: readonly Comparison[]): Promise<RewardEvaluation> {
  const rm = loadRewardModel(modelDir)
  try {
    const cs = comparisons.filter((c) => comparisonPairs(c).length > 0)
    // every comparison scored in batches of several prompts, each prompt forwarded once
    const rewards = rm.scoreResponses(cs.map((c) => ({ prompt: c.prompt, responses: c.responses })))
    let acc = 0, margin = 0, prompts = 0, pairs = 0
    const kinds: KindTally = new Map()
    const tasks = new Map<string, { acc: number; prompts: number; kinds: KindTally }>()
    const origins = new Map<string, { acc: number; prompts: number; pairs: number }>()
    for (const [i, c] of cs.entries()) {
      const ps = comparisonPairs(c)
      const r = rewards[i]
      const task = c.task === undefined ? undefined : tasks.get(c.task) ?? { acc: 0, prompts: 0, kinds: new Map() }
      let a = 0, m = 0
      for (const [w, l] of ps) {
        const right = r[w] > r[l] ? 1 : 0
        a += right
        m += r[w] - r[l]
        if (c.origins) {
          const k = `${c.origins[w]} > ${c.origins[l]}`
          for (const tally of task ? [kinds, task.kinds] : [kinds]) {
            const e = tally.get(k) ?? { right: 0, pairs: 0 }
            e.right += right
            e.pairs++
            tally.set(k, e)
          }
        }
      }
      acc += a / ps.length
      // rows without an origin: the synthetic web3 comparisons say `synthetic: true`; anything else is unknown
      const origin = c.origin ?? (c.synthetic ? 'synthetic' : 'unknown')
      const o = origins.get(origin) ?? { acc: 0, prompts: 0, pairs: 0 }
      o.acc += a / ps.length
      o.prompts++
      o.pairs += ps.length
      origins.set(origin, o)
      margin += m / ps.length
      prompts++
      pairs += ps.length
      if (task) {
        task.acc += a / ps.length
        task.prompts++
        tasks.set(c.task!, task)
      }
    }
    const byTask = [...tasks].map(([t, e]) => ({ task: t, accuracy: e.acc / e.prompts, prompts: e.prompts, byKind: tallied(e.kinds) })).sort((x, y) => y.prompts - x.prompts)
    const byOrigin = [...origins].map(([origin, e]) => ({ origin, accuracy: e.acc / e.prompts, prompts: e.prompts, pairs: e.pairs })).sort((x, y) => y.prompts - x.prompts)
    return { accuracy: acc / Math.max(1, prompts), margin: margin / Math.max(1, prompts), pairs, prompts, byKind: tallied(kinds), byTask, byOrigin }
  } finally {
    rm.dispose()
  }
}
