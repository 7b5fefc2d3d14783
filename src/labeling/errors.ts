import { Instruct3Error, type ErrorCode, type ErrorDetails } from '../util/errors.ts'

/** An Instruct3Error that also says which HTTP status the API answers with (always 4xx for bad input). */
export class ApiError extends Instruct3Error {
  readonly status: number
  constructor(status: number, message: string, opts: { code?: ErrorCode; details?: ErrorDetails } = {}) {
    super(message, { code: opts.code ?? `E${status}`, details: opts.details ?? {} })
    this.status = status
  }
}

export const badRequest = (msg: string, field?: string) => new ApiError(400, msg, { code: 'EBADREQUEST', details: field ? { field } : {} })
