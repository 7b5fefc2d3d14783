/**
 * A one-line progress bar for long work: done/total, rate, ETA and any extra fields (loss...).
 * Draws in place on a TTY (at most every 100 ms); on a pipe prints a plain line every `logEvery` ms.
 */
export type ProgressOptions = {
  label: string
  total: number
  unit?: string
  stream?: NodeJS.WriteStream
  logEvery?: number
  quiet?: boolean
}

export type Progress = {
  tick(n?: number, fields?: Record<string, string | number>): void
  set(done: number, fields?: Record<string, string | number>): void
  done(fields?: Record<string, string | number>): void
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr
  const tty = Boolean(stream.isTTY)
  const unit = opts.unit ?? 'it'
  const start = performance.now()
  let doneN = 0
  let fields: Record<string, string | number> = {}
  let lastDraw = 0

  const fmtNum = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3))
  const render = () => {
    const elapsed = (performance.now() - start) / 1000
    const rate = elapsed > 0 ? doneN / elapsed : 0
    const eta = rate > 0 ? (opts.total - doneN) / rate : Infinity
    const frac = opts.total > 0 ? Math.min(1, doneN / opts.total) : 0
    const width = 24
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.')
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNum(v) : v}`)
      .join(' | ')
    // unknown total (0): count and rate only
    if (opts.total <= 0) return `${opts.label} ${doneN} ${unit} | ${fmtNum(rate)} ${unit}/s | ${formatDuration(elapsed)}${extra ? ' | ' + extra : ''}`
    return `${opts.label} [${bar}] ${doneN}/${opts.total} ${unit} | ${fmtNum(rate)} ${unit}/s | ETA ${formatDuration(eta)}${extra ? ' | ' + extra : ''}`
  }
  const draw = (force = false) => {
    if (opts.quiet) return
    const now = performance.now()
    const every = tty ? 100 : (opts.logEvery ?? 5000)
    if (!force && now - lastDraw < every) return
    lastDraw = now
    if (tty) stream.write('\r\x1b[2K' + render())
    else stream.write(render() + '\n')
  }
  return {
    tick(n = 1, f) {
      doneN += n
      if (f) fields = { ...fields, ...f }
      draw()
    },
    set(d, f) {
      doneN = d
      if (f) fields = { ...fields, ...f }
      draw()
    },
    done(f) {
      if (f) fields = { ...fields, ...f }
      draw(true)
      if (tty && !opts.quiet) stream.write('\n')
    },
  }
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?'
  if (s < 60) return `${s.toFixed(0)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
