// Host side of layernorm.wgsl (forward, one workgroup per row), layernorm_backward.wgsl (dx, one workgroup per row)
// and layernorm_param_grad.wgsl (dgamma, dbeta: one thread per column looping rows in order).
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { launch1d } from './elementwise.ts';
import { rowGrid } from './rowgrid.ts';

/** Threads per row workgroup (power of two). */
const WG_ROW = 256;
/** Threads per workgroup of the column kernel: small, so narrow layers still spread over several workgroups. */
const WG_COL = 64;

export function layernorm(
  ctx: GpuContext, x: GpuTensor, gamma: GpuTensor, beta: GpuTensor, m: number, n: number, eps: number,
): { y: GpuTensor; mean: GpuTensor; rstd: GpuTensor } {
  const y = ctx.empty([m, n], 'f32', 'layernorm.y');
  const mean = ctx.empty([m], 'f32', 'layernorm.mean');
  const rstd = ctx.empty([m], 'f32', 'layernorm.rstd');
  const { workgroups, gx } = rowGrid(ctx, m);
  ctx.dispatch({
    shader: 'layernorm',
    overrides: { WG: WG_ROW },
    buffers: [x, gamma, beta, y, mean, rstd],
    params: new Params().u32(m).u32(n).u32(gx).f32(eps),
    workgroups,
  });
  return { y, mean, rstd };
}

export function layernormBackward(
  ctx: GpuContext, dy: GpuTensor, x: GpuTensor, gamma: GpuTensor, mean: GpuTensor, rstd: GpuTensor, m: number, n: number,
): { dx: GpuTensor; dgamma: GpuTensor; dbeta: GpuTensor } {
  const dx = ctx.empty([m, n], 'f32', 'layernorm.dx');
  const dgamma = ctx.empty([n], 'f32', 'layernorm.dgamma');
  const dbeta = ctx.empty([n], 'f32', 'layernorm.dbeta');
  const rows = rowGrid(ctx, m);
  ctx.dispatch({
    shader: 'layernorm_backward',
    overrides: { WG: WG_ROW },
    buffers: [dy, x, gamma, mean, rstd, dx],
    params: new Params().u32(m).u32(n).u32(rows.gx),
    workgroups: rows.workgroups,
  });
  const cols = launch1d(ctx, n, WG_COL);
  ctx.dispatch({
    shader: 'layernorm_param_grad',
    overrides: { WG: WG_COL },
    buffers: [dy, x, mean, rstd, dgamma, dbeta],
    params: new Params().u32(m).u32(n).u32(cols.rowStride),
    workgroups: cols.workgroups,
  });
  return { dx, dgamma, dbeta };
}
