/**
 * Child of matmul.test.ts: fills jax-js's WASM memory past 2 GiB, then runs a native matmul whose buffers
 * lie above byte offset 2^31 (where `ptr >> 2` in JS would turn negative). Prints one JSON line.
 */
import { np } from '../../src/model/jax.ts'
import { nativeGemmInfo } from '../../src/model/native-gemm.ts'

const host = new Float32Array(100_000_000) // 400 MB per upload; 6 of them: 2.4 GB of WASM memory
const keep = Array.from({ length: 6 }, () => np.array(host, { dtype: np.float32 }))
const a = np.array(new Float32Array(64 * 96).map((_, i) => (i % 7) - 3), { dtype: np.float32 }).reshape([64, 96])
const b = np.array(new Float32Array(96 * 128).map((_, i) => (i % 5) - 2), { dtype: np.float32 }).reshape([96, 128])
const before = nativeGemmInfo()?.calls ?? 0
const c = np.matmul(a, b).dataSync() as Float32Array
// the same product in plain JS
let maxErr = 0
for (let m = 0; m < 64; m++)
  for (let n = 0; n < 128; n++) {
    let s = 0
    for (let k = 0; k < 96; k++) s += (((m * 96 + k) % 7) - 3) * (((k * 128 + n) % 5) - 2)
    maxErr = Math.max(maxErr, Math.abs(s - c[m * 128 + n]!))
  }
console.log(JSON.stringify({ nativeCalls: (nativeGemmInfo()?.calls ?? 0) - before, maxErr, kept: keep.length }))
