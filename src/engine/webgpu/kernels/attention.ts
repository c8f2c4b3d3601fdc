// Host side of attention.wgsl (flash-style forward: one thread per (batch, head, query row), online softmax,
// private output accumulator) and the backward kernels attention_bwd_delta.wgsl (D = dO . O),
// attention_bwd_dq.wgsl (per query row) and attention_bwd_dkdv.wgsl (per key row). No atomics: deterministic.
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import type { AttentionSpec } from '../../types.ts';
import { ShapeError } from '../../errors.ts';
import { launch1d } from './elementwise.ts';

/** Threads per workgroup; each thread owns one row. */
const WG = 64;
/** Must match MAXD in the attention shaders (private accumulator size). */
export const MAX_HEAD_DIM = 128;

function checkHeadDim(op: string, headDim: number): void {
  if (headDim > MAX_HEAD_DIM)
    throw new ShapeError(`${op}: headDim ${headDim} exceeds the WebGPU kernel limit of ${MAX_HEAD_DIM}`);
}

function params(rows: number, rowStride: number, spec: AttentionSpec, headDim: number): Params {
  return new Params()
    .u32(rows)
    .u32(rowStride)
    .u32(spec.tq)
    .u32(spec.tk)
    .u32(spec.heads)
    .u32(headDim)
    .f32(spec.scale ?? 1 / Math.sqrt(headDim));
}

export function attention(
  ctx: GpuContext, q: GpuTensor, k: GpuTensor, v: GpuTensor, spec: AttentionSpec, headDim: number,
): { out: GpuTensor; lse: GpuTensor } {
  checkHeadDim('attention', headDim);
  const rows = spec.batch * spec.heads * spec.tq;
  const out = ctx.empty(q.shape, 'f32', 'attention.out');
  const lse = ctx.empty([rows], 'f32', 'attention.lse');
  const { workgroups, rowStride } = launch1d(ctx, rows, WG);
  ctx.dispatch({
    shader: 'attention',
    overrides: { WG },
    buffers: [q, k, v, out, lse],
    params: params(rows, rowStride, spec, headDim),
    workgroups,
  });
  return { out, lse };
}

export function attentionBackward(
  ctx: GpuContext, dOut: GpuTensor, q: GpuTensor, k: GpuTensor, v: GpuTensor, out: GpuTensor, lse: GpuTensor,
  spec: AttentionSpec, headDim: number,
): { dq: GpuTensor; dk: GpuTensor; dv: GpuTensor } {
  checkHeadDim('attentionBackward', headDim);
  const qRows = spec.batch * spec.heads * spec.tq;
  const kRows = spec.batch * spec.heads * spec.tk;
  const delta = ctx.empty([qRows], 'f32', 'attention.delta');
  const dq = ctx.empty(q.shape, 'f32', 'attention.dq');
  const dk = ctx.empty(k.shape, 'f32', 'attention.dk');
  const dv = ctx.empty(v.shape, 'f32', 'attention.dv');
  const ql = launch1d(ctx, qRows, WG);
  ctx.dispatch({
    shader: 'attention_bwd_delta',
    overrides: { WG },
    buffers: [dOut, out, delta],
    params: params(qRows, ql.rowStride, spec, headDim),
    workgroups: ql.workgroups,
  });
  ctx.dispatch({
    shader: 'attention_bwd_dq',
    overrides: { WG },
    buffers: [dOut, q, k, v, lse, delta, dq],
    params: params(qRows, ql.rowStride, spec, headDim),
    workgroups: ql.workgroups,
  });
  const kl = launch1d(ctx, kRows, WG);
  ctx.dispatch({
    shader: 'attention_bwd_dkdv',
    overrides: { WG },
    buffers: [dOut, q, k, v, lse, delta, dk, dv],
    params: params(kRows, kl.rowStride, spec, headDim),
    workgroups: kl.workgroups,
  });
  ctx.release(delta);
  return { dq, dk, dv };
}
