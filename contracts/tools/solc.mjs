#!/usr/bin/env node
// A tiny `solc` executable for `forge --use contracts/tools/solc.mjs`: forge cannot download native
// solc builds here, so this answers the two things forge asks of a compiler with the npm `solc`
// package (solcjs, WASM): `--version` and `--standard-json` (input on stdin, output on stdout).
// Imports forge did not inline are resolved against --base-path / --include-path, like solc does.
import { createRequire } from 'node:module'
import { readFileSync, existsSync } from 'node:fs'
import { resolve, isAbsolute } from 'node:path'

const require = createRequire(import.meta.url)
const args = process.argv.slice(2)

if (args.includes('--version')) {
  // Reading the version from package.json keeps `--version` instant (no WASM load).
  const solc = require('solc')
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
  process.exit(0)
}

if (!args.includes('--standard-json')) {
  process.stderr.write('contracts/tools/solc.mjs supports only --version and --standard-json\n')
  process.exit(2)
}

const roots = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i])
}
if (roots.length === 0) roots.push(process.cwd())

function findImports(path) {
  const candidates = isAbsolute(path) ? [path] : roots.map((r) => resolve(r, path))
  for (const c of candidates) if (existsSync(c)) return { contents: readFileSync(c, 'utf8') }
  return { error: `File not found: ${path}` }
}

const input = readFileSync(0, 'utf8')
const solc = require('solc')
process.stdout.write(solc.compile(input, { import: findImports }))
