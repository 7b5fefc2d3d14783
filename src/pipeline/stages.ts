/**
 * The pipeline's stages, in run order: data -> pretrain -> fit -> SFT -> samples -> reward models ->
 * PPO and/or DPO -> eval. Each is a `StageDef` (see stage.ts): the only place its name, inputs, outputs,
 * job resources and config slice are written. Add a stage here and every executor runs it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { readJsonl, toJsonl } from '../util/jsonl.ts'
import type { StageResources, StageTimeouts } from '../jobs/types.ts'
import type { PipelineConfig } from './config.ts'
import { defaultPpoConfig } from '../train/ppo-config.ts'
import { defaultSftConfig, sftConfigFrom } from '../train/sft-config.ts'
import { defaultPretrainConfig, defaultPretrainSettings, pretrainConfigFrom } from '../train/pretrain-config.ts'
import { rewardConfigFrom, type RewardSettings } from '../train/reward-config.ts'
import { dpoConfigFrom } from '../train/dpo-config.ts'
import { fromHfConfig } from '../model/config.ts'
import { comparisonRows, demonstrationRows } from './load.ts'
import { out, sha, type Ctx, type StageDef, type StageResult } from './stage.ts'
import { labelsStage, rewardLabelsStage } from './label-stages.ts'
import { splitRankingRows } from './ranking-rows.ts'
import { DEFAULT_TASK_OPTIONS } from '../data/tasks/common.ts'

/** The stage whose model the others start from: `base` (a pretrained model) when it ran, else `pretrain`. */
const lm = (ctx: Ctx): 'base' | 'pretrain' => (ctx.records.has('base') ? 'base' : 'pretrain')

