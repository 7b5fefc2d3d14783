import { appendFileSync, existsSync, readFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { writeFileAtomicSync } from '../util/atomic.ts'

export type MetricsRow = { step: number; [key: string]: number | string }

/**
 * Metrics as JSON Lines, one row per logged step (`step` counts completed steps, from 1). On resume the
 * log is cut back to the rows the checkpoint covers (step <= resumed step),
 * so a killed-and-resumed run's log reads like an uninterrupted one.
 */
export function createMetricsLog(file: string, resumeFromStep?: number) {
  mkdirSync(dirname(file), { recursive: true })
  if (resumeFromStep !== undefined && existsSync(file)) {
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && (JSON.parse(l) as MetricsRow).step <= resumeFromStep)
    writeFileAtomicSync(file, kept.map((l) => l + '\n').join(''))
  } else if (resumeFromStep === undefined) writeFileAtomicSync(file, '')
  return {
    file,
    log(row: MetricsRow) {
      appendFileSync(file, JSON.stringify(row) + '\n')
    },
  }
}

export function readMetrics(file: string): MetricsRow[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsRow)
}
