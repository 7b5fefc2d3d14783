// A toy pipeline stage for the job tests: the same program runs under the local runner and in the Bacalhau
// stand-in's pretend compute node. Usage: node toy-stage.ts <mode> [args]
//   upper <inDir-or-file> <outDir> <tag>   write <outDir>/text.txt = upper-cased input + " <tag>"
//   fail                                   log a few lines, exit 3
//   hang <pidFile>                         start a grandchild that sleeps, record its pid, sleep forever
//   orphan <pidFile>                       start a grandchild holding stdout open, record its pid, exit 0
import { readFileSync, writeFileSync, statSync, readdirSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'upper') {
  const [input, out, tag] = rest
  const file = statSync(input).isDirectory() ? join(input, readdirSync(input).sort()[0]) : input
  const text = readFileSync(file, 'utf8').trim()
  console.log(`reading ${file}`)
  console.error(`env stage=${process.env.INSTRUCT3_STAGE} outputs=${process.env.INSTRUCT3_OUTPUTS === out}`)
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'text.txt'), `${text.toUpperCase()} ${tag}\n`)
  console.log('done')
} else if (mode === 'fail') {
  console.log('loading checkpoint')
  console.error('error: loss is NaN at step 3')
  process.exit(3)
} else if (mode === 'hang') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  writeFileSync(rest[0], String(child.pid))
  console.log('hanging')
  setInterval(() => {}, 1000)
} else if (mode === 'orphan') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' })
  writeFileSync(rest[0], String(child.pid))
  console.log('leaving a child behind')
  process.exit(0)
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
