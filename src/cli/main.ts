import { Command } from 'commander'
import { Instruct3Error } from '../util/errors.ts'
import { commands } from './commands/index.ts'

const pkg = { version: '0.1.0' }

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('instruct3')
    .description('Train instruction-following GPT models with human feedback on web3 data, on the web3 stack.')
    .version(pkg.version)
    .showHelpAfterError()
    .option('--threads <n>', 'tensor engine WASM worker pool size (training kernels run on it; default: cores, up to 4)', process.env.INSTRUCT3_THREADS ?? '1')
  for (const register of commands) register(program)
  return program
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    if (err instanceof Instruct3Error) {
      console.error(`error: ${err.message}`)
      if (process.env.INSTRUCT3_DEBUG) console.error(err)
      process.exitCode = 1
      return
    }
    throw err
  }
}

if (import.meta.main) await main()
