// Host side of topk.wgsl: top-k (k <= 16) of every row of scores [rows, n], descending, ties to the lower index.
// The TypeScript reference, with the ordering rule spelled out, is src/retrieval/topk-cpu.ts.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { checkTopK, MAX_TOPK } from '../../../retrieval/topk-cpu.ts';
import { rowGrid } from './rowgrid.ts';

/** Threads per row workgroup (power of two; the merge halves it). */
const WG = 64;

export function topk(
  ctx: GpuContext, scores: GpuTensor, rows: number, n: number, k: number,
): { values: GpuTensor; indices: GpuTensor } {
  checkTopK('topk', rows, n, k, MAX_TOPK);
  if (scores.dtype !== 'f32') throw new RangeError(`topk: scores must be f32, got ${scores.dtype}`);
  if (scores.size !== rows * n) throw new RangeError(`topk: scores has ${scores.size} elements, expected ${rows * n} for [${rows}, ${n}]`);
  const values = ctx.empty([rows, k], 'f32', 'topk.values');
  const indices = ctx.empty([rows, k], 'i32', 'topk.indices');
  const { workgroups, gx } = rowGrid(ctx, rows);
  ctx.dispatch({
    shader: 'topk',
    overrides: { WG },
    buffers: [scores, values, indices],
    params: new Params().u32(rows).u32(n).u32(k).u32(gx),
    workgroups,
  });
  return { values, indices };
}
