// Launch shapes shared by the row-wise kernels (logprob and its unfused anchor, layernorm, sample).
import type { GpuContext } from '../context.ts';
import { isSoftwareDevice } from './grid.ts';

/** Workgroups per row-wise dispatch on software adapters, where each barrier-using workgroup costs ~2 ms. */
const SOFTWARE_ROW_GROUPS = 8;

/**
 * The shaders walk rows grid-stride: row = wid.y * gx + wid.x, then += (workgroups in x) * (workgroups in y).
 * Hardware GPUs get one workgroup per row (folded into 2-D past the per-dimension limit); software adapters a
 * few workgroups that each take many rows.
 */
export function rowGrid(ctx: GpuContext, rows: number): { workgroups: [number, number]; gx: number } {
  const cap = isSoftwareDevice(ctx.device) ? SOFTWARE_ROW_GROUPS : ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.max(1, Math.min(rows, cap));
  const gy = isSoftwareDevice(ctx.device) ? 1 : Math.ceil(rows / gx);
  return { workgroups: [gx, gy], gx };
}
