/**
 * The one error type instruct3 throws for bad input and failed operations (viem style):
 * a short message for people, plus `details` naming the file, line, field or tensor involved.
 */
import type { ErrorCode } from './error-codes.ts'

export type { ErrorCode } from './error-codes.ts'

export type ErrorDetails = {
  file?: string
  line?: number
  field?: string
  [key: string]: unknown
}

export class Instruct3Error extends Error {
  override name = 'Instruct3Error'
  readonly shortMessage: string
  readonly details: ErrorDetails
  readonly code: ErrorCode

  constructor(shortMessage: string, opts: { code?: ErrorCode; details?: ErrorDetails; cause?: unknown } = {}) {
    const details = opts.details ?? {}
    const where = formatWhere(details)
    super(where ? `${where}: ${shortMessage}` : shortMessage, { cause: opts.cause })
    this.shortMessage = shortMessage
    this.details = details
    this.code = opts.code ?? 'EINSTRUCT3'
  }
}

/** "file:line: field" prefix used by every error message that points into a file. */
export function formatWhere(d: ErrorDetails): string {
  const parts: string[] = []
  if (d.file !== undefined) parts.push(d.line !== undefined ? `${d.file}:${d.line}` : d.file)
  if (d.field !== undefined) parts.push(`field "${d.field}"`)
  return parts.join(': ')
}
