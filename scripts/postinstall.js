// Applied at `npm install`: small patches to pinned dependencies, each naming the upstream limitation.
// Idempotent; refuses (with a clear message) to patch a version it was not written for.
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as gemm from './patches/jax-wasm-gemm.js'
import * as nativeGemm from './patches/jax-native-gemm.js'
import { applyEdits } from './patches/apply-edits.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// @jax-js/jax 0.1.25: `jit(grad(f))` fails with "jit: routine primitive scatter input is not imm" when a
// routine primitive (scatter, the transpose of np.take / gather used by embeddings and the LM loss)
// consumes a view (reshape/broadcast) of another value. splitGraphDataflow() marks the view's *producer*
// as materialized but not the view itself, so the routine sees a fused expression instead of a buffer.
// Fix: also mark every Var input of a routine primitive as materialized. No upstream issue was found
// (closest: jax-js #79 "Implement scatter()"). Remove when upstream fixes splitGraphDataflow.
const JAX_VERSION = '0.1.25'
const MARK = '/* instruct3-patch: routine inputs materialized */'
const needle =
  'for (const eqn of jaxpr.eqns) if (needsCleanShapePrimitives.includes(eqn.primitive) || routinePrimitives.has(eqn.primitive)) {\n\t\tfor (const input of eqn.inputs) if (input instanceof Var) markNonViewProducer(input);'
const replacement =
  'for (const eqn of jaxpr.eqns) if (needsCleanShapePrimitives.includes(eqn.primitive) || routinePrimitives.has(eqn.primitive)) {\n\t\tfor (const input of eqn.inputs) if (input instanceof Var) { markNonViewProducer(input); if (routinePrimitives.has(eqn.primitive)) materializedProducers.add(input); ' + MARK + ' }'

const jaxDir = join(root, 'node_modules', '@jax-js', 'jax')
if (existsSync(jaxDir)) {
  const version = JSON.parse(readFileSync(join(jaxDir, 'package.json'), 'utf8')).version
  if (version !== JAX_VERSION) {
    console.error(`postinstall: @jax-js/jax is ${version}, the scatter patch is for ${JAX_VERSION}; not patching`)
    process.exitCode = 1
  } else {
    for (const f of ['index.js', 'index.cjs']) {
      const file = join(jaxDir, 'dist', f)
      const src = readFileSync(file, 'utf8')
      if (src.includes(MARK)) continue
      if (!src.includes(needle)) {
        console.error(`postinstall: patch target not found in ${file}`)
        process.exitCode = 1
        continue
      }
      writeFileSync(file, src.replace(needle, replacement))
      console.log(`postinstall: patched ${f} (jit/scatter fix)`)
    }
    // WASM matmul micro-kernels, then the native kernel host hook (each patch file explains its upstream limitation)
    const dist = join(jaxDir, 'dist')
    const backendPatches = [
      [gemm, 'wasm gemm micro-kernel'],
      [nativeGemm, 'native kernel host hook'],
    ]
    for (const f of readdirSync(dist).filter((n) => /^backend-.*\.c?js$/.test(n))) {
      const file = join(dist, f)
      for (const [patch, what] of backendPatches) {
        const src = readFileSync(file, 'utf8')
        if (src.includes(patch.MARK)) continue
        try {
          writeFileSync(file, applyEdits(patch.edits, src, file))
          console.log(`postinstall: patched ${f} (${what})`)
        } catch (e) {
          console.error(`postinstall: ${e.message}`)
          process.exitCode = 1
        }
      }
    }
  }
}

// Optional native kernels (scripts/build-native.js); a failed build leaves the WASM kernels in use.
{
  const { buildNative } = await import('./build-native.js')
  const r = buildNative()
  console.log(r.built ? `postinstall: built ${r.path}` : `postinstall: native kernels not built (${r.reason}); using jax-js's WASM kernels`)
}
