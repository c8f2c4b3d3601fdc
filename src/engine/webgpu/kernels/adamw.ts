// Host side of adamw.wgsl: one in-place AdamW step; bias corrections computed here in double precision.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import type { AdamWOptions } from '../../types.ts';
import { launch1d } from './elementwise.ts';

export function adamw(ctx: GpuContext, p: GpuTensor, g: GpuTensor, m: GpuTensor, v: GpuTensor, opts: AdamWOptions): void {
  const n = p.size;
  if (n === 0) return;
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const { workgroups, rowStride } = launch1d(ctx, n);
  ctx.dispatch({
    shader: 'adamw',
    buffers: [p, g, m, v],
    params: new Params()
      .u32(n)
      .u32(rowStride)
      .f32(lr)
      .f32(beta1)
      .f32(1 - beta1)
      .f32(beta2)
      .f32(1 - beta2)
      .f32(eps)
      .f32(weightDecay)
      .f32(1 - beta1 ** step)
      .f32(1 - beta2 ** step),
    workgroups,
  });
}
