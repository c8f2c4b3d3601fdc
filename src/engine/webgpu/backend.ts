import { EventHub, makeBackend } from '../backend-base.ts';
import type { Backend } from '../types.ts';
import { GpuContext } from './context.ts';
import { acquireDevice } from './device.ts';
import { createGpuOps } from './ops.ts';
import { registerGpuContext } from './ops-context.ts';
import { ensureShaders } from './shaders.ts';

/** A WebGPU backend on our WGSL kernels. Throws when no adapter or device can be had. */
export async function createWebGpuBackend(): Promise<Backend & { ctx: GpuContext }> {
  await ensureShaders();
  const { device, adapterName, isFallbackAdapter } = await acquireDevice();
  const hub = new EventHub();
  let disposed = false;
  void device.lost.then((info) => {
    if (!disposed) hub.emit({ type: 'lost', reason: String(info.reason), message: info.message });
  });
  device.addEventListener?.('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    console.error(`webgpu: uncaptured error: ${e.message}`);
  });
  const ctx = new GpuContext(device);
  const ops = createGpuOps(ctx);
  registerGpuContext(ops, ctx); // kernels outside Ops (retrieval top-k) find the context from the ops
  const backend = makeBackend(
    ops,
    { kind: 'webgpu', adapter: adapterName + (isFallbackAdapter ? ' (software fallback adapter)' : ''), fallbackReason: '' },
    hub,
    () => {
      disposed = true;
      ctx.destroy();
    },
  );
  return Object.assign(backend, { ctx });
}
