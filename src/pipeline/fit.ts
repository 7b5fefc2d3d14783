/**
 * The `fit` stage: the task files of the `data` stage with every prompt shortened, by the pretrained
 * model's own tokenizer, so that prompt + response (or prompt + the tokens to generate) fits the model's
 * context. Without it, a stage that meets an over-long example keeps its *end*: at a 128-token context
 * two thirds of the demo's demonstrations lost their first line, which holds the instruction and the
 * EIP title or exploit name, the very text a right answer has to match.
 *
 * Web3 prompts keep their head (instruction first); hh-rlhf dialogues keep their tail (the last
 * Human turn). A demonstration or prompt that cannot fit even with an empty prompt is left out
 * (`dropped`); such a comparison is kept as it is (`unfit`): the reward model reads the end of an
 * over-long input, so held-out accuracy is still measured on every pair.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { readJsonl, toJsonl } from '../util/jsonl.ts'
import { fitPrompt, type Tokenizer } from '../tokenizer/index.ts'

export type FitCounts = Record<string, { rows: number; shortened: number; dropped: number; unfit: number }>

export type FitTasksInit = {
  /** The data stage's tasks folder (train/ and val/). */
  tasksDir: string
  outDir: string
  tokenizer: Tokenizer
  nCtx: number
  /** Room left after a bare prompt for generation (the largest maxNewTokens of SFT selection, PPO and eval). */
  maxNewTokens: number
}

type Row = { prompt: string; response?: string; responses?: string[] }

/** Fit every task file; returns per-file counts of rows, shortened prompts and rows left out. */
export async function fitTasks(init: FitTasksInit): Promise<FitCounts> {
  const { tokenizer: tok, nCtx } = init
  const tokens = (text: string) => tok.encode(text).length + 1 // + EOS
  type FileRule = { name: string; maxLength: number; reserve: (r: Row) => number; keep: 'head' | 'tail'; tooLong: 'drop' | 'keep' }
  const files: FileRule[] = [
    { name: 'prompts.jsonl', maxLength: nCtx, reserve: () => init.maxNewTokens, keep: 'head', tooLong: 'drop' },
    // SFT trains on nCtx + 1 ids (inputs and shifted targets)
    { name: 'demonstrations.jsonl', maxLength: nCtx + 1, reserve: (r) => tokens(r.response ?? ''), keep: 'head', tooLong: 'drop' },
    // the reward model reads nCtx ids; the longest response sets the room
    { name: 'comparisons.jsonl', maxLength: nCtx, reserve: (r) => Math.max(...(r.responses ?? []).map(tokens)), keep: 'head', tooLong: 'keep' },
    { name: 'hh_comparisons.jsonl', maxLength: nCtx, reserve: (r) => Math.max(...(r.responses ?? []).map(tokens)), keep: 'tail', tooLong: 'keep' },
  ]
  const counts: FitCounts = {}
  for (const split of ['train', 'val']) {
    mkdirSync(join(init.outDir, split), { recursive: true })
    for (const f of files) {
      const src = join(init.tasksDir, split, f.name)
      if (!existsSync(src)) continue
      const kept: Row[] = []
      const c = { rows: 0, shortened: 0, dropped: 0, unfit: 0 }
      for await (const { value: row } of readJsonl<Row>(src)) {
        c.rows++
        const p = fitPrompt(tok, row.prompt, f.maxLength, f.reserve(row), f.keep)
        if (p === null && f.tooLong === 'drop') c.dropped++
        else if (p === null) {
          c.unfit++
          kept.push(row)
        } else {
          if (p !== row.prompt) c.shortened++
          kept.push({ ...row, prompt: p })
        }
      }
      writeFileAtomicSync(join(init.outDir, split, f.name), toJsonl(kept))
      counts[`${split}/${f.name}`] = c
    }
  }
  for (const extra of ['swc_labels.json', 'datasheet.json', 'datasheet.md'])
    if (existsSync(join(init.tasksDir, extra))) copyFileSync(join(init.tasksDir, extra), join(init.outDir, extra))
  return counts
}
