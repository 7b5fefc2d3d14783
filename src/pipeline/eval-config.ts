/**
 * The evaluation's sampling settings, their defaults and their check, apart from evaluate.ts so a
 * pipeline config can be checked without loading the engine.
 */
import { Instruct3Error } from '../util/errors.ts'

export type EvalSettings = {
  maxPrompts: number
  maxNewTokens: number
  samplesPerPrompt?: number
  resamples?: number
  batchSize?: number
  missingEosPenalty?: number
}

export const defaultEvalSettings = { samplesPerPrompt: 4, resamples: 2000, batchSize: 32 }

/** Check the sampling settings of an eval config; a bad one is an error naming its field (`prefix` + name, e.g. "eval.samplesPerPrompt"). */
export function checkEvalSettings(cfg: EvalSettings, prefix = ''): void {
  const ints: Array<[string, number | undefined, number]> = [
    ['maxPrompts', cfg.maxPrompts, 1],
    ['maxNewTokens', cfg.maxNewTokens, 1],
    ['samplesPerPrompt', cfg.samplesPerPrompt, 1],
    ['resamples', cfg.resamples, 10],
    ['batchSize', cfg.batchSize, 1],
  ]
  for (const [name, v, min] of ints)
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Instruct3Error(`must be an integer >= ${min}, got ${v}`, { code: 'ECONFIG', details: { field: prefix + name } })
  const pen = cfg.missingEosPenalty
  if (pen !== undefined && !(Number.isFinite(pen) && pen >= 0)) throw new Instruct3Error(`must be a number >= 0, got ${pen}`, { code: 'ECONFIG', details: { field: prefix + 'missingEosPenalty' } })
}
