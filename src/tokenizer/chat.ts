import type { Tokenizer } from './types.ts'

/**
 * The one chat template of instruct3 (SFT, reward model, PPO, DPO, generation all use it):
 *
 *   [<|system|>\n{system}\n]<|user|>\n{prompt}\n<|assistant|>\n{response}<|endoftext|>
 *
 * Role markers and EOS are special-token ids inserted directly; the prompt, system text and
 * response are encoded as plain text, so special-token strings inside user data stay text.
 * Every response ends with EOS (`<|endoftext|>`), never PAD: generation stops at EOS and PAD is
 * only for filling batches. responseMask is 1 on the response tokens and the final EOS (the
 * tokens a model is trained to produce), 0 on the prompt.
 */
export type ChatPromptOptions = { system?: string }
export type ChatExample = { ids: number[]; responseMask: number[]; promptLength: number }

/** ids of `[<|system|>\n{system}\n]<|user|>\n{prompt}\n<|assistant|>\n` */
export function formatPrompt(tok: Tokenizer, prompt: string, opts: ChatPromptOptions = {}): number[] {
  const ids: number[] = []
  if (opts.system !== undefined) ids.push(tok.systemId, ...tok.encode(`\n${opts.system}\n`))
  ids.push(tok.userId, ...tok.encode(`\n${prompt}\n`), tok.assistantId, ...tok.encode('\n'))
  return ids
}

/** ids of the prompt, the response and EOS, with the mask of tokens to train on. */
export function formatExample(tok: Tokenizer, prompt: string, response: string, opts: ChatPromptOptions = {}): ChatExample {
  const p = formatPrompt(tok, prompt, opts)
  const r = tok.encode(response)
  r.push(tok.eosId)
  const responseMask = new Array<number>(p.length).fill(0).concat(new Array<number>(r.length).fill(1))
  return { ids: p.concat(r), responseMask, promptLength: p.length }
}

/**
 * The prompt text shortened so that the chat-formatted prompt plus `reserve` more tokens (the response
 * and EOS, or the tokens to generate) fits in `maxLength` tokens. `keep: 'head'` keeps the prompt's start
 * and appends '…' (web3 tasks put the instruction and the title first); `'tail'` keeps its end after a
 * leading '…' (a dialogue's last turn). Returns the prompt unchanged when it fits, null when not even
 * an empty prompt fits. Shortening text rather than token ids keeps every stage's input files readable
 * and exactly what the model saw.
 */
export function fitPrompt(tok: Tokenizer, prompt: string, maxLength: number, reserve = 0, keep: 'head' | 'tail' = 'head'): string | null {
  const fits = (p: string) => formatPrompt(tok, p).length + reserve <= maxLength
  if (fits(prompt)) return prompt
  const cut = (n: number) => {
    // n characters kept, never half of a surrogate pair
    if (keep === 'head') {
      const end = n > 0 && /[\uD800-\uDBFF]/.test(prompt[n - 1]) ? n - 1 : n
      return prompt.slice(0, end) + '…'
    }
    let start = prompt.length - n
    if (start < prompt.length && /[\uDC00-\uDFFF]/.test(prompt[start])) start++
    return '…' + prompt.slice(start)
  }
  if (!fits(cut(0))) return null
  let lo = 0
  let hi = prompt.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (fits(cut(mid))) lo = mid
    else hi = mid - 1
  }
  return cut(lo)
}

/** The template as text (for logs and docs; encode with allowSpecial only for trusted text). */
export function formatPromptText(prompt: string, opts: ChatPromptOptions = {}): string {
  return (opts.system !== undefined ? `<|system|>\n${opts.system}\n` : '') + `<|user|>\n${prompt}\n<|assistant|>\n`
}

/** The same functions bound to one tokenizer. */
export function createChatTemplate(tok: Tokenizer) {
  return {
    formatPrompt: (prompt: string, opts?: ChatPromptOptions) => formatPrompt(tok, prompt, opts),
    formatExample: (prompt: string, response: string, opts?: ChatPromptOptions) => formatExample(tok, prompt, response, opts),
    /** The response part of generated ids: up to (not including) the first EOS. */
    responseText: (ids: ArrayLike<number>) => {
      const arr = Array.from(ids)
      const end = arr.indexOf(tok.eosId)
      return tok.decode(end < 0 ? arr : arr.slice(0, end), { skipSpecial: true })
    },
  }
}
