import type { JobLogLine } from './types.ts'

/** Keeps the last `max` log lines of a job (for error reports) and fans every line out to `onLine`. */
export type LogTail = {
  push(line: JobLogLine): void
  /** Feed raw chunks of one stream; complete lines are pushed, the rest waits for more (or `flush`). */
  chunk(stream: JobLogLine['stream'], text: string): void
  flush(): void
  lines(): string[]
}

export function createLogTail(max = 40, onLine?: (l: JobLogLine) => void): LogTail {
  const buf: string[] = []
  const partial: Record<JobLogLine['stream'], string> = { stdout: '', stderr: '' }
  const push = (l: JobLogLine) => {
    buf.push(l.stream === 'stderr' ? `[stderr] ${l.line}` : l.line)
    if (buf.length > max) buf.shift()
    onLine?.(l)
  }
  return {
    push,
    chunk(stream, text) {
      const parts = (partial[stream] + text).split('\n')
      partial[stream] = parts.pop()!
      for (const p of parts) push({ stream, line: p.replace(/\r$/, '') })
    },
    flush() {
      for (const s of ['stdout', 'stderr'] as const) {
        if (partial[s] !== '') push({ stream: s, line: partial[s] })
        partial[s] = ''
      }
    },
    lines: () => [...buf],
  }
}
