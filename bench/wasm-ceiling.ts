/**
 * This machine's WASM SIMD compute ceiling, per core: a hand-assembled WASM function that updates 12
 * independent f32x4 accumulators in a loop (4x unrolled), either with `f32x4.relaxed_madd` (a fused
 * multiply-add where the CPU has one) or with `f32x4.mul` + `f32x4.add`. Nothing else is in the loop, so
 * no matmul kernel can beat it. acc = acc * 0.999 + 0.001 converges to 1: no overflow, no denormals.
 */

function leb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n) b |= 0x80
    out.push(b)
  } while (n)
  return out
}

function f32(x: number): number[] {
  return [...new Uint8Array(new Float32Array([x]).buffer)]
}

const ACCS = 12
const UNROLL = 4

/** Bytes of a module exporting `run(iterations: i32)`. */
function ceilingModule(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const simd = (op: number): number[] => [0xfd, ...leb(op)]
  const x = ACCS // local index of the multiplier vector (param 0 is the counter)
  const body: number[] = []
  // locals: ACCS + 2 v128 after the i32 param
  body.push(1, ...leb(ACCS + 2), 0x7b)
  for (let i = 0; i < ACCS; i++) body.push(0x43, ...f32(i * 0.01), ...simd(19), 0x21, 1 + i) // acc_i = splat
  body.push(0x43, ...f32(0.999), ...simd(19), 0x21, 1 + x)
  body.push(0x43, ...f32(0.001), ...simd(19), 0x21, 2 + x)
  body.push(0x03, 0x40) // loop
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 0; i < ACCS; i++) {
      body.push(0x20, 1 + i, 0x20, 1 + x)
      if (relaxed) body.push(0x20, 2 + x, ...simd(261)) // relaxed_madd(acc, x, y)
      else body.push(...simd(230), 0x20, 2 + x, ...simd(228)) // mul, add
      body.push(0x21, 1 + i)
    }
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0) // n = n - 1; br_if n != 0
  body.push(0x0b) // end loop
  // keep the accumulators live: sum lane 0 of all of them into a global-free drop
  for (let i = 0; i < ACCS; i++) body.push(0x20, 1 + i, ...simd(31), 0) // f32x4.extract_lane 0
  for (let i = 1; i < ACCS; i++) body.push(0x92) // f32.add
  body.push(0x0b) // end function (returns the f32)
  const code = [...leb(body.length), ...body]
  const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]),
    ...section(7, [1, 3, 0x72, 0x75, 0x6e, 0x00, 0]), // export "run"
    ...section(10, [1, ...code]),
  ])
}

/**
 * GFLOP/s of the loop (best of `tries` runs of `iterations`), or null if the runtime rejects the module.
 * Timed by this process's CPU time (the loop is single-threaded), so other processes on a shared machine
 * do not lower it the way they lower a wall-clock rate.
 */
export function wasmCeiling(relaxed: boolean, iterations = 20_000_000, tries = 5): number | null {
  let mod: WebAssembly.Module
  try {
    mod = new WebAssembly.Module(ceilingModule(relaxed))
  } catch {
    return null
  }
  const run = new WebAssembly.Instance(mod).exports.run as (n: number) => number
  run(100_000) // tier up
  let best = Infinity
  for (let t = 0; t < tries; t++) {
    const c0 = process.cpuUsage()
    const r = run(iterations)
    const c = process.cpuUsage(c0)
    const s = (c.user + c.system) / 1e6
    if (!Number.isFinite(r)) throw new Error('ceiling loop diverged')
    best = Math.min(best, s)
  }
  return (iterations * UNROLL * ACCS * 4 * 2) / best / 1e9
}
