import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../src/util/paths.ts'

type Instr = { op: string; args: string; line: number }

/** Parse a Dockerfile into instructions (comments dropped, backslash continuations joined). */
function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1
    let l = lines[i].trim()
    if (l === '' || l.startsWith('#')) continue
    while (l.endsWith('\\') && i + 1 < lines.length) {
      l = l.slice(0, -1) + ' ' + lines[++i].trim()
    }
    const m = /^(\w+)\s+(.*)$/.exec(l)
    assert.ok(m, `Dockerfile:${start}: not an instruction: ${l}`)
    out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start })
  }
  return out
}

const dockerfile = parseDockerfile(readFileSync(join(packageRoot, 'Dockerfile'), 'utf8'))
const stages: Instr[][] = []
for (const ins of dockerfile) {
  if (ins.op === 'FROM') stages.push([])
  stages.at(-1)!.push(ins)
}
const final = stages.at(-1)!

test('every stage is based on Node 22 slim', () => {
  assert.ok(stages.length >= 1)
  for (const s of stages) assert.match(s[0].args, /^node:22[\w.-]*-slim(\s+AS\s+\w+)?$/i, `line ${s[0].line}`)
})

test('the entrypoint is instruct3, linked to the package bin', () => {
  const entry = final.filter((i) => i.op === 'ENTRYPOINT')
  assert.equal(entry.length, 1)
  assert.deepEqual(JSON.parse(entry[0].args), ['instruct3'])
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
  assert.equal(pkg.bin.instruct3, 'bin/instruct3.js')
  assert.ok(final.some((i) => i.op === 'RUN' && i.args.includes('/app/bin/instruct3.js /usr/local/bin/instruct3')))
})

test('dependencies come from the lockfile, production only', () => {
  const installs = dockerfile.filter((i) => i.op === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(i.args))
  assert.ok(installs.length >= 1)
  for (const i of installs) {
    assert.match(i.args, /\bnpm ci\b/, `line ${i.line}: use npm ci (lockfile)`)
    assert.match(i.args, /--omit=dev\b/, `line ${i.line}: production deps only`)
  }
  assert.ok(dockerfile.some((i) => i.op === 'COPY' && i.args.includes('package-lock.json')))
  // The runtime stage gets node_modules from the deps stage, not from the build context.
  assert.ok(final.some((i) => i.op === 'COPY' && i.args.startsWith('--from=deps /app/node_modules')))
  assert.ok(final.some((i) => i.op === 'ENV' && i.args === 'NODE_ENV=production'))
})

test('every COPY source exists and is not excluded by .dockerignore', () => {
  const ignore = readFileSync(join(packageRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  assert.ok(ignore.includes('node_modules'), '.dockerignore keeps the host node_modules out')
  for (const c of dockerfile.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
    const parts = c.args.split(/\s+/)
    for (const src of parts.slice(0, -1)) {
      assert.ok(existsSync(join(packageRoot, src)), `Dockerfile:${c.line}: ${src} missing`)
      const top = src.split('/')[0]
      assert.ok(!ignore.includes(top) && !ignore.includes(src), `Dockerfile:${c.line}: ${src} is in .dockerignore`)
    }
  }
})

test('the deps stage copies the postinstall script and every local file it imports (npm ci runs it)', () => {
  const deps = stages[0]
  const copied = deps.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/)[0])
  const script = 'scripts/postinstall.js'
  assert.ok(copied.includes(script), `the deps stage does not copy ${script}`)
  const src = readFileSync(join(packageRoot, script), 'utf8')
  const imports = [...src.matchAll(/from '(\.\/[^']+)'/g)].map((m) => join('scripts', m[1]))
  for (const imp of imports) {
    assert.ok(existsSync(join(packageRoot, imp)), `${script} imports missing ${imp}`)
    assert.ok(copied.some((c) => imp === c || imp.startsWith(c.replace(/\/?$/, '/'))), `the deps stage does not copy ${imp}, which ${script} imports`)
  }
})
