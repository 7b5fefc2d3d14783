/**
 * The matmul shapes of a d=256 training step (4 layers, 4 heads, vocab 256, ctx 64, batch 16: 1,024 tokens)
 * and of a decode step (batch 8, KV cache of 128 positions), as src/model runs them, for `npm run bench -- gemm`.
 *
 * Layouts: `nn` is a @ b with b [K, N] (a Conv1D forward, or a backward's dY @ W^T when W is stored
 * transposed), `nt` is a @ b^T with b [N, K] (the tied LM head, attention scores, dX = dY @ W^T), `tn` is
 * a^T @ b with a [K, M] (weight gradients dW = X^T @ dY). `batch` > 1 is one matmul per attention head.
 */
export type Layout = 'nn' | 'nt' | 'tn'
export type GemmShape = { name: string; layout: Layout; batch: number; m: number; k: number; n: number; perStep: number }

const T = 1024 // tokens per training step (16 x 64)
const d = 256
const heads = 64 // batch 16 x 4 heads, 64 x 64 per head

export const trainingShapes: GemmShape[] = [
  { name: 'c_attn fwd', layout: 'nn', batch: 1, m: T, k: d, n: 3 * d, perStep: 4 },
  { name: 'attn c_proj fwd', layout: 'nn', batch: 1, m: T, k: d, n: d, perStep: 4 },
  { name: 'mlp c_fc fwd', layout: 'nn', batch: 1, m: T, k: d, n: 4 * d, perStep: 4 },
  { name: 'mlp c_proj fwd', layout: 'nn', batch: 1, m: T, k: 4 * d, n: d, perStep: 4 },
  { name: 'lm head fwd (x @ wte^T)', layout: 'nt', batch: 1, m: T, k: d, n: 256, perStep: 1 },
  { name: 'attn scores q @ k^T (per head)', layout: 'nt', batch: heads, m: 64, k: 64, n: 64, perStep: 4 },
  { name: 'attn p @ v (per head)', layout: 'nn', batch: heads, m: 64, k: 64, n: 64, perStep: 4 },
  { name: 'c_attn dX (dY @ W^T)', layout: 'nt', batch: 1, m: T, k: 3 * d, n: d, perStep: 4 },
  { name: 'mlp c_fc dX', layout: 'nt', batch: 1, m: T, k: 4 * d, n: d, perStep: 4 },
  { name: 'mlp c_proj dX', layout: 'nt', batch: 1, m: T, k: d, n: 4 * d, perStep: 4 },
  { name: 'attn c_proj dX', layout: 'nt', batch: 1, m: T, k: d, n: d, perStep: 4 },
  { name: 'c_attn dW (X^T @ dY)', layout: 'tn', batch: 1, m: d, k: T, n: 3 * d, perStep: 4 },
  { name: 'mlp c_fc dW', layout: 'tn', batch: 1, m: d, k: T, n: 4 * d, perStep: 4 },
  { name: 'mlp c_proj dW', layout: 'tn', batch: 1, m: 4 * d, k: T, n: d, perStep: 4 },
  { name: 'attn c_proj dW', layout: 'tn', batch: 1, m: d, k: T, n: d, perStep: 4 },
  { name: 'attn scores dQ (dS @ k)', layout: 'nn', batch: heads, m: 64, k: 64, n: 64, perStep: 4 },
  { name: 'attn dK (dS^T @ q)', layout: 'tn', batch: heads, m: 64, k: 64, n: 64, perStep: 4 },
]

export const decodeShapes: GemmShape[] = [
  { name: 'decode c_attn', layout: 'nn', batch: 1, m: 8, k: d, n: 3 * d, perStep: 4 },
  { name: 'decode attn c_proj', layout: 'nn', batch: 1, m: 8, k: d, n: d, perStep: 4 },
  { name: 'decode mlp c_fc', layout: 'nn', batch: 1, m: 8, k: d, n: 4 * d, perStep: 4 },
  { name: 'decode mlp c_proj', layout: 'nn', batch: 1, m: 8, k: 4 * d, n: d, perStep: 4 },
  { name: 'decode lm head (h @ wte^T)', layout: 'nt', batch: 1, m: 8, k: d, n: 256, perStep: 1 },
  { name: 'decode scores (q @ K^T, 128 cached)', layout: 'nt', batch: 32, m: 1, k: 64, n: 128, perStep: 4 },
  { name: 'decode p @ V', layout: 'nn', batch: 32, m: 1, k: 128, n: 64, perStep: 4 },
]

export function flops(s: GemmShape): number {
  return 2 * s.batch * s.m * s.k * s.n
}
