/**
 * Datasheets (after Gebru et al., "Datasheets for Datasets"), as JSON and Markdown: where each
 * source came from, its license, what was dropped and why, and how the split was made.
 */
export type SourceStats = {
  name: string
  file: string
  license: string
  upstream: string
  note?: string
  rows: number
  badRows: number
  tooShort: number
  exactDuplicates: number
  nearDuplicates: number
  train: number
  val: number
  trainBytes: number
  valBytes: number
}

export type Datasheet = {
  name: string
  description: string
  split: { method: string; valFraction: number }
  dedup: { exact: string; near: string; exactRemoved: number; nearRemoved: number }
  normalisation: string
  totals: Record<string, number>
  sources: SourceStats[]
  problems: Array<{ file: string; line: number; message: string }>
  notes?: string[]
}

const kb = (n: number) => (n / 1024).toFixed(0)

export function renderDatasheetMarkdown(d: Datasheet): string {
  const out: string[] = [`# Datasheet: ${d.name}`, '', d.description, '']
  out.push('## Sources', '', '| source | license | upstream | rows | bad | short | exact dup | near dup | train | val | train KiB | val KiB |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const s of d.sources)
    out.push(`| ${s.name} | ${s.license} | ${s.upstream} | ${s.rows} | ${s.badRows} | ${s.tooShort} | ${s.exactDuplicates} | ${s.nearDuplicates} | ${s.train} | ${s.val} | ${kb(s.trainBytes)} | ${kb(s.valBytes)} |`)
  out.push('', '## Totals', '')
  for (const [k, v] of Object.entries(d.totals)) out.push(`- ${k}: ${v}`)
  out.push('', '## Method', '', `- Normalisation: ${d.normalisation}`, `- Exact dedup: ${d.dedup.exact} (${d.dedup.exactRemoved} removed)`, `- Near dedup: ${d.dedup.near} (${d.dedup.nearRemoved} removed)`, `- Split: ${d.split.method} (valFraction ${d.split.valFraction})`)
  const notes = [...(d.notes ?? []), ...d.sources.filter((s) => s.note).map((s) => `${s.name}: ${s.note}`)]
  if (notes.length) out.push('', '## Notes', '', ...notes.map((n) => `- ${n}`))
  out.push('', '## Provenance and licenses', '', 'All text comes from public repositories copied into ../shared/data (see its README for full commits). Upstream license files (LICENSE*.upstream.txt) must travel with redistributed data. Some sources keep a held-out evaluation slice outside the developer data; gaps in id sequences are intentional and are not filled.')
  if (d.problems.length) {
    out.push('', '## Rows skipped as malformed', '')
    for (const p of d.problems) out.push(`- ${p.file}:${p.line}: ${p.message}`)
  }
  return out.join('\n') + '\n'
}
