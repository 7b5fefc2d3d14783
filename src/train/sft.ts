/**
 * Supervised fine-tuning on demonstrations (InstructGPT step 1): each (prompt, response) goes through the
 * chat template, the loss counts response tokens (and the closing EOS) only, examples are packed into
 * full context rows, and training runs for a number of epochs. With a reward model, the final model is
 * the evaluated checkpoint whose greedy responses to validation prompts score highest (as InstructGPT
 * selected its SFT model), otherwise the last one.
 */
import { existsSync } from 'node:fs'
import { Instruct3Error } from '../util/errors.ts'
import { loadCheckpoint } from '../model/checkpoint.ts'
import { lmObjective } from '../model/objectives.ts'
import { createGenerator } from '../model/generate.ts'
import { loadRewardModel } from '../model/reward-model.ts'
import { createRng } from '../model/rng.ts'
import { loadTokenizer, formatExample, formatPrompt } from '../tokenizer/index.ts'
import type { Demonstration } from '../data/formats.ts'
import { defaultSftConfig, type SftConfig } from './sft-config.ts'
import { rowAt, type Rows } from './rows.ts'
import type { HostBatch } from '../model/trainable.ts'
import { defaultLoopConfig, runTrainingLoop, type LoopConfig, type LoopResult } from './loop.ts'
import { scoredSequence, penalizeMissingEos } from './rl/eos.ts'
import { lmBatch, packExamples, shuffled, type Example } from './collate.ts'

export { defaultSftConfig, type SftConfig } from './sft-config.ts'

export async function trainSft(cfg: SftConfig): Promise<LoopResult> {
  const base = loadCheckpoint(cfg.base)
  const tok = loadTokenizer(cfg.base)
  const config = base.config
  const T = config.nCtx
  const trainDemos = cfg.train.rows
  const valDemos = cfg.val?.rows ?? []
  const toExample = (d: Demonstration, set: Rows<Demonstration>, i: number): Example => {
    const e = formatExample(tok, d.prompt, d.response)
    if (e.ids.length > T + 1) {
      // keep the whole response: cut the prompt from the left; refuse when even the response does not fit
      const resp = e.ids.length - e.promptLength
      if (resp + 8 > T + 1)
        throw new Instruct3Error(`response is ${resp} tokens, longer than the context (${T})`, { code: 'ECONTEXT', details: rowAt(set, i, 'response') })
      const cut = e.ids.length - (T + 1)
      return { ids: e.ids.slice(cut), responseMask: e.responseMask.slice(cut) }
    }
    return { ids: e.ids, responseMask: e.responseMask }
  }
  const trainEx = trainDemos.map((d, i) => toExample(d, cfg.train, i))
  const valEx = valDemos.map((d, i) => toExample(d, cfg.val!, i))
  if (trainEx.length === 0) throw new Instruct3Error('no demonstrations to train on', { code: 'EDATA', details: cfg.train.file ? { file: cfg.train.file } : {} })
  const loop: LoopConfig = { ...defaultLoopConfig, ...defaultSftConfig.loop, ...cfg.loop, steps: 0 }
  const B = cfg.batchSize
  const perMicro = loop.gradAccum
  // rows per epoch: packing is redone per epoch on that epoch's shuffled order
  const epochRows = (epoch: number): Example[] => {
    const order = shuffled(trainEx, createRng(loop.seed * 7919 + epoch).next)
    return cfg.packing ? packExamples(order, T, tok.padId) : order
  }
  const rowsPerEpoch = epochRows(0).length
  const stepsPerEpoch = Math.max(1, Math.ceil(rowsPerEpoch / (B * perMicro)))
  loop.steps = stepsPerEpoch * cfg.epochs
  const epochCache = new Map<number, Example[]>()
  const rowsOf = (epoch: number) => {
    let r = epochCache.get(epoch)
    if (!r) {
      epochCache.clear()
      epochCache.set(epoch, (r = epochRows(epoch)))
    }
    return r
  }
  const batchLen = (rows: Example[]) => (cfg.packing ? T : Math.min(T, Math.max(...rows.map((r) => r.ids.length - 1))))
  const valBatches: HostBatch[] = []
  const valRows = cfg.packing ? packExamples(valEx, T, tok.padId) : valEx
  for (let i = 0; i < valRows.length; i += B) {
    const rows = valRows.slice(i, i + B)
    valBatches.push(lmBatch(rows, batchLen(rows), tok.padId))
  }

  // optional selection by reward-model score of greedy responses on validation prompts
  const rm = cfg.rewardModel ? loadRewardModel(cfg.rewardModel) : undefined
  if (rm && rm.tokenizer.fingerprint !== tok.fingerprint)
    throw new Instruct3Error('the reward model uses a different tokenizer than the policy', { code: 'ETOKENIZER', details: { file: cfg.rewardModel } })
  const gen = rm ? createGenerator(config) : undefined
  const selectPrompts = (valDemos.length ? valDemos : trainDemos).slice(0, cfg.selectPrompts).map((d) => d.prompt)

  try {
    return await runTrainingLoop({
      name: 'sft',
      outDir: cfg.outDir,
      config,
      params: base.params,
      objective: lmObjective,
      loop,
      copyFrom: cfg.base,
      quiet: cfg.quiet,
      select: rm ? { metric: 'eval/reward', mode: 'max' } : undefined,
      meta: { stage: 'sft', tokenizer_fingerprint: tok.fingerprint, demonstrations: trainEx.length, epochs: cfg.epochs },
      data: {
        tokensPerBatch: B * T,
        nextBatch: (_rng, step, micro) => {
          const epoch = Math.floor(step / stepsPerEpoch)
          const rows = rowsOf(epoch)
          const start = ((step % stepsPerEpoch) * perMicro + micro) * B
          const pick: Example[] = []
          for (let i = 0; i < B; i++) pick.push(rows[(start + i) % rows.length])
          return lmBatch(pick, batchLen(pick), tok.padId)
        },
        evaluate: (t) => {
          const out: Record<string, number> = {}
          if (valBatches.length) {
            let s = 0
            for (const b of valBatches) s += t.evaluate(b).loss
            out['eval/loss'] = s / valBatches.length
          }
          if (rm && gen) {
            const prompts = selectPrompts.map((p) => {
              const ids = formatPrompt(tok, p)
              // room for the response and the EOS a cut one is scored with
              return ids.slice(Math.max(0, ids.length - (T - cfg.maxNewTokens - 1)))
            })
            const g = gen.generate(t.deviceParams(), prompts, { maxNewTokens: cfg.maxNewTokens, temperature: 0, eosId: tok.eosId })
            // scored as PPO scores its rollouts (rl/eos.ts): closed by EOS, truncation priced by the penalty
            const seqs = prompts.map((p, i) => scoredSequence(p, g.tokens[i], tok.eosId))
            const rewards = penalizeMissingEos(rm.scoreIds(seqs), g.finished, cfg.missingEosPenalty)
            out['eval/reward'] = rewards.reduce((a, b) => a + b, 0) / rewards.length
            out['eval/response_length'] = g.tokens.reduce((a, r) => a + r.length, 0) / g.tokens.length
          }
          return out
        },
      },
    })
  } finally {
    gen?.dispose()
    rm?.dispose()
  }
}
