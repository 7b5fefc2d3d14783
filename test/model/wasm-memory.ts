/**
 * Records every WebAssembly.Memory created after this module runs, so a test can read the size of
 * jax-js's WASM heap (jax-js 0.1.25 keeps its backend and memory private). jax-js creates its WASM
 * backend, and with it the memory, when `@jax-js/jax` is first imported: import this module before
 * anything that imports src/model.
 */
const memories: WebAssembly.Memory[] = []
const NativeMemory = WebAssembly.Memory

class RecordedMemory extends NativeMemory {
  constructor(descriptor: WebAssembly.MemoryDescriptor) {
    super(descriptor)
    memories.push(this)
  }
}
;(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = RecordedMemory

/** Bytes of all WASM memories created since this module ran (jax-js's heap; it never shrinks). */
export function wasmMemoryBytes(): number {
  return memories.reduce((n, m) => n + m.buffer.byteLength, 0)
}

/** How many memories were recorded (the test checks it saw jax-js's). */
export function wasmMemoryCount(): number {
  return memories.length
}
