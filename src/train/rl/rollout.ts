/**
 * The rollout buffer: sampled responses laid out as fixed-shape [N, T] batches for scoring and PPO.
 *
 * Row i is prompt_i + response_i, right-padded with PAD. inputs = seq[:-1], targets = seq[1:], so the
 * j-th response token is predicted at position start_i + j with start_i = promptLength_i - 1; the value
 * of the state before that token is read at the same position (TRL's layout). Per-token quantities
 * (log-probs, KL, rewards, values, advantages) live as ragged per-row arrays on the host and are
 * scattered into dense [N, T] arrays (zeros elsewhere, mask 0) for the engine.
 */
import type { HostBatch } from '../../model/trainable.ts'

export type Rollout = { prompt: number[]; response: number[]; finished: boolean }

export type RolloutLayout = { N: number; T: number; starts: number[]; lengths: number[] }

export function layoutOf(rows: Rollout[], T: number): RolloutLayout {
  return { N: rows.length, T, starts: rows.map((r) => r.prompt.length - 1), lengths: rows.map((r) => r.response.length) }
}

/** {inputs, targets, mask} of prompt + response rows; mask marks response tokens (EOS included). */
export function sequenceBatch(rows: Rollout[], T: number, padId: number): HostBatch {
  const N = rows.length
  const inputs = new Int32Array(N * T).fill(padId)
  const targets = new Int32Array(N * T).fill(padId)
  const mask = new Float32Array(N * T)
  rows.forEach((r, i) => {
    const seq = r.prompt.concat(r.response)
    if (seq.length - 1 > T) throw new Error(`rollout row ${i} has ${seq.length} tokens, more than T + 1 = ${T + 1}`)
    for (let t = 0; t < seq.length - 1; t++) {
      inputs[i * T + t] = seq[t]
      targets[i * T + t] = seq[t + 1]
    }
    for (let j = 0; j < r.response.length; j++) mask[i * T + r.prompt.length - 1 + j] = 1
  })
  return { inputs: { data: inputs, shape: [N, T] }, targets: { data: targets, shape: [N, T] }, mask: { data: mask, shape: [N, T] } }
}

/** Dense [N, T] -> per-row arrays over each row's response positions. */
export function gatherRows(dense: Float32Array, l: RolloutLayout): number[][] {
  return l.starts.map((s, i) => Array.from(dense.subarray(i * l.T + s, i * l.T + s + l.lengths[i])))
}

/** Per-row arrays -> dense [N, T] (zeros outside the responses). */
export function scatterRows(rows: number[][], l: RolloutLayout): Float32Array {
  const out = new Float32Array(l.N * l.T)
  rows.forEach((r, i) => out.set(r, i * l.T + l.starts[i]))
  return out
}

/** The rows `idx` of every array in a batch whose first dimension is N (others copied as they are). */
export function selectRows(b: HostBatch, idx: number[], N: number): HostBatch {
  const out: HostBatch = {}
  for (const [k, { data, shape }] of Object.entries(b)) {
    if (shape[0] !== N || k === 'hyper') {
      out[k] = { data, shape }
      continue
    }
    const per = data.length / N
    const d = new (data.constructor as { new (n: number): Int32Array | Float32Array })(idx.length * per)
    idx.forEach((r, j) => d.set(data.subarray(r * per, (r + 1) * per), j * per))
    out[k] = { data: d, shape: [idx.length, ...shape.slice(1)] }
  }
  return out
}
