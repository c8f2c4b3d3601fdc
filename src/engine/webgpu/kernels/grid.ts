// Grid sizing for kernels that loop over their blocks (grid-stride): block b is handled by workgroup
// b mod G, in increasing b, so any number of blocks fits in one dispatch dimension.
//
// On hardware GPUs G = min(blocks, 65535): one block per workgroup whenever the limit allows. On software
// adapters (SwiftShader, llvmpipe, WARP) every workgroup of a kernel that uses workgroupBarrier costs a fixed
// setup (one fiber per 4 invocations, about 2 ms for 256 invocations on SwiftShader) that dwarfs the work of a
// small block, so the grid is capped at a few workgroups per core and each workgroup walks many blocks.
import type { GpuContext } from '../context.ts';

const SOFTWARE_GRID = 16;
const software = new WeakMap<GPUDevice, boolean>();

/** True when the device is a CPU implementation of WebGPU. */
export function isSoftwareDevice(device: GPUDevice): boolean {
  let s = software.get(device);
  if (s === undefined) {
    // adapterInfo is recent (Chrome 126+); without it assume hardware.
    const info = device.adapterInfo as GPUAdapterInfo | undefined;
    const text = info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}` : '';
    s = Boolean(info?.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i.test(text);
    software.set(device, s);
  }
  return s;
}

/** Workgroups for a grid-stride kernel over `blocks` blocks (at least 1). */
export function strideGrid(ctx: GpuContext, blocks: number): number {
  const cap = isSoftwareDevice(ctx.device) ? SOFTWARE_GRID : ctx.device.limits.maxComputeWorkgroupsPerDimension;
  return Math.max(1, Math.min(blocks, cap));
}
