#!/usr/bin/env node
// The one instruct3 binary. Sources are TypeScript run by Node >= 22.18's built-in type stripping.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`instruct3 needs Node >= 22.18 (this is ${process.version}).`)
  process.exit(1)
}
const { main } = await import('../src/cli/main.ts')
await main()
