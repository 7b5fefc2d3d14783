/**
 * The tiny model the pipeline and loop tests train (seconds per stage on 2 cores): merge it into a
 * demo config with `mergeConfig(demoConfig(), { ...TINY_BASE, name, workDir, ... })`.
 */
export const TINY_BASE = {
  tokenizer: { vocabSize: 384, trainBytes: 200_000 },
  model: { nCtx: 192, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0 },
  pretrain: { steps: 4, batchSize: 4, evalEvery: 2, maxDocs: 60 },
  sft: { maxDemonstrations: 24, batchSize: 4 },
}
