// Host side of sample.wgsl: nucleus sampling, one workgroup per row, threshold by bisection (no sort), then an
// inverse-CDF in index order over contiguous per-thread chunks. Matches the cpu reference's rule exactly; see the
// shader header.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import type { SampleOptions } from '../../types.ts';
import { rowGrid } from './rowgrid.ts';

/** Threads per row workgroup (power of two). */
const WG = 256;

export function sample(
  ctx: GpuContext, logits: GpuTensor, uniforms: GpuTensor, rows: number, vocab: number, opts: SampleOptions,
): GpuTensor {
  const out = ctx.empty([rows], 'i32', 'sample');
  const { workgroups, gx } = rowGrid(ctx, rows);
  // topP in float64 as hi + lo float32 halves, so the nucleus mass target is not moved by rounding topP to f32.
  const topPHi = Math.fround(opts.topP);
  const topPLo = Math.fround(opts.topP - topPHi);
  ctx.dispatch({
    shader: 'sample',
    overrides: { WG },
    buffers: [logits, uniforms, out],
    params: new Params()
      .u32(rows)
      .u32(vocab)
      .u32(gx)
      .u32(opts.topP < 1 ? 1 : 0)
      .f32(opts.temperature)
      .f32(topPHi)
      .f32(topPLo),
    workgroups,
  });
  return out;
}