/** A model folder's context length, from its config.json (without loading its weights). */
function modelContext(modelDir: string): number {
  return fromHfConfig(JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')), join(modelDir, 'config.json')).nCtx
}

/** Take up to n rows, round-robin over tasks so small tasks (SWC naming) keep their share. */
function stratified<T extends { task?: string }>(rows: T[], n: number): T[] {
  if (!n || rows.length <= n) return rows
  const byTask = new Map<string, T[]>()
  for (const r of rows) {
    const k = r.task ?? ''
    if (!byTask.has(k)) byTask.set(k, [])
    byTask.get(k)!.push(r)
  }
  const lists = [...byTask.values()]
  const outRows: T[] = []
  for (let i = 0; outRows.length < n; i++) {
    let any = false
    for (const l of lists)
      if (i < l.length && outRows.length < n) {
        outRows.push(l[i])
        any = true
      }
    if (!any) break
  }
  return outRows
}

type RewardStageInit = {
  rows: Array<{ task?: string }>
  /** Train on at most this many of `rows` (0: all), stratified by task. */
  maxComparisons: number
  val: string
  demonstrations?: string
  /** The reward trainer's settings (a pipeline config's `reward` or `hh`, without the stage's own keys). */
  settings: Partial<RewardSettings>
  seed: number
  /** The model it starts from (default: the SFT model). */
  init?: string
}

/** A reward model on (a stratified subset of) `rows`, initialised from the SFT model unless `init` says otherwise. */
async function rewardStage(ctx: Ctx, dir: string, init: RewardStageInit): Promise<StageResult> {
  const { trainReward, defaultRewardConfig } = await import('../train/reward.ts')
  mkdirSync(dir, { recursive: true })
  const { loop, ...settings } = { ...defaultRewardConfig, ...rewardConfigFrom(init.settings) }
  const r = await trainReward({
    ...settings,
    base: init.init ?? out(ctx, 'sft', 'model'),
    train: await comparisonRows(subsetFile(init.rows, init.maxComparisons, join(dir, 'comparisons.train.jsonl'))),
    val: await comparisonRows(init.val),
    demonstrations: init.demonstrations ? await demonstrationRows(init.demonstrations) : undefined,
    outDir: dir,
    loop: { ...loop, seed: init.seed },
    quiet: ctx.quiet,
  })
  const metrics: Record<string, number> = { eval_accuracy: r.finalEval['eval/accuracy'], eval_margin: r.finalEval['eval/margin'] }
  if (init.demonstrations) metrics.bias = r.bias
  return { outputs: { model: r.modelDir, metrics: r.metricsFile }, metrics }
}

/**
 * The training comparisons one learner sees: the policy's reward model and the judge get disjoint
 * halves (by a hash of the id), so the judge was not used to train the policy; DPO draws from the
 * reward model's half, so PPO and DPO learn from the same comparisons. Each takes a subset stratified by
 * task, capped by its config.
 */
export function comparisonsFor<T extends { task?: string; id?: string }>(which: 'reward' | 'judge' | 'dpo', rows: T[], cfg: PipelineConfig): T[] {
  // a row ranking a comparison's SFT samples (samples.ts) goes with its comparison and does not count against the cap
  const { main, follow } = splitRankingRows(rows)
  // DPO learns from the policy reward model's half, so it sees no comparison PPO's reward model did not (the judge's half stays unseen by both)
  const half = main.filter((r) => (parseInt(sha(r.id ?? JSON.stringify(r)).slice(0, 8), 16) % 2 === 0) === (which !== 'judge'))
  return follow(stratified(half, which === 'dpo' ? cfg.dpo.maxComparisons : cfg.reward.maxComparisons))
}

/** The web3 comparisons the reward models and DPO learn from: with SFT samples when that stage ran. */
function comparisonFiles(ctx: Ctx): { train: string; val: string } {
  if (ctx.records.has('samples')) return { train: out(ctx, 'samples', 'train'), val: out(ctx, 'samples', 'val') }
  const tasks = out(ctx, 'fit', 'tasks')
  return { train: join(tasks, 'train', 'comparisons.jsonl'), val: join(tasks, 'val', 'comparisons.jsonl') }
}

/** Tokens a bare prompt must leave free: the most any stage generates (SFT selection, PPO, eval). */
function generationRoom(c: PipelineConfig): number {
  return Math.max(c.sft.maxNewTokens ?? defaultSftConfig.maxNewTokens, c.ppo.maxNewTokens ?? defaultPpoConfig.maxNewTokens, c.eval.maxNewTokens)
}

async function readRows<T>(file: string): Promise<T[]> {
  const rows: T[] = []
  for await (const r of readJsonl<T>(file)) rows.push(r.value)
  return rows
}

function subsetFile<T extends { task?: string }>(rows: T[], n: number, file: string): string {
  writeFileAtomicSync(file, toJsonl(stratified(rows, n)))
  return file
}

/**
 * What a stage's job asks of its machine. CPU only by default: the engine runs on WASM. A config asks
 * for more, a GPU included, per stage under `jobs.resources` (e.g. `{ "ppo": { "gpu": 1 } }`).
 * The total timeout is always set (execution + an hour in the queue): an orchestrator fills a missing
 * one from its JobDefaults, and rejects the job if that default is shorter than the execution timeout.
 */
function jobLimits(hours: number, resources: StageResources): { resources: StageResources; timeouts: StageTimeouts } {
  return { resources, timeouts: { executionSeconds: hours * 3600, totalSeconds: hours * 3600 + 3600 } }
}
const light = (hours: number) => jobLimits(hours, { cpu: '1', memory: '2gb', disk: '4gb' })
const training = (hours: number, memory = '8gb') => jobLimits(hours, { cpu: '4', memory, disk: '4gb' })

/** The data stage's task settings as keyed: the default valFraction is left out, so records made before the option existed are reused. */
function tasksKey(t: PipelineConfig['tasks']): Partial<PipelineConfig['tasks']> {
  const { valFraction, ...rest } = t
  return valFraction === DEFAULT_TASK_OPTIONS.valFraction ? rest : t
}

export const STAGES: StageDef[] = [
  {
    name: 'data',
    inputs: [],
    external: (c) => ({ 'shared-data': c.dataDir }),
    outputs: ['corpus', 'tasks'],
    ...light(1),
    config: (c) => ({ tasks: tasksKey(c.tasks), dataChecksums: existsSync(join(c.dataDir, 'SHA256SUMS')) ? sha(readFileSync(join(c.dataDir, 'SHA256SUMS'))) : c.dataDir }),
    async run(ctx, dir) {
      const { buildCorpus } = await import('../data/corpus.ts')
      const { buildTasks } = await import('../data/tasks/build.ts')
      const dataDir = ctx.external.get('shared-data')!
      // one held-out fraction for corpus and tasks: the same hash rule keeps val prompts out of the pretraining text
      const corpus = await buildCorpus({ dataDir, outDir: join(dir, 'corpus'), quiet: ctx.quiet, valFraction: ctx.cfg.tasks.valFraction })
      const tasks = await buildTasks({ dataDir, outDir: join(dir, 'tasks'), quiet: ctx.quiet, maxChars: ctx.cfg.tasks.maxChars, maxAnswerChars: ctx.cfg.tasks.maxAnswerChars, valFraction: ctx.cfg.tasks.valFraction })
      void tasks
      return {
        outputs: { corpus: join(dir, 'corpus'), tasks: join(dir, 'tasks') },
        metrics: { train_docs: corpus.datasheet.totals.train, val_docs: corpus.datasheet.totals.val },
      }
    },
  },
  {
    name: 'pretrain',
    // 2: the token stream became an output
    version: 2,
    inputs: ['data'],
    outputs: ['model', 'metrics', 'tokens'],
    ...training(6),
    config: (c) => ({ tokenizer: c.tokenizer, model: c.model, pretrain: c.pretrain }),
    async run(ctx, dir) {
      const { pretrain } = await import('../train/pretrain.ts')
      const { loop, ...settings } = pretrainConfigFrom(ctx.cfg.pretrain)
      const r = await pretrain({
        ...defaultPretrainConfig,
        ...settings,
        corpusDir: out(ctx, 'data', 'corpus'),
        outDir: dir,
        tokenizer: { vocabSize: ctx.cfg.tokenizer.vocabSize, trainBytes: ctx.cfg.tokenizer.trainBytes },
        model: ctx.cfg.model,
        loop: { ...defaultPretrainConfig.loop, ...loop },
        quiet: ctx.quiet,
      })
      // the token stream is an output too: PPO-ptx mixes it in, and a reproduced PPO stage must get it by CID
      return {
        outputs: { model: r.modelDir, metrics: r.metricsFile, tokens: join(dir, 'train.tokens.i32') },
        metrics: { eval_loss: r.finalEval['eval/loss'], eval_ppl: r.finalEval['eval/ppl'] },
      }
    },
  },
  {
    name: 'base',
    inputs: ['data'],
    outputs: ['model', 'tokens'],
    ...light(1),
    external: (c) => ({ 'base-model': c.base.model }),
    config: (c) => ({ model: c.base.model, maxDocs: c.pretrain.maxDocs ?? defaultPretrainSettings.maxDocs }),
    async run(ctx, dir) {
      const { importBase } = await import('./base.ts')
      return importBase({ source: ctx.external.get('base-model')!, corpusDir: out(ctx, 'data', 'corpus'), outDir: dir, maxDocs: ctx.cfg.pretrain.maxDocs ?? defaultPretrainSettings.maxDocs, quiet: ctx.quiet })
    },
  },
  {
    name: 'fit',
    inputs: ['data', 'pretrain', 'base'],
    outputs: ['tasks', 'counts'],
    ...light(0.5),
    // with a base model its context comes from its config.json, which the base stage's key covers
    config: (c) => ({ nCtx: c.base.model ? undefined : c.model.nCtx, maxNewTokens: generationRoom(c) }),
    async run(ctx, dir) {
      const { fitTasks } = await import('./fit.ts')
      const { loadTokenizer } = await import('../tokenizer/index.ts')
      const counts = await fitTasks({
        tasksDir: out(ctx, 'data', 'tasks'),
        outDir: join(dir, 'tasks'),
        tokenizer: loadTokenizer(out(ctx, lm(ctx), 'model')),
        nCtx: modelContext(out(ctx, lm(ctx), 'model')),
        maxNewTokens: generationRoom(ctx.cfg),
      })
      const sum = (k: 'rows' | 'shortened' | 'dropped' | 'unfit') => Object.values(counts).reduce((a, c) => a + c[k], 0)
      ctx.log(`fit: ${sum('shortened')} of ${sum('rows')} prompts shortened to the ${modelContext(out(ctx, lm(ctx), 'model'))}-token context; responses too long: ${sum('dropped')} rows left out, ${sum('unfit')} comparisons kept as they are`)
      writeFileAtomicSync(join(dir, 'fit.json'), JSON.stringify(counts, null, 2) + '\n')
      return { outputs: { tasks: join(dir, 'tasks'), counts: join(dir, 'fit.json') }, metrics: { rows: sum('rows'), shortened: sum('shortened'), dropped: sum('dropped'), unfit: sum('unfit') } }
    },
  },
  {
    name: 'sft',
    inputs: ['fit', 'pretrain', 'base'],
    outputs: ['model', 'metrics'],
    ...training(3),
    // the run seed too: the stage's code reads cfg.seed, so a run with another seed must not be skipped
    config: (c) => ({ sft: c.sft, seed: c.seed }),
    async run(ctx, dir) {
      const { trainSft } = await import('../train/sft.ts')
      const tasks = out(ctx, 'fit', 'tasks')
      const demos = await readRows<{ task?: string }>(join(tasks, 'train', 'demonstrations.jsonl'))
      mkdirSync(dir, { recursive: true })
      const train = subsetFile(demos, ctx.cfg.sft.maxDemonstrations, join(dir, 'demonstrations.train.jsonl'))
      const { maxDemonstrations: _n, maxEvalDemonstrations, selectByReward: _s, ...s } = ctx.cfg.sft
      const { loop, ...settings } = { ...defaultSftConfig, ...sftConfigFrom(s) }
      const r = await trainSft({
        ...settings,
        base: out(ctx, lm(ctx), 'model'),
        train: await demonstrationRows(train),
        val: await demonstrationRows(subsetFile(await readRows<{ task?: string }>(join(tasks, 'val', 'demonstrations.jsonl')), maxEvalDemonstrations, join(dir, 'demonstrations.val.jsonl'))),
        outDir: dir,
        loop: { ...loop, seed: ctx.cfg.seed },
        quiet: ctx.quiet,
      })
      return { outputs: { model: r.modelDir, metrics: r.metricsFile }, metrics: { eval_loss: r.finalEval['eval/loss'] } }
    },
  },
  {
    name: 'samples',
    inputs: ['fit', 'sft'],
    outputs: ['train', 'val'],
    ...training(1),
    // 2: perPrompt samples and the rows ranking them
    version: 2,
    // the selection of comparisons depends on the learners' caps
    // (balanceLength only when on, so runs from before it existed keep their key)
    config: ({ samples: { balanceLength, ...samples }, ...c }) => ({ ...samples, ...(balanceLength ? { balanceLength } : {}), seed: c.seed, reward: c.reward.maxComparisons, dpo: c.dpo.maxComparisons }),
    async run(ctx, dir) {
      const { addPolicySamples } = await import('./samples.ts')
      const { loadComparisons } = await import('../data/formats.ts')
      const tasks = out(ctx, 'fit', 'tasks')
      mkdirSync(dir, { recursive: true })
      // sample only for the comparisons some learner will use
      const all = await loadComparisons(join(tasks, 'train', 'comparisons.jsonl'))
      const used = new Set((['reward', 'judge', 'dpo'] as const).flatMap((w) => comparisonsFor(w, all, ctx.cfg)))
      const sets = [
        { rows: all.filter((r) => used.has(r)), to: join(dir, 'comparisons.train.jsonl') },
        { rows: await loadComparisons(join(tasks, 'val', 'comparisons.jsonl')), to: join(dir, 'comparisons.val.jsonl') },
      ]
      const { maxNewTokens, perPrompt, balanceLength } = ctx.cfg.samples
      const r = await addPolicySamples({ policyDir: out(ctx, 'sft', 'model'), sets, maxNewTokens, perPrompt, balanceLength, seed: ctx.cfg.seed })
      ctx.log(`samples: ${r.added} SFT samples added to ${r.comparisons} comparisons (${r.emptyOrDuplicate} empty, duplicate or too long, left out), ${r.meanTokens.toFixed(1)} tokens on average; ${r.rankingRows} rows rank samples among themselves (${r.tiedRankings} all tied, left out)`)
      if (balanceLength) ctx.log(`samples: length balance: the longer sample won ${r.longerWins} ranking pairs, the shorter ${r.shorterWins}; ${r.droppedForBalance} dropped`)
      return { outputs: { train: sets[0].to, val: sets[1].to }, metrics: { added: r.added, comparisons: r.comparisons, mean_tokens: r.meanTokens, ranking_rows: r.rankingRows } }
    },
  },
  ...(['reward', 'judge'] as const).map(
    (which): StageDef => ({
      name: which,
      // 3: the rows comparisonsFor picked, as they are (version 2 capped them a second time, which cut
      // most of the SFT-sample ranking rows appended after the capped comparisons)
      version: 3,
      inputs: ['fit', 'pretrain', 'base', 'sft', 'samples'],
      outputs: ['model', 'metrics'],
      ...training(3),
      config: (c) => ({ reward: c.reward, seed: which === 'judge' ? c.judge.seed : c.seed, ...(which === 'judge' ? { init: c.judge.init } : {}) }),
      async run(ctx, dir) {
        const tasks = out(ctx, 'fit', 'tasks')
        const cmp = comparisonFiles(ctx)
        // already capped (maxComparisons) by comparisonsFor, with their ranking rows: not capped again
        const rows = comparisonsFor(which, await readRows<{ task?: string; id?: string }>(cmp.train), ctx.cfg)
        const { maxComparisons: _capped, ...settings } = ctx.cfg.reward
        return rewardStage(ctx, dir, {
          rows,
          maxComparisons: 0,
          val: cmp.val,
          demonstrations: join(tasks, 'val', 'demonstrations.jsonl'),
          settings,
          seed: which === 'judge' ? ctx.cfg.judge.seed : ctx.cfg.seed,
          // the judge from the pretrained model shares less with the policy's reward model (issue 18)
          init: which === 'judge' && ctx.cfg.judge.init === 'base' ? out(ctx, lm(ctx), 'model') : undefined,
        })
      },
    }),
  ),
  // label batches (config labels.batches): verified, then a reward model on them
  labelsStage,
  rewardLabelsStage,
  {
    name: 'reward-hh',
    version: 2,
    inputs: ['fit', 'sft'],
    outputs: ['model', 'metrics'],
    ...training(3),
    // the run seed too: the stage's code reads cfg.seed, so a run with another seed must not be skipped
    config: (c) => ({ hh: c.hh, seed: c.seed }),
    async run(ctx, dir) {
      const tasks = out(ctx, 'fit', 'tasks')
      const { enabled: _e, maxComparisons, ...settings } = ctx.cfg.hh
      return rewardStage(ctx, dir, {
        rows: await readRows<{ task?: string }>(join(tasks, 'train', 'hh_comparisons.jsonl')),
        maxComparisons,
        val: join(tasks, 'val', 'hh_comparisons.jsonl'),
        settings,
        seed: ctx.cfg.seed,
      })
    },
  },
  {
    name: 'ppo',
    inputs: ['fit', 'pretrain', 'base', 'sft', 'reward'],
    outputs: ['model', 'value', 'metrics'],
    ...training(6, '12gb'),
    // the run seed too: the stage's code reads cfg.seed, so a run with another seed must not be skipped
    config: (c) => ({ ppo: c.ppo, seed: c.seed }),
    async run(ctx, dir) {
      const { runPpoStage } = await import('./rl-stages.ts')
      return runPpoStage({
        cfg: ctx.cfg,
        tasksDir: out(ctx, 'fit', 'tasks'),
        ptxTokensFile: out(ctx, lm(ctx), 'tokens'),
        sft: out(ctx, 'sft', 'model'),
        reward: out(ctx, 'reward', 'model'),
        outDir: dir,
        quiet: ctx.quiet,
      })
    },
  },
  {
    name: 'dpo',
    // 2: learns from the reward model's half of the comparisons
    version: 2,
    inputs: ['fit', 'sft', 'samples'],
    outputs: ['model', 'metrics'],
    ...training(3),
    // the run seed too: the stage's code reads cfg.seed, so a run with another seed must not be skipped
    config: (c) => ({ dpo: c.dpo, seed: c.seed }),
    async run(ctx, dir) {
      const { trainDpo } = await import('../train/dpo.ts')
      // fit has shortened every prompt to the context, so no comparison is left out here
      const cmp = comparisonFiles(ctx)
      const rows = comparisonsFor('dpo', await readRows<{ task?: string; id?: string }>(cmp.train), ctx.cfg)
      mkdirSync(dir, { recursive: true })
      const train = subsetFile(rows, 0, join(dir, 'comparisons.train.jsonl'))
      const valFile = subsetFile(await readRows<{ task?: string }>(cmp.val), ctx.cfg.dpo.maxEvalComparisons, join(dir, 'comparisons.val.jsonl'))
      const { maxComparisons: _n, maxEvalComparisons: _v, ...d } = ctx.cfg.dpo
      const { loop, ...settings } = dpoConfigFrom(d)
      const r = await trainDpo({
        ...settings,
        policyDir: out(ctx, 'sft', 'model'),
        comparisons: await comparisonRows(train),
        evalComparisons: await comparisonRows(valFile),
        outDir: dir,
        loop: { ...loop, seed: ctx.cfg.seed },
        quiet: ctx.quiet,
      })
      return {
        outputs: { model: r.modelDir, metrics: r.metricsFile },
        metrics: { eval_accuracy: r.finalEval['eval/rewards/accuracies'] ?? NaN, eval_margin: r.finalEval['eval/rewards/margins'] ?? NaN },
      }
    },
  },
  {
    name: 'eval',
    inputs: ['data', 'fit', 'pretrain', 'base', 'sft', 'samples', 'reward', 'judge', 'reward-hh', 'ppo', 'dpo'],
    outputs: ['eval'],
    ...training(1, '4gb'),
    // the run seed too: the stage's code reads cfg.seed, so a run with another seed must not be skipped
    config: (c) => ({ eval: c.eval, seed: c.seed }),
    async run(ctx, dir) {
      const { evaluate } = await import('./evaluate.ts')
      const { vsSftMetrics } = await import('./policy-compare.ts')
      const tasks = out(ctx, 'fit', 'tasks')
      const policies: Record<string, string> = { base: out(ctx, lm(ctx), 'model'), sft: out(ctx, 'sft', 'model') }
      if (ctx.records.has('ppo')) policies.ppo = out(ctx, 'ppo', 'model')
      if (ctx.records.has('dpo')) policies.dpo = out(ctx, 'dpo', 'model')
      const rewardModels: Record<string, { dir: string; data: string }> = {
        'reward (web3)': { dir: out(ctx, 'reward', 'model'), data: comparisonFiles(ctx).val },
        'judge (web3)': { dir: out(ctx, 'judge', 'model'), data: comparisonFiles(ctx).val },
      }
      if (ctx.records.has('reward-hh')) rewardModels['hh-rlhf'] = { dir: out(ctx, 'reward-hh', 'model'), data: join(tasks, 'val', 'hh_comparisons.jsonl') }
      const report = await evaluate({
        policies,
        judge: out(ctx, 'judge', 'model'),
        policyReward: out(ctx, 'reward', 'model'),
        rewardModels,
        prompts: join(tasks, 'val', 'prompts.jsonl'),
        swcPrompts: join(tasks, 'val', 'prompts.jsonl'),
        swcLabels: ctx.cfg.eval.swcChoice ? join(tasks, 'swc_labels.json') : undefined,
        heldOutText: join(out(ctx, 'data', 'corpus'), 'val.jsonl'),
        maxPrompts: ctx.cfg.eval.maxPrompts,
        maxNewTokens: ctx.cfg.eval.maxNewTokens,
        samplesPerPrompt: ctx.cfg.eval.samplesPerPrompt,
        resamples: ctx.cfg.eval.resamples,
        missingEosPenalty: ctx.cfg.eval.missingEosPenalty,
        seed: ctx.cfg.seed,
        quiet: ctx.quiet,
      })
      mkdirSync(dir, { recursive: true })
      const file = join(dir, 'eval.json')
      writeFileAtomicSync(file, JSON.stringify(report, null, 2) + '\n')
      const metrics: Record<string, number> = {}
      for (const p of report.policies) {
        metrics[`${p.name}/judge_reward`] = p.judgeReward
        if (p.vsSft) Object.assign(metrics, vsSftMetrics(p.name, p.vsSft))
        if (p.klToSft !== undefined) metrics[`${p.name}/kl_to_sft`] = p.klToSft
        if (p.swcAccuracy !== undefined) metrics[`${p.name}/swc_accuracy`] = p.swcAccuracy
        if (p.swcChoiceAccuracy !== undefined) metrics[`${p.name}/swc_choice_accuracy`] = p.swcChoiceAccuracy
      }
      for (const r of report.rewardModels) metrics[`rm/${r.name}/accuracy`] = r.accuracy
      return { outputs: { eval: file }, metrics }
    },
  },
]

export function activeStages(cfg: PipelineConfig): StageDef[] {
  return STAGES.filter((s) => {
    if (s.name === 'pretrain') return !cfg.base.model
    if (s.name === 'base') return Boolean(cfg.base.model)
    if (s.name === 'ppo') return cfg.rl !== 'dpo'
    if (s.name === 'dpo') return cfg.rl !== 'ppo'
    if (s.name === 'reward-hh') return cfg.hh.enabled
    if (s.name === 'samples') return cfg.samples.enabled
    if (s.name === 'labels' || s.name === 'reward-labels') return cfg.labels.batches.length > 0
    return true
  })
}

