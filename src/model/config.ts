import { Instruct3Error } from '../util/errors.ts'

/** One typed config for the GPT-2 architecture (names follow nanoGPT; HF names in toHfConfig). */
export type GPTConfig = {
  vocabSize: number
  /** Context length (number of learned positions). */
  nCtx: number
  nEmbd: number
  nLayer: number
  nHead: number
  /** Dropout on embeddings, attention output and MLP output (0 = off; GPT-2 used 0.1). */
  dropout: number
  layerNormEps: number
}

export const defaultConfig: GPTConfig = {
  vocabSize: 50257,
  nCtx: 1024,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
  dropout: 0,
  layerNormEps: 1e-5,
}

export function makeConfig(partial: Partial<GPTConfig>): GPTConfig {
  const c = { ...defaultConfig, ...partial }
  validateConfig(c)
  return c
}

export function validateConfig(c: GPTConfig, file?: string): void {
  const bad = (field: string, why: string) => new Instruct3Error(why, { code: 'ECONFIG', details: { file, field } })
  for (const k of ['vocabSize', 'nCtx', 'nEmbd', 'nLayer', 'nHead'] as const)
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw bad(k, `must be a positive integer, got ${c[k]}`)
  if (c.nEmbd % c.nHead !== 0) throw bad('nHead', `nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead})`)
  if (!(c.dropout >= 0 && c.dropout < 1)) throw bad('dropout', `must be in [0, 1), got ${c.dropout}`)
}

/** Hugging Face `config.json` for GPT2LMHeadModel. */
export function toHfConfig(c: GPTConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nCtx,
    n_ctx: c.nCtx,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: 0,
    layer_norm_epsilon: c.layerNormEps,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    scale_attn_weights: true,
    torch_dtype: 'float32',
    ...extra,
  }
}

export function fromHfConfig(hf: Record<string, unknown>, file?: string): GPTConfig {
  const num = (k: string, fallback?: number): number => {
    const v = hf[k] ?? fallback
    if (typeof v !== 'number') throw new Instruct3Error(`missing or non-numeric`, { code: 'ECONFIG', details: { file, field: k } })
    return v
  }
  if (hf.model_type !== undefined && hf.model_type !== 'gpt2')
    throw new Instruct3Error(`model_type "${String(hf.model_type)}" is not gpt2`, { code: 'ECONFIG', details: { file, field: 'model_type' } })
  const act = hf.activation_function
  if (act !== undefined && act !== 'gelu_new' && act !== 'gelu_pytorch_tanh')
    throw new Instruct3Error(`activation "${String(act)}" is not supported (tanh GELU only)`, { code: 'ECONFIG', details: { file, field: 'activation_function' } })
  if (hf.n_inner !== undefined && hf.n_inner !== null && hf.n_inner !== 4 * num('n_embd'))
    throw new Instruct3Error('n_inner other than 4*n_embd is not supported', { code: 'ECONFIG', details: { file, field: 'n_inner' } })
  const c: GPTConfig = {
    vocabSize: num('vocab_size'),
    nCtx: num('n_positions', hf.n_ctx as number | undefined),
    nEmbd: num('n_embd'),
    nLayer: num('n_layer'),
    nHead: num('n_head'),
    dropout: typeof hf.resid_pdrop === 'number' ? hf.resid_pdrop : 0,
    layerNormEps: typeof hf.layer_norm_epsilon === 'number' ? hf.layer_norm_epsilon : 1e-5,
  }
  validateConfig(c, file)
  return c
}

/** Number of parameters (tied head counted once). */
export function paramCount(c: GPTConfig): number {
  const d = c.nEmbd
  const block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
  return c.vocabSize * d + c.nCtx * d + c.nLayer * block + 2 * d
}
