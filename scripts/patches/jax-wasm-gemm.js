// @jax-js/jax 0.1.25, WASM backend (dist/backend-*.js and .cjs): matmul micro-tiles that fit x64's registers.
//
// Upstream limitation: jax-js's WASM code generator compiles a matmul (a sum over k of A * B whose B side
// is contiguous along the output row) into register tiles of 4 output rows x 4 f32x4 vectors: 16
// accumulators, plus the 4 B vectors and the A splat of each k step. V8 compiles WASM SIMD to the 16 xmm
// registers of x64, so that tile spills accumulators to the stack on every k step. Broadcast operands are
// loaded as f32.load + f32x4.splat. This patch, written so it could go upstream:
//   1. uses tiles of 2 rows x 4 vectors (8 accumulators, 4 B vectors shared by both rows, 2 A splats);
//   2. loads broadcast operands of the reduction loop with v128.load32_splat (one instruction).
// `f32x4.relaxed_madd` is already used by 0.1.25 where the runtime supports relaxed SIMD (its
// hasWasmFeature("relaxed-madd") probe runs once), mul + add otherwise; the k-contiguous path (a @ b^T,
// 4 x 4 dot products) is left as it is: smaller tiles, a 4x-unrolled k loop addressed by constant load
// offsets, and smaller k tiles all measured equal or slower there (docs/engine.md).
//
// For benchmarks, INSTRUCT3_JAX_GEMM=upstream selects 0.1.25's own tiles at compile time (the setting is
// part of the kernel cache key, so one process can A/B both); `R=..,V=..,KR=..,KC=..,SPLAT=0|1` overrides
// the tuning for experiments.
//
// Each edit is an exact text replacement with an expected count; scripts/postinstall.js applies them and
// refuses to patch (and fails the install) if any target is missing.

export const MARK = '/* instruct3-patch: wasm gemm micro-kernel */'

const tuning = `${MARK}
const GEMM_TUNING = { microRows: 2, microVectors: 4, kMicroRows: 4, kMicroCols: 4, splatLoad: true };
const GEMM_UPSTREAM = { microRows: 4, microVectors: 4, kMicroRows: 4, kMicroCols: 4, splatLoad: false };
/** The micro-kernel tuning for the next compile (and its tag in the kernel cache key). */
function wasmGemmTuning() {
\tconst setting = globalThis.process?.env?.INSTRUCT3_JAX_GEMM ?? "";
\tif (!setting) return { ...GEMM_TUNING, tag: "" };
\tif (setting === "upstream") return { ...GEMM_UPSTREAM, tag: "|gemm:upstream" };
\tconst t = { ...GEMM_TUNING, tag: "|gemm:" + setting };
\tconst keys = { R: "microRows", V: "microVectors", KR: "kMicroRows", KC: "kMicroCols", SPLAT: "splatLoad" };
\tfor (const part of setting.split(",")) {
\t\tconst [k, v] = part.split("=");
\t\tif (keys[k]) t[keys[k]] = k === "SPLAT" ? v === "1" : Number(v);
\t}
\treturn t;
}
`

/** [find, replace, expected count] for dist/backend-*.js and dist/backend-*.cjs. */
export const edits = [
  [
    'const K_SIMD_MAX_UNROLL = 4;\n',
    'const K_SIMD_MAX_UNROLL = 4;\n' + tuning,
    1,
  ],
  // the kernel cache key includes the tuning tag (empty by default)
  [
    'const kernelHash = FpHash.hash(kernel).toString();',
    'const kernelHash = FpHash.hash(kernel).toString() + wasmGemmTuning().tag;',
    2,
  ],
  [
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), TILED_SIMD_MICRO_ROWS),\n\t\tmicroVectors: microTileWithTail(tileVectors, TILED_SIMD_MICRO_VECTORS)',
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), wasmGemmTuning().microRows),\n\t\tmicroVectors: microTileWithTail(tileVectors, wasmGemmTuning().microVectors)',
    1,
  ],
  [
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), K_SIMD_MICRO_ROWS),\n\t\tmicroCols: microTile(tileCols, tileSize, K_SIMD_MICRO_COLS),',
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), wasmGemmTuning().kMicroRows),\n\t\tmicroCols: microTile(tileCols, tileSize, wasmGemmTuning().kMicroCols),',
    1,
  ],
  // broadcast operands of the reduction loop: one v128.load32_splat (ctx.splatLoad, set below)
  [
    '\t\t\t\t\telse if (stride.kind === "broadcast") if (isInt) {\n\t\t\t\t\t\tcg.i32.load(2);\n\t\t\t\t\t\tcg.i32x4.splat();\n\t\t\t\t\t} else {',
    '\t\t\t\t\telse if (stride.kind === "broadcast") if (ctx.splatLoad) cg.v128.load32_splat(2);\n\t\t\t\t\telse if (isInt) {\n\t\t\t\t\t\tcg.i32.load(2);\n\t\t\t\t\t\tcg.i32x4.splat();\n\t\t\t\t\t} else {',
    1,
  ],
  [
    '\t\t\t\t\temitSimdReductionOp(cg, re, reIsInt, emitSimdExpWithAccumulator({\n\t\t\t\t\t\tgidx: gidxs[i],\n\t\t\t\t\t\tridx\n\t\t\t\t\t}, pointerMaps[i], pointerValueCache, vecAccs[i]));',
    '\t\t\t\t\temitSimdReductionOp(cg, re, reIsInt, emitSimdExpWithAccumulator({\n\t\t\t\t\t\tgidx: gidxs[i],\n\t\t\t\t\t\tridx,\n\t\t\t\t\t\tsplatLoad: gemmTuning.splatLoad\n\t\t\t\t\t}, pointerMaps[i], pointerValueCache, vecAccs[i]));',
    1,
  ],
  // read the tuning once per compiled kernel
  [
    '\tconst useRelaxedMadd = hasWasmFeature("relaxed-madd") && re?.op === "Add"',
    '\tconst gemmTuning = wasmGemmTuning();\n\tconst useRelaxedMadd = hasWasmFeature("relaxed-madd") && re?.op === "Add"',
    1,
  ],
]

/** Apply the edits to one file's text; returns the new text or throws naming the missing target. */
export function applyEdits(src, file) {
  let out = src
  for (const [find, replace, count] of edits) {
    const n = out.split(find).length - 1
    if (n !== count) throw new Error(`${file}: expected ${count} occurrence(s) of patch target, found ${n}: ${find.slice(0, 80)}`)
    out = out.split(find).join(replace)
  }
  return out
}
