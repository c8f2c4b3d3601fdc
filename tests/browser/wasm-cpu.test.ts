// The fast cpu backend (WebAssembly SIMD kernels) in headless Chromium. Vitest's browser pages are not
// cross-origin isolated and tests run on the page's main thread (where Atomics.wait is not allowed), so the backend
// must fall back to one thread and say why; the kernels must still match the TypeScript reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { gradCheck, standardGradCases } from '../shared/gradcheck.ts';
import { wasmKernelSuite } from '../shared/wasm-suite.ts';

const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
const expectedMode = isolated
  ? 'CPU wasm-simd, 1 thread (Atomics.wait is not allowed on this thread)'
  : 'CPU wasm-simd, 1 thread (no cross-origin isolation)';

describe('cpu wasm-simd in Chromium', () => {
  const ref = createCpuReferenceBackend();
  let fast: Backend;
  beforeAll(async () => {
    fast = await createBackend('cpu');
  });
  afterAll(() => fast?.dispose());

  it('is the default cpu backend, on one thread, and says why', () => {
    expect(fast.kind).toBe('cpu');
    expect(fast.info.adapter).toBe(expectedMode);
    expect(fast.info.fallbackReason).toBe('');
  });

  it('falls back to one thread when two are asked for explicitly', async () => {
    const be = await createBackend('cpu', { threads: 2 });
    expect(be.info.adapter).toBe(expectedMode);
    be.dispose();
  });

  it('keeps the reference one flag away', async () => {
    expect((await createBackend('cpu', { reference: true })).info.adapter).toBe('CPU reference (TypeScript)');
  });

  it('loads and runs inside a module Worker (where the engine runs)', async () => {
    const w = new Worker(new URL('./wasm-cpu.worker.ts', import.meta.url), { type: 'module' });
    try {
      const msg = await new Promise<{ adapter?: string; c?: number[]; isolated?: boolean; error?: string }>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage('go');
      });
      expect(msg.error).toBeUndefined();
      expect(msg.c).toEqual([19, 22, 43, 50]);
      // A worker may block in Atomics.wait: with cross-origin isolation it gets the helper thread.
      expect(msg.adapter).toBe(msg.isolated ? 'CPU wasm-simd, 2 threads' : 'CPU wasm-simd, 1 thread (no cross-origin isolation)');
    } finally {
      w.terminate();
    }
  });

  describe('kernels match the TypeScript reference', () => {
    wasmKernelSuite(() => ref.ops, () => fast.ops);
  });

  describe('backward ops match finite differences', () => {
    for (const c of standardGradCases()) {
      it(c.name, async () => {
        for (const r of await gradCheck(fast.ops, c, { eps: 1e-2 })) {
          expect(r.maxAbsGrad).toBeGreaterThan(1e-3);
          expect(r.relErr, `${r.name}: max abs err ${r.maxAbsErr} vs max grad ${r.maxAbsGrad}`).toBeLessThan(2e-2);
        }
      });
    }
  });
});
