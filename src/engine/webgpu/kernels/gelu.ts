// Host side of gelu.wgsl and gelu_backward.wgsl (elementwise, 1-D launches folded into 2-D).
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { launch1d } from './elementwise.ts';

const WG = 256;

export function gelu(ctx: GpuContext, x: GpuTensor): GpuTensor {
  const out = ctx.empty(x.shape, 'f32', 'gelu');
  const { workgroups, rowStride } = launch1d(ctx, x.size, WG);
  ctx.dispatch({ shader: 'gelu', overrides: { WG }, buffers: [x, out], params: new Params().u32(x.size).u32(rowStride), workgroups });
  return out;
}

export function geluBackward(ctx: GpuContext, dy: GpuTensor, x: GpuTensor): GpuTensor {
  const dx = ctx.empty(x.shape, 'f32', 'gelu.dx');
  const { workgroups, rowStride } = launch1d(ctx, x.size, WG);
  ctx.dispatch({
    shader: 'gelu_backward',
    overrides: { WG },
    buffers: [dy, x, dx],
    params: new Params().u32(x.size).u32(rowStride),
    workgroups,
  });
  return dx;
}
