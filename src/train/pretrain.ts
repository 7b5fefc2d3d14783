/**
 * Generative pretraining on the web3 corpus (`instruct3 corpus build` output): train or load a
 * byte-level BPE tokenizer, tokenize train/val once (cached), train a GPT from scratch with the LM
 * objective, evaluate validation loss/perplexity, and write the base model as an HF GPT-2 directory
 * that carries its tokenizer.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Instruct3Error } from '../util/errors.ts'
import { readJsonl } from '../util/jsonl.ts'
import { makeConfig, type GPTConfig } from '../model/config.ts'
import { initParams } from '../model/gpt.ts'
import { lmObjective } from '../model/objectives.ts'
import { trainBpe, loadTokenizer, saveTokenizer, type Tokenizer } from '../tokenizer/index.ts'
import { defaultLoopConfig, runTrainingLoop, type LoopConfig, type LoopResult } from './loop.ts'
import { randomWindows, sequentialWindows, tokenizeCorpus } from './lmdata.ts'
import { defaultPretrainConfig, type PretrainConfig } from './pretrain-config.ts'

export { defaultPretrainConfig, type PretrainConfig } from './pretrain-config.ts'

export async function prepareTokenizer(cfg: PretrainConfig['tokenizer'], corpusFile: string, outDir: string, quiet = false): Promise<{ tok: Tokenizer; dir: string }> {
  if (cfg.dir) return { tok: loadTokenizer(cfg.dir), dir: cfg.dir }
  const dir = join(outDir, 'tokenizer')
  if (existsSync(join(dir, 'tokenizer.json'))) return { tok: loadTokenizer(dir), dir }
  const limit = cfg.trainBytes ?? Infinity
  async function* texts() {
    let bytes = 0
    for await (const { value } of readJsonl<{ text: string }>(corpusFile)) {
      yield value.text
      bytes += value.text.length
      if (bytes >= limit) return
    }
  }
  if (!quiet) process.stderr.write(`pretrain: training a ${cfg.vocabSize}-token BPE tokenizer on ${corpusFile}\n`)
  const tok = await trainBpe(texts(), { vocabSize: cfg.vocabSize })
  await saveTokenizer(dir, tok)
  return { tok, dir }
}

export async function pretrain(cfg: PretrainConfig): Promise<LoopResult & { config: GPTConfig; tokenizerDir: string }> {
  const trainFile = join(cfg.corpusDir, 'train.jsonl')
  const valFile = join(cfg.corpusDir, 'val.jsonl')
  for (const f of [trainFile, valFile])
    if (!existsSync(f)) throw new Instruct3Error('corpus file missing (run `instruct3 corpus build`)', { code: 'ENOENT', details: { file: f } })
  mkdirSync(cfg.outDir, { recursive: true })
  const { tok, dir: tokDir } = await prepareTokenizer(cfg.tokenizer, trainFile, cfg.outDir, cfg.quiet)
  const train = await tokenizeCorpus(trainFile, tok, { cache: join(cfg.outDir, 'train.tokens.i32'), quiet: cfg.quiet, maxDocs: cfg.maxDocs || undefined })
  const val = await tokenizeCorpus(valFile, tok, { cache: join(cfg.outDir, 'val.tokens.i32'), quiet: cfg.quiet })
  const config = makeConfig({ ...defaultPretrainConfig.model, ...cfg.model, vocabSize: tok.vocabSize })
  const loop = { ...defaultLoopConfig, ...cfg.loop }
  const B = cfg.batchSize
  const T = config.nCtx
  const valBatches = sequentialWindows(val, B, T, cfg.evalBatches)
  if (valBatches.length === 0) throw new Instruct3Error(`validation split has ${val.length} tokens, fewer than one batch`, { code: 'ECORPUS', details: { file: valFile } })
  const result = await runTrainingLoop({
    name: 'pretrain',
    outDir: cfg.outDir,
    config,
    params: initParams(config, loop.seed),
    objective: lmObjective,
    loop,
    copyFrom: tokDir,
    quiet: cfg.quiet,
    meta: { stage: 'pretrain', tokenizer_fingerprint: tok.fingerprint, train_tokens: train.length, val_tokens: val.length },
    data: {
      tokensPerBatch: B * T,
      nextBatch: (rng) => randomWindows(train, B, T, rng),
      evaluate: (t) => {
        let sum = 0
        for (const b of valBatches) sum += t.evaluate(b).loss
        const loss = sum / valBatches.length
        return { 'eval/loss': loss, 'eval/ppl': Math.exp(loss) }
      },
    },
  })
  return { ...result, config, tokenizerDir: tokDir }
}
