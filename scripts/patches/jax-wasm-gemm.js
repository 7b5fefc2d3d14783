// @jax-js/jax 0.1.25, WASM backend (dist/backend-*.js and .cjs): matmul micro-tiles that fit x64's registers.
//
// Upstream limitation: jax-js's WASM code generator compiles a matmul (a sum over k of A * B) into
// register tiles of 16 f32x4 accumulators: 4 output rows x 4 vectors where B is contiguous along the output
// row (`a @ b`, `a^T @ b`), and 4 x 4 dot products with a 4x-unrolled k loop where both operands are
// contiguous along k (`a @ b^T`). V8 compiles WASM SIMD to the 16 xmm registers of x64, so 16 accumulators
// plus the loaded operands spill to the stack on every k step (perf annotate of the `a @ b^T` kernel: TurboFan
// hoists the 32 loads of the unrolled steps and spills most accumulators). Broadcast operands are loaded as
// f32.load + f32x4.splat. This patch, written so it could go upstream:
//   1. `a @ b`, `a^T @ b`: tiles of 2 rows x 4 vectors (8 accumulators; the 4 B vectors are shared by both rows),
//      1 row x 4 vectors when B's base differs per output row (batched, e.g. attention per head: 0.1.25 then
//      keeps one pointer per row and vector, and the general registers run out too);
//   2. `a @ b^T`: tiles of 4 x 2 dot products (8 accumulators), 2 x 2 when K <= 64 (attention scores), and no
//      k unrolling (one 4-wide k step per iteration);
//   3. broadcast operands of the reduction loop load with v128.load32_splat (one instruction).
// `f32x4.relaxed_madd` is already used by 0.1.25 where the runtime supports relaxed SIMD (its
// hasWasmFeature("relaxed-madd") probe runs once), mul + add otherwise.
//
// For benchmarks, INSTRUCT3_JAX_GEMM=upstream selects 0.1.25's own tiles at compile time (the setting is
// part of the kernel cache key, so one process can A/B both); `R=..,UR=..,V=..,KR=..,KC=..,KU=..,SK=..,
// SKR=..,SKC=..,SPLAT=0|1` overrides the tuning for experiments.
//
// Each edit is an exact text replacement with an expected count; scripts/postinstall.js applies them and
// refuses to patch (and fails the install) if any target is missing.

export const MARK = '/* instruct3-patch: wasm gemm micro-kernel */'

const tuning = `${MARK}
const GEMM_TUNING = { microRows: 2, unsharedMicroRows: 1, microVectors: 4, kMicroRows: 4, kMicroCols: 2, kUnroll: 1, smallK: 64, kSmallMicroRows: 2, kSmallMicroCols: 2, splatLoad: true };
const GEMM_UPSTREAM = { microRows: 4, unsharedMicroRows: 4, microVectors: 4, kMicroRows: 4, kMicroCols: 4, kUnroll: 4, smallK: 0, kSmallMicroRows: 4, kSmallMicroCols: 4, splatLoad: false };
/** The micro-kernel tuning for the next compile (and its tag in the kernel cache key). */
function wasmGemmTuning() {
\tconst setting = globalThis.process?.env?.INSTRUCT3_JAX_GEMM ?? "";
\tif (!setting) return { ...GEMM_TUNING, tag: "" };
\tif (setting === "upstream") return { ...GEMM_UPSTREAM, tag: "|gemm:upstream" };
\tconst t = { ...GEMM_TUNING, tag: "|gemm:" + setting };
\tconst keys = { R: "microRows", UR: "unsharedMicroRows", V: "microVectors", KR: "kMicroRows", KC: "kMicroCols", KU: "kUnroll", SK: "smallK", SKR: "kSmallMicroRows", SKC: "kSmallMicroCols", SPLAT: "splatLoad" };
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
    '\tconst kUnroll = divisorAtMost(kernel.reduction.size / 4, K_SIMD_MAX_UNROLL);',
    '\tconst kUnroll = divisorAtMost(kernel.reduction.size / 4, wasmGemmTuning().kUnroll);',
    1,
  ],
  [
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), K_SIMD_MICRO_ROWS),\n\t\tmicroCols: microTile(tileCols, tileSize, K_SIMD_MICRO_COLS),',
    '\t\tmicroRows: microTile(tileRows, Math.floor(kernel.size / tileSize), kernel.reduction.size <= wasmGemmTuning().smallK ? wasmGemmTuning().kSmallMicroRows : wasmGemmTuning().kMicroRows),\n\t\tmicroCols: microTile(tileCols, tileSize, kernel.reduction.size <= wasmGemmTuning().smallK ? wasmGemmTuning().kSmallMicroCols : wasmGemmTuning().kMicroCols),',
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
    '\tconst gemmTuning = wasmGemmTuning();\n\t// B rows that differ per output row (a batch index in the base of B, e.g. attention per head) get one pointer per\n\t// row and vector, which runs out of general registers: one row per tile then\n\tif (simdTilePlan && simdReductionPointerCandidates.some((c) => c.stride.kind === "contiguous" && isFinite(c.stride.tileSize) && !repeatsAcrossGidxTile(c.baseIndex, c.stride.tileSize))) simdTilePlan.microRows = Math.min(simdTilePlan.microRows, gemmTuning.unsharedMicroRows);\n\tconst useRelaxedMadd = hasWasmFeature("relaxed-madd") && re?.op === "Add"',
    1,
  ],
]
