import { createCpuBackend } from './cpu/backend.ts';
import type { Backend, BackendKind } from './types.ts';
import { createWebGpuBackend } from './webgpu/backend.ts';

/**
 * createBackend('webgpu') fails loudly when there is no adapter; use createBestBackend() for the
 * fall-back-to-CPU behaviour the app wants.
 */
export async function createBackend(kind: BackendKind): Promise<Backend> {
  if (kind === 'cpu') return createCpuBackend();
  if (kind === 'webgpu') return createWebGpuBackend();
  throw new Error(`createBackend: unknown backend kind "${String(kind)}" (expected "cpu" or "webgpu")`);
}

/** WebGPU when it works, else the CPU backend with the reason recorded in info.fallbackReason. */
export async function createBestBackend(): Promise<Backend> {
  try {
    return await createWebGpuBackend();
  } catch (e) {
    const cpu = createCpuBackend();
    const reason = e instanceof Error ? e.message : String(e);
    return { ...cpu, info: { ...cpu.info, fallbackReason: reason } };
  }
}
