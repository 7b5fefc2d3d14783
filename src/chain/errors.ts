import { BaseError, ContractFunctionRevertedError } from 'viem'
import { Instruct3Error, type ErrorDetails } from '../util/errors.ts'

/**
 * Turn a viem contract error into an Instruct3Error that names the contract's custom error and its
 * arguments (e.g. "LabelingEscrow.settle reverted: SettlementOver(1, 1767225600)").
 */
export function chainError(err: unknown, what: string, details: ErrorDetails = {}): Instruct3Error {
  if (err instanceof Instruct3Error) return err
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName ?? revert.reason ?? 'unknown error'
      const args = (revert.data?.args ?? []).map((a) => (typeof a === 'bigint' ? a.toString() : String(a)))
      return new Instruct3Error(`${what} reverted: ${name}(${args.join(', ')})`, {
        code: 'EREVERT',
        details: { ...details, errorName: name, args },
        cause: err,
      })
    }
    return new Instruct3Error(`${what} failed: ${err.shortMessage}`, { code: 'ECHAIN', details, cause: err })
  }
  return new Instruct3Error(`${what} failed: ${(err as Error)?.message ?? String(err)}`, { code: 'ECHAIN', details, cause: err })
}
