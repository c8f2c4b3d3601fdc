// Host side of l2normalize.wgsl (forward) and l2normalize_backward.wgsl (input gradient): one workgroup per row,
// grid-stride over rows (a few looping workgroups on software adapters, see rowgrid.ts).
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { rowGrid } from './rowgrid.ts';

/** Threads per row workgroup (power of two). */
const WG = 256;

export function l2normalize(ctx: GpuContext, x: GpuTensor, m: number, n: number, eps: number): { y: GpuTensor; norm: GpuTensor } {
  const y = ctx.empty([m, n], 'f32', 'l2normalize.y');
  const norm = ctx.empty([m], 'f32', 'l2normalize.norm');
  const { workgroups, gx } = rowGrid(ctx, m);
  ctx.dispatch({
    shader: 'l2normalize',
    overrides: { WG },
    buffers: [x, y, norm],
    params: new Params().u32(m).u32(n).u32(gx).f32(eps),
    workgroups,
  });
  return { y, norm };
}

export function l2normalizeBackward(
  ctx: GpuContext, dy: GpuTensor, y: GpuTensor, norm: GpuTensor, m: number, n: number, eps: number,
): GpuTensor {
  const dx = ctx.empty([m, n], 'f32', 'l2normalize.dx');
  const { workgroups, gx } = rowGrid(ctx, m);
  ctx.dispatch({
    shader: 'l2normalize_backward',
    overrides: { WG },
    buffers: [dy, y, norm, dx],
    params: new Params().u32(m).u32(n).u32(gx).f32(eps),
    workgroups,
  });
  return dx;
}
