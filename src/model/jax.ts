/**
 * The only module that imports @jax-js/jax. Everything else in instruct3 reaches the tensor engine
 * through src/model, so engine quirks stay here. `./threads.ts` must run first (it installs the
 * worker shim that jax-js looks for when its WASM backend starts).
 */
import './threads.ts'
// installs jax-js's kernel host hook for native matmuls when the addon loaded (INSTRUCT3_NATIVE=0: WASM only)
import './native-gemm.ts'
export { numpy as np, nn, random, lax, jit, grad, valueAndGrad, tree, init, defaultDevice, blockUntilReady } from '@jax-js/jax'
export type { Array as JArray, JsTree } from '@jax-js/jax'
export { requestedThreads, terminateWorkers } from './threads.ts'
