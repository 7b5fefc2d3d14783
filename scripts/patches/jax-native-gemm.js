// @jax-js/jax 0.1.25, WASM backend (dist/backend-*.js and .cjs): let the host run a kernel natively.
//
// Upstream limitation: the WASM backend can only run a kernel as the WASM code it generates. WASM SIMD is 128
// bits wide and x64 engines give it 16 vector registers, so a matmul tops out near 59 GFLOP/s per core on our
// machines (bench/wasm-ceiling.ts) while a native AVX-512 GEMM on the same core reaches 140-170 (OpenBLAS).
// In Node (or any host with native code) the embedder could run some kernels faster on the same memory.
// This patch, written so it could go upstream, adds an optional *kernel host hook*:
//   - a global `globalThis[Symbol.for("instruct3.nativeGemm")]` = { prepare(kernel, kernelHash), run(plan,
//     memory, ptrs) }, installed by the embedder (src/model/native-gemm.ts); jax-js imports nothing;
//   - at prepare time the hook may return a plan for a kernel (null: not one it handles); the WASM module is
//     still compiled, so a kernel always has its WASM fallback;
//   - at dispatch, a kernel with a plan calls `run(plan, memory, ptrs)` (ptrs = input then output byte
//     offsets, as the WASM kernel gets them) instead of the WASM kernel. With the worker pool, the call is
//     queued on the pool's serial queue like any kernel (WasmWorkerPool.runOnHost), so it starts only after
//     every earlier kernel, and its outputs are tracked in #pendingWork like a worker's; when the queue is
//     idle it runs at once. Without the hook (or without a plan) the backend behaves exactly as 0.1.25.
//
// Each edit is an exact text replacement with an expected count; scripts/postinstall.js applies them and
// refuses to patch (and fails the install) if any target is missing.

export const MARK = '/* instruct3-patch: native kernel host hook */'

const hookHelpers = `${MARK}
const NATIVE_KERNEL_HOOK = Symbol.for("instruct3.nativeGemm");
/** The host's plan for a kernel (see scripts/patches/jax-native-gemm.js in instruct3), or null. */
function nativeKernelPlan(kernel, kernelHash) {
\tconst hook = globalThis[NATIVE_KERNEL_HOOK];
\treturn hook ? hook.prepare(kernel, kernelHash) ?? null : null;
}
/** A thunk that runs the planned kernel on the host, or null when there is no plan or no hook now. */
function nativeKernelRunner(plan, memory, ptrs) {
\tconst hook = plan && globalThis[NATIVE_KERNEL_HOOK];
\treturn hook ? () => hook.run(plan, memory, ptrs) : null;
}
`

/** [find, replace, expected count] for dist/backend-*.js and dist/backend-*.cjs. */
export const edits = [
  [
    '/** Pool of Web Workers for parallel WASM kernel dispatch. */\nvar WasmWorkerPool = class {',
    hookHelpers + '/** Pool of Web Workers for parallel WASM kernel dispatch. */\nvar WasmWorkerPool = class {',
    1,
  ],
  // the pool's serial queue also runs host (native) kernels, in order with the workers' kernels
  [
    '\tdispatchRoutine(routine, inputs, outputs) {\n\t\treturn this.#enqueue(() => this.#dispatchRoutineNow(routine, inputs, outputs));\n\t}\n',
    '\tdispatchRoutine(routine, inputs, outputs) {\n\t\treturn this.#enqueue(() => this.#dispatchRoutineNow(routine, inputs, outputs));\n\t}\n' +
      '\t/** Run \`job\` on this thread after all queued work; at once when the queue is idle. Returns its epoch. */\n' +
      '\trunOnHost(job) {\n\t\tif (this.#epoch === this.#epochEnd) {\n\t\t\tjob();\n\t\t\treturn this.#epoch;\n\t\t}\n\t\treturn this.#enqueue(async () => job());\n\t}\n',
    1,
  ],
  // prepare: ask the host for a plan next to the compiled program
  [
    '\t\t\t\treturn {\n\t\t\t\t\tkernelHash,\n\t\t\t\t\tmodule: await WebAssembly.compile(bytes),\n\t\t\t\t\t...metadata\n\t\t\t\t};\n\t\t\t}),\n\t\t\tsync: false\n',
    '\t\t\t\treturn {\n\t\t\t\t\tkernelHash,\n\t\t\t\t\tmodule: await WebAssembly.compile(bytes),\n\t\t\t\t\t...metadata\n\t\t\t\t};\n\t\t\t}),\n\t\t\tnative: nativeKernelPlan(kernel, kernelHash),\n\t\t\tsync: false\n',
    1,
  ],
  [
    '\t\t\t\treturn {\n\t\t\t\t\tkernelHash,\n\t\t\t\t\tmodule: new WebAssembly.Module(bytes),\n\t\t\t\t\t...metadata\n\t\t\t\t};\n\t\t\t}),\n\t\t\tsync: true\n',
    '\t\t\t\treturn {\n\t\t\t\t\tkernelHash,\n\t\t\t\t\tmodule: new WebAssembly.Module(bytes),\n\t\t\t\t\t...metadata\n\t\t\t\t};\n\t\t\t}),\n\t\t\tnative: nativeKernelPlan(kernel, kernelHash),\n\t\t\tsync: true\n',
    1,
  ],
  // dispatch: the host runs planned kernels, through the pool's queue (async) or at once (sync)
  [
    '\t\t\tconst ptrs = [...inputs, ...outputs].map((slot) => this.#buffers.get(slot).ptr);\n',
    '\t\t\tconst ptrs = [...inputs, ...outputs].map((slot) => this.#buffers.get(slot).ptr);\n\t\t\tconst hostRun = nativeKernelRunner(exe.data.native, this.#memory, ptrs);\n',
    1,
  ],
  [
    '\t\t\t\tconst epoch = this.#workerPool.dispatch(program.kernelHash, program.module, ptrs, program.workSize, program.chunkAlignment, program.minWorkPerWorker);',
    '\t\t\t\tconst epoch = hostRun ? this.#workerPool.runOnHost(hostRun) : this.#workerPool.dispatch(program.kernelHash, program.module, ptrs, program.workSize, program.chunkAlignment, program.minWorkPerWorker);',
    1,
  ],
  [
    '\t\t\t\tconst func = new WebAssembly.Instance(program.module, { env: { memory: this.#memory } }).exports.kernel;\n\t\t\t\tfunc(...ptrs, 0, program.workSize);',
    '\t\t\t\tif (hostRun) hostRun();\n\t\t\t\telse {\n\t\t\t\t\tconst func = new WebAssembly.Instance(program.module, { env: { memory: this.#memory } }).exports.kernel;\n\t\t\t\t\tfunc(...ptrs, 0, program.workSize);\n\t\t\t\t}',
    1,
  ],
]
