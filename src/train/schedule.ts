/** Learning-rate schedule: linear warmup to `lr`, then cosine decay to `minLr` at `steps`. */
export type Schedule = { lr: number; minLr: number; warmup: number; steps: number }

export function lrAt(s: Schedule, step: number): number {
  if (s.warmup > 0 && step < s.warmup) return (s.lr * (step + 1)) / s.warmup
  if (step >= s.steps) return s.minLr
  const progress = (step - s.warmup) / Math.max(1, s.steps - s.warmup)
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress))
}
