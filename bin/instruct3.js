#!/usr/bin/env node
// The one instruct3 binary. Sources are TypeScript run by Node >= 22.18's built-in type stripping.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`instruct3 needs Node >= 22.18 (this is ${process.version}).`)
  process.exit(1)
}
// `--threads N` picks the tensor engine's WASM worker pool size; it must be known before the engine
// loads, so it is read here (and declared in the CLI for --help). Default: one worker per core, up to 4.
// Training reads results asynchronously and so runs its kernels on the pool; generation and scoring read
// synchronously and stay on the main thread, where small kernels are faster (docs/engine.md).
const i = process.argv.findIndex((a) => a === '--threads' || a.startsWith('--threads='))
if (i >= 0) {
  const v = process.argv[i].includes('=') ? process.argv[i].split('=')[1] : process.argv[i + 1]
  if (v !== undefined) process.env.INSTRUCT3_THREADS = v
} else if (process.env.INSTRUCT3_THREADS === undefined) {
  const { availableParallelism } = await import('node:os')
  process.env.INSTRUCT3_THREADS = String(Math.min(4, availableParallelism()))
}
const { main } = await import('../src/cli/main.ts')
await main()
