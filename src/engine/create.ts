import { createCpuBackend } from './cpu/backend.ts';
import { createWasmCpuBackend } from './cpu/wasm/backend.ts';
import type { Backend, BackendKind } from './types.ts';
import { createWebGpuBackend } from './webgpu/backend.ts';

/** Options of createBackend; only the cpu backend reads them. */
export interface CreateBackendOptions {
  /** cpu: the plain TypeScript reference (the oracle) instead of the WebAssembly SIMD kernels. */
  reference?: boolean;
  /** cpu (wasm): 1 or 2 threads (default 2 where the platform allows; see BackendInfo.adapter). */
  threads?: 1 | 2;
}

/** The TypeScript reference cpu backend (deterministic oracle of every kernel). */
export function createCpuReferenceBackend(): Backend {
  return createCpuBackend();
}

/**
 * The cpu backend is the WebAssembly SIMD one (falling back to the reference, with the reason in
 * info.fallbackReason, where WebAssembly SIMD is unavailable); `{ reference: true }` gives the reference.
 */
async function createCpu(opts: CreateBackendOptions): Promise<Backend> {
  if (opts.reference) return createCpuBackend();
  if (opts.threads !== undefined && opts.threads !== 1 && opts.threads !== 2)
    throw new Error(`createBackend: threads must be 1 or 2, got ${String(opts.threads)}`);
  try {
    return await createWasmCpuBackend({ threads: opts.threads });
  } catch (e) {
    const ref = createCpuBackend();
    const reason = `WebAssembly SIMD kernels unavailable: ${e instanceof Error ? e.message : String(e)}`;
    return { ...ref, info: { ...ref.info, fallbackReason: reason } };
  }
}

/**
 * createBackend('webgpu') fails loudly when there is no adapter; use createBestBackend() for the
 * fall-back-to-CPU behaviour the app wants.
 */
export async function createBackend(kind: BackendKind, opts: CreateBackendOptions = {}): Promise<Backend> {
  if (kind === 'cpu') return createCpu(opts);
  if (kind === 'webgpu') return createWebGpuBackend();
  throw new Error(`createBackend: unknown backend kind "${String(kind)}" (expected "cpu" or "webgpu")`);
}

/** WebGPU when it works, else the CPU backend with the reason recorded in info.fallbackReason. */
export async function createBestBackend(): Promise<Backend> {
  try {
    return await createWebGpuBackend();
  } catch (e) {
    const cpu = await createCpu({});
    const reason = e instanceof Error ? e.message : String(e);
    return { ...cpu, info: { ...cpu.info, fallbackReason: cpu.info.fallbackReason ? `${reason}; ${cpu.info.fallbackReason}` : reason } };
  }
}
