// Launch shapes shared by the row-wise kernels (logprob, layernorm, sample, attention).
import type { GpuContext } from '../context.ts';

/**
 * One workgroup per row, folded into 2-D when rows exceed the per-dimension limit. The shader recovers the row as
 * `wid.y * gx + wid.x` and returns (uniformly, per workgroup) when it is past the last row.
 */
export function rowGrid(ctx: GpuContext, rows: number): { workgroups: [number, number]; gx: number } {
  const maxX = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.max(1, Math.min(rows, maxX));
  return { workgroups: [gx, Math.ceil(rows / gx)], gx };
}
