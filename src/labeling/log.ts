/** Structured logs: one JSON object per line (time, level, msg, fields), to stderr by default. */
export type Logger = {
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

export function createJsonLogger(stream: { write(s: string): unknown } = process.stderr, base: Record<string, unknown> = { svc: 'labeling' }): Logger {
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) => {
    stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }) + '\n')
  }
  return { info: (m, f) => emit('info', m, f), warn: (m, f) => emit('warn', m, f), error: (m, f) => emit('error', m, f) }
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
