// Builds instruct3's optional native kernels (native/*.c -> build/native/instruct3.node) with the machine's
// C compiler, at `npm install` (scripts/postinstall.js) or by hand: `node scripts/build-native.js`.
//
// -march=native: the addon is built on the machine that runs it (like better-sqlite3's), so it may use
// every vector extension this CPU has (AVX-512 on our machines). A build that fails is not an install
// failure: src/model/native.ts then finds no addon and every caller uses jax-js's WASM kernels; this
// script says so. INSTRUCT3_NATIVE=0 skips the build. The output is written to a temp file and renamed.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'build', 'native', 'instruct3.node')

/**
 * Node's C headers: npm's nodedir when set (CI points it at Node 22's), else next to this node binary (an
 * official build, or the npm `node` package's platform build beside its launcher), else the system's.
 */
function nodeIncludeDir() {
  const home = join(dirname(process.execPath), '..')
  const candidates = [process.env.npm_config_nodedir, home, join(home, 'node_modules', `node-${process.platform}-${process.arch}`), '/usr']
    .filter(Boolean)
    .map((d) => join(d, 'include', 'node'))
  return candidates.find((d) => existsSync(join(d, 'node_api.h'))) ?? null
}

export function buildNative({ quiet = false } = {}) {
  if (process.env.INSTRUCT3_NATIVE === '0') return { built: false, reason: 'INSTRUCT3_NATIVE=0' }
  const include = nodeIncludeDir()
  if (!include) return { built: false, reason: 'no Node headers (node_api.h) found next to node or in npm_config_nodedir' }
  const cc = process.env.CC || 'cc'
  const srcDir = join(root, 'native')
  const sources = readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort().map((f) => join(srcDir, f))
  mkdirSync(dirname(out), { recursive: true })
  const tmp = `${out}.${process.pid}.tmp`
  const args = ['-O3', '-march=native', '-std=c11', '-D_GNU_SOURCE', '-fno-math-errno', '-fPIC', '-shared', '-pthread',
    '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', include, '-I', srcDir, ...sources, '-o', tmp, '-lm']
  try {
    execFileSync(cc, args, { stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'] })
    renameSync(tmp, out)
    return { built: true, path: out }
  } catch (e) {
    rmSync(tmp, { force: true })
    return { built: false, reason: `${cc} failed: ${String(e.stderr ?? e.message).trim().split('\n').slice(0, 5).join(' | ')}` }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = buildNative()
  console.log(r.built ? `native: built ${r.path}` : `native: not built (${r.reason}); jax-js's WASM kernels will be used`)
}
