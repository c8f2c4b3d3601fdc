// Every WASM kernel against the TypeScript reference on awkward shapes, on 2 threads (with every kernel forced to
// split, however small) and on 1 thread.
import { afterAll, beforeAll, describe } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { PARALLEL_MIN, setParallelMin } from '../../src/engine/cpu/wasm/runtime.ts';
import type { Backend } from '../../src/engine/types.ts';
import { wasmKernelSuite } from '../shared/wasm-suite.ts';

const ref = createCpuReferenceBackend();

describe('cpu wasm-simd kernels, 2 threads, every kernel split', () => {
  let fast: Backend;
  let saved: typeof PARALLEL_MIN;
  beforeAll(async () => {
    fast = await createBackend('cpu', { threads: 2 });
    saved = setParallelMin({ gemm: 1, attention: 1, elements: 1 });
  });
  afterAll(() => {
    setParallelMin(saved);
    fast?.dispose();
  });
  wasmKernelSuite(() => ref.ops, () => fast.ops);
});

describe('cpu wasm-simd kernels, 1 thread', () => {
  let fast: Backend;
  beforeAll(async () => {
    fast = await createBackend('cpu', { threads: 1 });
  });
  afterAll(() => fast?.dispose());
  wasmKernelSuite(() => ref.ops, () => fast.ops);
});
