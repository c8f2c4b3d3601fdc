// Host side of logprob.wgsl (fused log-softmax + gather), logprob_backward.wgsl (in-place gradient) and the
// unfused benchmark anchor: logsoftmax_rowmax.wgsl, logsoftmax_rowsum.wgsl, logsoftmax_write.wgsl, gather_rows.wgsl.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { launch1d } from './elementwise.ts';
import { rowGrid } from './rowgrid.ts';

/** Threads per row workgroup (power of two). */
const WG = 256;

/** logp[r] = logits[r, targets[r]] - lse[r], lse[r] = logsumexp(logits[r]); one pass over the logits. */
export function logprob(
  ctx: GpuContext, logits: GpuTensor, targets: GpuTensor, rows: number, vocab: number,
): { logp: GpuTensor; lse: GpuTensor } {
  const logp = ctx.empty([rows], 'f32', 'logp');
  const lse = ctx.empty([rows], 'f32', 'lse');
  const { workgroups, gx } = rowGrid(ctx, rows);
  ctx.dispatch({
    shader: 'logprob',
    overrides: { WG },
    buffers: [logits, targets, logp, lse],
    params: new Params().u32(rows).u32(vocab).u32(gx),
    workgroups,
  });
  return { logp, lse };
}

/** In place: logits <- (exp(logits - lse) - onehot(targets)) * weight (per row). Returns `logits`. */
export function logprobBackward(
  ctx: GpuContext, logits: GpuTensor, targets: GpuTensor, lse: GpuTensor, weight: GpuTensor, rows: number, vocab: number,
): GpuTensor {
  const n = rows * vocab;
  const { workgroups, rowStride } = launch1d(ctx, n, WG);
  ctx.dispatch({
    shader: 'logprob_backward',
    overrides: { WG },
    buffers: [logits, targets, lse, weight],
    params: new Params().u32(n).u32(rowStride).u32(vocab),
    workgroups,
  });
  return logits;
}

/** The textbook path: row max, row sum of exp, a materialized [rows, vocab] log-softmax, then a gather. */
export function logprobUnfused(ctx: GpuContext, logits: GpuTensor, targets: GpuTensor, rows: number, vocab: number): GpuTensor {
  const rowmax = ctx.empty([rows], 'f32', 'rowmax');
  const rowsum = ctx.empty([rows], 'f32', 'rowsum');
  const logsm = ctx.empty([rows, vocab], 'f32', 'logsoftmax');
  const out = ctx.empty([rows], 'f32', 'logp');
  const { workgroups, gx } = rowGrid(ctx, rows);
  const rowParams = (): Params => new Params().u32(rows).u32(vocab).u32(gx);
  ctx.dispatch({ shader: 'logsoftmax_rowmax', overrides: { WG }, buffers: [logits, rowmax], params: rowParams(), workgroups });
  ctx.dispatch({ shader: 'logsoftmax_rowsum', overrides: { WG }, buffers: [logits, rowmax, rowsum], params: rowParams(), workgroups });
  const n = rows * vocab;
  const flat = launch1d(ctx, n, WG);
  ctx.dispatch({
    shader: 'logsoftmax_write',
    overrides: { WG },
    buffers: [logits, rowmax, rowsum, logsm],
    params: new Params().u32(n).u32(flat.rowStride).u32(vocab),
    workgroups: flat.workgroups,
  });
  const g = launch1d(ctx, rows, WG);
  ctx.dispatch({
    shader: 'gather_rows',
    overrides: { WG },
    buffers: [logsm, targets, out],
    params: new Params().u32(rows).u32(g.rowStride).u32(vocab),
    workgroups: g.workgroups,
  });
  for (const t of [rowmax, rowsum, logsm]) ctx.release(t);
  return out;
}
