/**
 * instruct3's optional native kernels (native/*.c, built at install by scripts/build-native.js into
 * build/native/instruct3.node). `loadNative()` returns the addon, or null when it was not built (no C
 * compiler) or INSTRUCT3_NATIVE=0; every caller then uses jax-js's WASM kernels, so results never depend
 * on the addon being there, only speed does. Each kernel family adds its functions to `NativeAddon`.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface NativeAddon {
  /** Bumped when a function's signature changes; a stale build is refused. */
  abiVersion: number
}

const ABI_VERSION = 1
const addonPath = fileURLToPath(new URL('../../build/native/instruct3.node', import.meta.url))

let cached: NativeAddon | null | undefined
let whyNot = ''

/** The native addon, or null (see `nativeStatus()` for why). Loaded once per process (or worker). */
export function loadNative(): NativeAddon | null {
  if (cached !== undefined) return cached
  cached = null
  if (process.env.INSTRUCT3_NATIVE === '0') whyNot = 'disabled by INSTRUCT3_NATIVE=0'
  else if (!existsSync(addonPath)) whyNot = `not built (${addonPath} missing; run \`node scripts/build-native.js\`)`
  else {
    try {
      const addon = createRequire(import.meta.url)(addonPath) as NativeAddon
      if (addon.abiVersion !== ABI_VERSION) whyNot = `stale build (abi ${addon.abiVersion}, want ${ABI_VERSION}); run \`node scripts/build-native.js\``
      else cached = addon
    } catch (e) {
      whyNot = `failed to load: ${(e as Error).message}`
    }
  }
  return cached
}

/** One line for logs and benchmarks: which kernels this process uses. */
export function nativeStatus(): string {
  return loadNative() ? `native kernels (${addonPath})` : `jax-js WASM kernels only: native addon ${whyNot}`
}
