// Entry of the WebAssembly SIMD kernels of the fast cpu backend. Compiled by scripts/build-wasm.mjs with
// AssemblyScript (--enable simd, imported memory, no runtime): every export takes byte addresses into the imported
// memory and plain numbers, allocates nothing and keeps no state, so two instances (the calling thread and a helper
// worker) can run on one shared memory at once.
export { gemm, gemmPath, gemmScratchBytes } from './gemm';
export { logprobRows, logprobBackwardRows } from './logprob';
export { attentionForward, attentionBackward, attentionDecode, attentionRows } from './attention';
export { layernormRows, layernormBackwardRows, f64ToF32, l2normalizeRows, l2normalizeBackwardRows } from './norm';
export { gelu, geluBackward, adamw, add, mul, scale, addBias, sumRows } from './pointwise';
export { int8Gemm, int8Pack, int8PackedBytes, int8ScratchBytes, int8Dequant, scaleCols } from './int8';
export { sampleRows, pickRows } from './sample';

/** First byte the host allocator may use (after any static data of this module). */
export function heapBase(): usize {
  return __heap_base;
}
