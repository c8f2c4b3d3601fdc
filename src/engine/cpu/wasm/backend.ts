// The fast cpu backend: WebAssembly SIMD kernels (createWasmOps) behind the common Backend facade. This is what
// createBackend('cpu') returns; the TypeScript reference stays available (createBackend('cpu', { reference: true })).
import { EventHub, makeBackend } from '../../backend-base.ts';
import type { Backend } from '../../types.ts';
import { createWasmOps } from './ops.ts';
import { acquireRuntime, releaseRuntime } from './runtime.ts';

export interface WasmCpuOptions {
  /**
   * 2 (default): a helper thread shares the large kernels where the platform allows blocking waits on shared
   * memory (Node; a cross-origin-isolated browser Worker); elsewhere it falls back to 1 and says why in info.adapter.
   */
  threads?: 1 | 2;
}

/** "CPU wasm-simd, 2 threads" or "CPU wasm-simd, 1 thread (why)". */
export const WASM_ADAPTER_PREFIX = 'CPU wasm-simd';

export async function createWasmCpuBackend(opts: WasmCpuOptions = {}): Promise<Backend> {
  const threads = opts.threads ?? 2;
  if (threads !== 1 && threads !== 2) throw new Error(`cpu backend: threads must be 1 or 2, got ${String(threads)}`);
  const rt = await acquireRuntime(threads);
  let disposed = false;
  const backend = makeBackend(
    createWasmOps(rt),
    { kind: 'cpu', adapter: `${WASM_ADAPTER_PREFIX}, ${rt.threadNote}`, fallbackReason: '' },
    new EventHub(),
    () => {
      if (disposed) return;
      disposed = true;
      releaseRuntime(rt, threads);
    },
  );
  return Object.assign(backend, { memory: () => rt.memoryStats() });
}
