// Host side of sum.wgsl and sum_rows.wgsl. Both are multi-pass tree reductions whose summation order depends
// only on the shape, so results are deterministic (no atomics, no order that depends on scheduling).
import { GpuContext, Params, ceilDiv } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { strideGrid } from './grid.ts';

const SUM_WG = 256;
const SUM_ITEMS = 16; // elements per invocation per pass: one pass shrinks n by 4096
const SUM_CHUNK = SUM_WG * SUM_ITEMS;
const ROWS_COLS = 64; // columns per sum_rows workgroup (4 row slices of 64 columns)
const ROWS_CHUNK = 256; // rows per sum_rows workgroup: one pass shrinks m by 256

/** Sum of all elements of x -> [1]. */
export function sum(ctx: GpuContext, x: GpuTensor): GpuTensor {
  if (x.size === 0) return ctx.upload(new Float32Array(1), [1], 'f32');
  let cur = x;
  let count = x.size;
  do {
    const groups = ceilDiv(count, SUM_CHUNK);
    const out = ctx.empty([groups], 'f32', 'sum');
    ctx.dispatch({
      shader: 'sum',
      overrides: { WG: SUM_WG, ITEMS: SUM_ITEMS },
      buffers: [cur, out],
      params: new Params().u32(count).u32(groups),
      workgroups: [strideGrid(ctx, groups)],
    });
    if (cur !== x) ctx.release(cur);
    cur = out;
    count = groups;
  } while (count > 1);
  return cur;
}

/** Column sums of x [m, n] -> [n]. */
export function sumRows(ctx: GpuContext, x: GpuTensor, m: number, n: number): GpuTensor {
  if (m === 0 || n === 0) return ctx.upload(new Float32Array(n), [n], 'f32');
  let cur = x;
  let rows = m;
  do {
    const chunks = ceilDiv(rows, ROWS_CHUNK);
    const out = ctx.empty(chunks === 1 ? [n] : [chunks, n], 'f32', 'sumRows');
    const colBlocks = ceilDiv(n, ROWS_COLS);
    const blocks = colBlocks * chunks;
    ctx.dispatch({
      shader: 'sum_rows',
      overrides: { COLS: ROWS_COLS },
      buffers: [cur, out],
      params: new Params().u32(rows).u32(n).u32(ROWS_CHUNK).u32(colBlocks).u32(blocks),
      workgroups: [strideGrid(ctx, blocks)],
    });
    if (cur !== x) ctx.release(cur);
    cur = out;
    rows = chunks;
  } while (rows > 1);
  return cur;
}
