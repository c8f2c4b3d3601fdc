// Host side of add.wgsl, mul.wgsl, scale.wgsl, add_bias.wgsl.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';

const WG = 256;

/** A 1-D launch over n elements, folded into 2-D when n needs more than 65535 workgroups. */
export function launch1d(ctx: GpuContext, n: number, wg = WG): { workgroups: [number, number]; rowStride: number } {
  const groups = Math.ceil(n / wg);
  const maxX = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.min(groups, maxX);
  const gy = Math.ceil(groups / gx);
  return { workgroups: [gx, gy], rowStride: gx * wg };
}

function binary(ctx: GpuContext, shader: string, a: GpuTensor, b: GpuTensor): GpuTensor {
  const out = ctx.empty(a.shape);
  const { workgroups, rowStride } = launch1d(ctx, a.size);
  ctx.dispatch({ shader, buffers: [a, b, out], params: new Params().u32(a.size).u32(rowStride), workgroups });
  return out;
}

export const add = (ctx: GpuContext, a: GpuTensor, b: GpuTensor): GpuTensor => binary(ctx, 'add', a, b);
export const mul = (ctx: GpuContext, a: GpuTensor, b: GpuTensor): GpuTensor => binary(ctx, 'mul', a, b);

export function scale(ctx: GpuContext, x: GpuTensor, s: number): GpuTensor {
  const out = ctx.empty(x.shape);
  const { workgroups, rowStride } = launch1d(ctx, x.size);
  ctx.dispatch({ shader: 'scale', buffers: [x, out], params: new Params().u32(x.size).u32(rowStride).f32(s), workgroups });
  return out;
}

export function addBias(ctx: GpuContext, x: GpuTensor, bias: GpuTensor): GpuTensor {
  const out = ctx.empty(x.shape);
  const { workgroups, rowStride } = launch1d(ctx, x.size);
  ctx.dispatch({
    shader: 'add_bias',
    buffers: [x, bias, out],
    params: new Params().u32(x.size).u32(rowStride).u32(x.shape[1]),
    workgroups,
  });
  return out;
}
