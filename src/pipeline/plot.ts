/**
 * Small line and bar charts for reports: drawn as SVG (readable, diffable), rendered to PNG with resvg.
 */
import { writeFileSync } from 'node:fs'
import { Resvg } from '@resvg/resvg-js'
import { writeFileAtomicSync } from '../util/atomic.ts'

export type Series = { name: string; points: Array<[number, number]> }
export type ChartOptions = { title: string; xLabel?: string; yLabel?: string; width?: number; height?: number }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo]
  const step0 = (hi - lo) / n
  const mag = Math.pow(10, Math.floor(Math.log10(step0)))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toPrecision(6))
  return out
}

export function lineChartSvg(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 640
  const H = o.height ?? 360
  const legendRows = Math.ceil(series.length / 2)
  const m = { l: 64, r: 16, t: 36, b: 56 + legendRows * 16 }
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (!pts.length) [x0, x1, y0, y1] = [0, 1, 0, 1]
  if (x1 === x0) x1 = x0 + 1
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1]
  const pad = (y1 - y0) * 0.05
  y0 -= pad
  y1 += pad
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r)
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ]
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`)
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`)
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`)
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`)
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`)
  if (o.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - m.b + 30}" text-anchor="middle">${esc(o.xLabel)}</text>`)
  if (o.yLabel) parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`)
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    if (p.length === 1) parts.push(`<circle cx="${sx(p[0][0])}" cy="${sy(p[0][1])}" r="3" fill="${c}"/>`)
    else if (p.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`)
    // legend below the x axis, two entries per row
    const lx = m.l + (i % 2) * ((W - m.l - m.r) / 2)
    const ly = H - m.b + 44 + Math.floor(i / 2) * 16
    parts.push(`<rect x="${lx}" y="${ly}" width="12" height="3" fill="${c}"/>`)
    parts.push(`<text x="${lx + 18}" y="${ly + 5}">${esc(s.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n')
}

export function barChartSvg(bars: Array<{ label: string; value: number }>, o: ChartOptions): string {
  const W = o.width ?? 640
  const H = o.height ?? 360
  const m = { l: 64, r: 16, t: 36, b: 56 }
  const vals = bars.map((b) => b.value).filter(Number.isFinite)
  let y0 = Math.min(0, ...vals)
  let y1 = Math.max(0, ...vals)
  if (y1 === y0) y1 = y0 + 1
  const pad = (y1 - y0) * 0.08
  y1 += pad
  if (y0 < 0) y0 -= pad
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b)
  const bw = (W - m.l - m.r) / Math.max(1, bars.length)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ]
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`)
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`)
  }
  bars.forEach((b, i) => {
    const x = m.l + i * bw + bw * 0.15
    const v = Number.isFinite(b.value) ? b.value : 0
    const top = Math.min(sy(v), sy(0))
    parts.push(`<rect x="${x}" y="${top}" width="${bw * 0.7}" height="${Math.abs(sy(v) - sy(0))}" fill="${COLORS[i % COLORS.length]}"/>`)
    parts.push(`<text x="${x + bw * 0.35}" y="${top - 4}" text-anchor="middle">${Number.isFinite(b.value) ? b.value.toFixed(3) : 'n/a'}</text>`)
    parts.push(`<text x="${x + bw * 0.35}" y="${H - m.b + 16}" text-anchor="middle">${esc(b.label)}</text>`)
  })
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(0)}" y2="${sy(0)}" stroke="#333"/>`)
  if (o.yLabel) parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`)
  parts.push('</svg>')
  return parts.join('\n')
}

/** Render SVG text to a PNG file (atomically); also writes the .svg beside it when `keepSvg`. */
export function writePng(file: string, svg: string, keepSvg = false): void {
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' }).render().asPng()
  writeFileAtomicSync(file, png)
  if (keepSvg) writeFileSync(file.replace(/\.png$/, '.svg'), svg)
}
