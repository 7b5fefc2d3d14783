/**
 * The pipeline's one config (JSON file for `instruct3 pipeline --config FILE`; `demoConfig` for
 * `instruct3 demo`). Every field has a default; a file only names what it changes. Unknown keys and
 * wrong types are errors naming the field.
 */
import { readFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { dataDir, sharedDataDir } from '../util/paths.ts'
import { DEFAULT_IMAGE } from '../jobs/stages.ts'
import type { StageResources } from '../jobs/types.ts'
import { parseCid } from './cid.ts'
import { checkEvalSettings } from './eval-config.ts'
import { DEFAULT_TASK_OPTIONS } from '../data/tasks/common.ts'
import { checkPpoSettings, type PpoSettingsPatch } from '../train/ppo-config.ts'
import { checkPretrainSettings, type PretrainSettings } from '../train/pretrain-config.ts'
import { checkSftSettings, type SftSettings } from '../train/sft-config.ts'
import { checkRewardSettings, type RewardSettings } from '../train/reward-config.ts'
import { checkDpoSettings, type DpoSettings } from '../train/dpo-config.ts'
import { checkSettings } from '../util/settings.ts'
import { ROW_ORIGINS, type RowOrigin } from '../data/formats.ts'

export type PipelineConfig = {
  name: string
  /** Stage outputs live in workDir/<stage>/. */
  workDir: string
  /** The public data folder (shared/data). */
  dataDir: string
  /**
   * valFraction: share held out, for the corpus and the tasks alike (the same hash rule, so a held-out
   * prompt is never in the pretraining text; a larger fraction keeps every smaller one's items).
   */
  tasks: { maxChars: number; maxAnswerChars: number; valFraction: number }
  /**
   * Start from this pretrained GPT-2 (a Hugging Face folder, or its CID) instead of pretraining: the
   * `base` stage replaces `pretrain`, and `tokenizer`, `model` and `pretrain` (but maxDocs) are unused.
   * '' (the default): pretrain from scratch.
   */
  base: { model: string }
  tokenizer: { vocabSize: number; trainBytes: number }
  model: { nCtx: number; nEmbd: number; nLayer: number; nHead: number; dropout: number }
  /**
   * The trainer sections (`pretrain`, `sft`, `reward`, `hh`, `dpo`, `ppo`) hold what a config changes of
   * that trainer's settings (flat: `lr`, not `loop.lr`), checked by the trainer's validator; the defaults
   * are the trainer's (train/<name>-config.ts). Other keys in a section are the pipeline's own (how many
   * rows the stage feeds the trainer). The pretraining seed is `pretrain.seed` (the loop's default unless
   * set); the other trainers run with the pipeline's `seed`.
   */
  pretrain: Partial<PretrainSettings>
  /** selectPrompts/maxNewTokens: validation prompts and tokens per prompt when SFT selects its checkpoint by reward. */
  sft: Partial<SftSettings> & { maxDemonstrations: number; maxEvalDemonstrations: number; selectByReward: boolean }
  /**
   * perPrompt SFT samples added to every web3 comparison (ranked with the wrong answers) before the reward
   * models and DPO; with >= 2, a row ranking them among themselves by closeness to the reference (samples.ts).
   */
  samples: { enabled: boolean; maxNewTokens: number; perPrompt: number; /** ranking rows as length-balanced pairs (samples.ts) */ balanceLength: boolean }
  reward: Partial<RewardSettings> & { maxComparisons: number }
  /**
   * A second reward model, trained on the other half of the comparisons with another seed: the judge.
   * `init`: the model it starts from, the pretrained base (so it shares less with the policy's reward
   * model, which starts from SFT) or SFT.
   */
  judge: { seed: number; init: 'base' | 'sft' }
  /** A reward model on the real hh-rlhf preference pairs (reported, not used by RL). */
  hh: Partial<RewardSettings> & { enabled: boolean; maxComparisons: number }
  /** Which RL step(s) to run after the reward model. */
  rl: 'ppo' | 'dpo' | 'both'
  /**
   * PPO's settings (checked by the trainer's `checkPpoSettings`, defaults in train/ppo-config.ts), how many
   * prompts it draws from, and `zeroScore`: the ablation where every reward-model score is 0, so only the
   * KL penalty and the pretraining mix move the policy.
   */
  ppo: PpoSettingsPatch & { maxPrompts: number; zeroScore?: boolean }
  dpo: Partial<DpoSettings> & { maxComparisons: number; maxEvalComparisons: number }
  /**
   * swcChoice: also score every SWC label's likelihood per held-out contract (33 forward passes each).
   * samplesPerPrompt, resamples, missingEosPenalty (0 = none): see eval-config.ts.
   */
  eval: { maxPrompts: number; maxNewTokens: number; swcChoice: boolean; samplesPerPrompt: number; resamples: number; missingEosPenalty: number }
  /** Where artifacts and manifests go: the embedded Helia node, a Kubo node, or nowhere. */
  store: { kind: 'helia' | 'kubo' | 'none'; apiUrl?: string; dir?: string }
  /** With `--runner local|bacalhau`: the image a job runs, and per-stage resources over the stage's own (e.g. `{ "ppo": { "gpu": 1 } }`). */
  jobs: { image: string; resources: Record<string, StageResources> }
  /**
   * Label batches (a `label export` folder, or its CID in the store) the `labels` stage verifies and the
   * `reward-labels` stage trains on. `origin` says who labeled (human / simulated-labeler / synthetic);
   * `campaign` (required) refuses an export of another campaign; `deployment` (a chain deployment JSON; '' for none) requires each
   * batch's root to be settled by its escrow; labelers failing gold beyond `fraudGoldFailBps` are left out.
   */
  labels: { batches: LabelBatchSource[]; deployment: string; fraudGoldFailBps: number }
  seed: number
}

/** The sections holding a trainer's settings, checked by that trainer's validator. */
const TRAINER_SECTIONS = ['pretrain', 'sft', 'reward', 'hh', 'dpo', 'ppo'] as const

export type LabelBatchSource = { source: string; origin: RowOrigin; campaign: string }

export function defaultPipelineConfig(): PipelineConfig {
  return {
    name: 'default',
    workDir: join(dataDir(), 'runs', 'default'),
    dataDir: sharedDataDir(),
    // enough held-out prompts for the evaluation's 320 (docs/rlhf.md has the counts)
    tasks: { maxChars: 640, maxAnswerChars: 200, valFraction: 0.1 },
    base: { model: '' },
    tokenizer: { vocabSize: 4096, trainBytes: 8_000_000 },
    model: { nCtx: 256, nEmbd: 256, nLayer: 4, nHead: 4, dropout: 0 },
    // the trainer sections name only where the pipeline differs from the trainer's defaults
    pretrain: { steps: 2000, warmup: 100, evalEvery: 200, checkpointEvery: 200 },
    sft: { maxNewTokens: 32, maxDemonstrations: 0, maxEvalDemonstrations: 0, selectByReward: false },
    samples: { enabled: true, maxNewTokens: 32, perPrompt: 2, balanceLength: false },
    reward: { warmup: 5, maxComparisons: 0 },
    judge: { seed: 7, init: 'base' },
    hh: { enabled: true, epochs: 1, batchSize: 8, warmup: 5, evalEvery: 0, maxComparisons: 0 },
    rl: 'both',
    // adaptive KL toward a few nats (Ziegler et al.'s controller; horizon scaled to our runs of a few thousand episodes)
    // scores normalised on 256 SFT samples (Ziegler et al.): the value clip and the missing-EOS penalty in units of the RM's spread
    ppo: { maxPrompts: 512, kl: { coef: 0.05, estimator: 'k1', adaptive: { target: 4, horizon: 1024 } }, missingEosPenalty: 1, scoreNormSamples: 256 },
    dpo: { warmup: 5, maxComparisons: 0, maxEvalComparisons: 0 },
    // >= 300 held-out prompts x 4 samples, so the intervals can resolve the differences RLHF makes (docs/rlhf.md)
    eval: { maxPrompts: 320, maxNewTokens: 48, swcChoice: true, samplesPerPrompt: 4, resamples: 2000, missingEosPenalty: 0 },
    store: { kind: 'helia' },
    jobs: { image: DEFAULT_IMAGE, resources: {} },
    labels: { batches: [], deployment: '', fraudGoldFailBps: 5000 },
    seed: 1,
  }
}

/**
 * The small configuration `instruct3 demo` runs end to end on 2 cores in about 8 minutes (native kernels): a 2-layer,
 * d=64 GPT with a 2,048-token vocabulary, short training runs, small reward-model and RL budgets. Its
 * report shows each stage doing its job; the quality of a larger run needs a larger config.
 */
export function demoConfig(): PipelineConfig {
  const c = defaultPipelineConfig()
  return {
    ...c,
    name: 'demo',
    workDir: join(dataDir(), 'runs', 'demo'),
    tasks: { maxChars: 280, maxAnswerChars: 100, valFraction: DEFAULT_TASK_OPTIONS.valFraction },
    tokenizer: { vocabSize: 2048, trainBytes: 3_000_000 },
    model: { nCtx: 128, nEmbd: 64, nLayer: 2, nHead: 2, dropout: 0 },
    pretrain: { ...c.pretrain, steps: 550, batchSize: 16, lr: 4e-3, minLr: 4e-4, warmup: 40, evalEvery: 100, checkpointEvery: 100 },
    sft: { ...c.sft, epochs: 2, batchSize: 16, lr: 2e-3, minLr: 2e-4, maxDemonstrations: 1200 },
    samples: { enabled: true, maxNewTokens: 24, perPrompt: 2, balanceLength: false },
    reward: { ...c.reward, epochs: 1, batchSize: 8, lr: 1e-3, minLr: 1e-4, maxComparisons: 1000 },
    hh: { ...c.hh, epochs: 1, batchSize: 8, lr: 1e-3, minLr: 1e-4, maxComparisons: 800 },
    // the trainer's ratios (64 episodes, minibatches of 8, one epoch). No pretraining mix (ptxCoef 0): the mix pulled
    // the policy toward the base model (held-out perplexity 316 vs SFT's 575) and to the token limit. Scores
    // normalised on 256 SFT samples; 32 iterations (2,048 episodes) at lr 4e-4: with 16 at 2e-4 the policy
    // moved 1-1.5 nats and lost to SFT on one seed of three. The KL controller starts at beta 0.2 with a horizon
    // of 128 episodes (it may move beta 10% per iteration): at 0.1 and 512, beta rose 16% in 32 iterations while
    // the KL ran to 20 nats on one seed; at 0.1 and 128 the policy fell to 9-token answers on another (issue 18)
    ppo: { iterations: 32, rolloutBatch: 64, miniBatch: 8, ppoEpochs: 1, maxNewTokens: 24, maxPrompts: 256, policyLr: 4e-4, kl: { coef: 0.2, estimator: 'k1', adaptive: { target: 4, horizon: 128 } }, missingEosPenalty: 1, ptxCoef: 0, scoreNormSamples: 256 },
    // DPO learns from the reward model's comparisons (1,000 and their ranking rows): with 80 comparisons and 30
    // steps it did not move ROUGE-L; with these it did on 3 of 3 seeds (docs/rlhf.md, issue 18), for ~2 more minutes
    dpo: { ...c.dpo, steps: 150, lr: 5e-4, minLr: 5e-5, evalEvery: 50, maxComparisons: 1000, maxEvalComparisons: 64 },
    // swcChoice adds about 2 minutes here
    // fewer prompts and samples than the default to stay within the demo's time; the report's intervals show the cost
    eval: { ...c.eval, maxPrompts: 48, maxNewTokens: 24, swcChoice: false, samplesPerPrompt: 2 },
  }
}

/** Merge a (partial) JSON config over the defaults, checking every key and type. */
export function mergeConfig(base: PipelineConfig, patch: unknown, file?: string): PipelineConfig {
  const walk = (b: unknown, p: unknown, path: string): unknown => {
    if (p === undefined) return b
    if (b !== null && typeof b === 'object' && !Array.isArray(b)) {
      if (p === null || typeof p !== 'object' || Array.isArray(p))
        throw new Instruct3Error(`expected an object`, { code: 'ECONFIG', details: { file, field: path } })
      const out: Record<string, unknown> = { ...(b as Record<string, unknown>) }
      // the trainer sections are checked by their trainers' validators below; jobs.resources is keyed by stage name (checked by the job executor)
      const free = TRAINER_SECTIONS.some((t) => path === t || path.startsWith(`${t}.`)) || path === 'jobs.resources'
      for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
        const sub = path ? `${path}.${k}` : k
        if (!(k in out) && !free && !(path === 'store' && (k === 'apiUrl' || k === 'dir')))
          throw new Instruct3Error(`unknown key`, { code: 'ECONFIG', details: { file, field: sub } })
        out[k] = k in out ? walk(out[k], v, sub) : v
      }
      return out
    }
    if (b !== undefined && typeof b !== typeof p)
      throw new Instruct3Error(`expected ${typeof b}, got ${p === null ? 'null' : typeof p}`, { code: 'ECONFIG', details: { file, field: path } })
    return p
  }
  const merged = walk(base, patch, '') as PipelineConfig
  const enums: Array<[string, unknown, unknown[]]> = [
    ['rl', merged.rl, ['ppo', 'dpo', 'both']],
    ['judge.init', merged.judge.init, ['base', 'sft']],
    ['store.kind', merged.store.kind, ['helia', 'kubo', 'none']],
  ]
  for (const [field, v, allowed] of enums)
    if (!allowed.includes(v)) throw new Instruct3Error(`must be one of ${allowed.join(', ')}`, { code: 'ECONFIG', details: { file, field } })
  const { maxPrompts, zeroScore, ...ppo } = merged.ppo
  if (typeof maxPrompts !== 'number') throw new Instruct3Error(`expected number, got ${typeof maxPrompts}`, { code: 'ECONFIG', details: { file, field: 'ppo.maxPrompts' } })
  if (zeroScore !== undefined && typeof zeroScore !== 'boolean') throw new Instruct3Error(`expected boolean, got ${typeof zeroScore}`, { code: 'ECONFIG', details: { file, field: 'ppo.zeroScore' } })
  checkPpoSettings(ppo, 'ppo', file)
  checkPretrainSettings(merged.pretrain, 'pretrain', file)
  {
    const { maxDemonstrations, maxEvalDemonstrations, selectByReward, ...sft } = merged.sft
    checkSettings({ maxDemonstrations: 0, maxEvalDemonstrations: 0, selectByReward: false }, { maxDemonstrations, maxEvalDemonstrations, selectByReward }, 'sft', file)
    checkSftSettings(sft, 'sft', file)
  }
  {
    const { maxComparisons, ...reward } = merged.reward
    checkSettings({ maxComparisons: 0 }, { maxComparisons }, 'reward', file)
    checkRewardSettings(reward, 'reward', file)
  }
  {
    const { enabled, maxComparisons, ...hh } = merged.hh
    checkSettings({ enabled: true, maxComparisons: 0 }, { enabled, maxComparisons }, 'hh', file)
    checkRewardSettings(hh, 'hh', file)
  }
  {
    const { maxComparisons, maxEvalComparisons, ...dpo } = merged.dpo
    checkSettings({ maxComparisons: 0, maxEvalComparisons: 0 }, { maxComparisons, maxEvalComparisons }, 'dpo', file)
    checkDpoSettings(dpo, 'dpo', file)
  }
  if (!(merged.tasks.valFraction > 0 && merged.tasks.valFraction <= 0.5))
    throw new Instruct3Error(`must be in (0, 0.5], got ${merged.tasks.valFraction}`, { code: 'ECONFIG', details: { file, field: 'tasks.valFraction' } })
  if (!(Number.isInteger(merged.samples.perPrompt) && merged.samples.perPrompt >= 1))
    throw new Instruct3Error(`must be an integer >= 1, got ${merged.samples.perPrompt}`, { code: 'ECONFIG', details: { file, field: 'samples.perPrompt' } })
  try {
    checkEvalSettings(merged.eval, 'eval.')
  } catch (e) {
    if (e instanceof Instruct3Error) throw new Instruct3Error(e.shortMessage, { code: e.code, details: { ...e.details, file } })
    throw e
  }
  for (const [stage, r] of Object.entries(merged.jobs.resources)) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Instruct3Error('expected an object', { code: 'ECONFIG', details: { file, field: `jobs.resources.${stage}` } })
    for (const [k, v] of Object.entries(r)) {
      if (!['cpu', 'memory', 'disk', 'gpu'].includes(k)) throw new Instruct3Error('unknown key (cpu, memory, disk, gpu)', { code: 'ECONFIG', details: { file, field: `jobs.resources.${stage}.${k}` } })
      if (typeof v !== 'string' && typeof v !== 'number') throw new Instruct3Error(`expected a string or number, got ${typeof v}`, { code: 'ECONFIG', details: { file, field: `jobs.resources.${stage}.${k}` } })
    }
  }
  if (!Array.isArray(merged.labels.batches)) throw new Instruct3Error('expected an array', { code: 'ECONFIG', details: { file, field: 'labels.batches' } })
  merged.labels.batches.forEach((b, i) => {
    const at = `labels.batches[${i}]`
    if (b === null || typeof b !== 'object') throw new Instruct3Error('expected {source, origin, campaign}', { code: 'ECONFIG', details: { file, field: at } })
    for (const k of Object.keys(b)) if (!['source', 'origin', 'campaign'].includes(k)) throw new Instruct3Error('unknown key', { code: 'ECONFIG', details: { file, field: `${at}.${k}` } })
    if (typeof b.source !== 'string' || !b.source) throw new Instruct3Error('must be a label export folder or its CID', { code: 'ECONFIG', details: { file, field: `${at}.source` } })
    if (!ROW_ORIGINS.includes(b.origin)) throw new Instruct3Error(`must be one of ${ROW_ORIGINS.join(', ')}`, { code: 'ECONFIG', details: { file, field: `${at}.origin` } })
    if (typeof b.campaign !== 'string' || !b.campaign) throw new Instruct3Error('must name the labeling campaign the export is of (an export of another campaign is refused)', { code: 'ECONFIG', details: { file, field: `${at}.campaign` } })
  })
  if (merged.model.nEmbd % merged.model.nHead !== 0)
    throw new Instruct3Error('model.nEmbd must be divisible by model.nHead', { code: 'ECONFIG', details: { file, field: 'model.nHead' } })
  if (merged.store.kind === 'kubo' && !merged.store.apiUrl)
    throw new Instruct3Error('store.kind "kubo" needs store.apiUrl', { code: 'ECONFIG', details: { file, field: 'store.apiUrl' } })
  return merged
}

export function loadPipelineConfig(file: string): PipelineConfig {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new Instruct3Error(`cannot read config (${(cause as Error).message})`, { code: 'ECONFIG', details: { file }, cause })
  }
  const base = (raw as { extends?: string }).extends === 'demo' ? demoConfig() : defaultPipelineConfig()
  if (raw && typeof raw === 'object') delete (raw as { extends?: string }).extends
  const c = mergeConfig(base, raw, file)
  // relative paths in a config file are relative to the file
  c.workDir = resolve(dirname(file), c.workDir)
  c.dataDir = resolve(dirname(file), c.dataDir)
  c.labels.batches = c.labels.batches.map((b) => (b.source.startsWith('.') || b.source.startsWith('/') ? { ...b, source: resolve(dirname(file), b.source) } : b))
  if (c.labels.deployment) c.labels.deployment = resolve(dirname(file), c.labels.deployment)
  if (c.base.model && !parseCid(c.base.model)) c.base.model = resolve(dirname(file), c.base.model)
  return c
}
