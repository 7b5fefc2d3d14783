/**
 * Reading training files for the trainers, which take rows: each file is checked by its format's loader
 * (src/data/formats.ts) and kept as the rows' source, so a trainer's error about a row names the file.
 */
import { loadComparisons, loadDemonstrations, type Comparison, type Demonstration } from '../data/formats.ts'
import type { Rows } from '../train/rows.ts'

export async function demonstrationRows(file: string): Promise<Rows<Demonstration>> {
  return { rows: await loadDemonstrations(file), file }
}

export async function comparisonRows(file: string): Promise<Rows<Comparison>> {
  return { rows: await loadComparisons(file), file }
}
