// Host side of attention.wgsl (flash-style forward: one thread per (batch, head, query row), online softmax,
// private output accumulator) and the backward kernels attention_bwd_delta.wgsl (D = dO . O),
// attention_bwd_dq.wgsl (per query row) and attention_bwd_dkdv.wgsl (per key row). No atomics: deterministic.
// Masks (AttentionSpec): `causal` goes in the uniform block; keyLengths, when given, are uploaded per call as a small
// i32 buffer (released once the dispatches are submitted); without them a shared 1-element placeholder is bound.
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
    .f32(spec.scale ?? 1 / Math.sqrt(headDim))
    .u32(spec.causal === false ? 0 : 1)
    .u32(spec.keyLengths ? 1 : 0);
}

/** One never-released 1-element i32 buffer per context, bound when no keyLengths are given. */
const placeholders = new WeakMap<GpuContext, GpuTensor>();

/** The lengths binding: [buffer, owned] where owned buffers are released by the caller after its dispatches. */
function lengthsBuffer(ctx: GpuContext, spec: AttentionSpec): [GpuTensor, boolean] {
  if (spec.keyLengths) return [ctx.upload(spec.keyLengths, [spec.keyLengths.length], 'i32'), true];
  let t = placeholders.get(ctx);
  if (!t) {
    t = ctx.upload(new Int32Array(1), [1], 'i32');
    placeholders.set(ctx, t);
  }
  return [t, false];
}

export function attention(
  ctx: GpuContext, q: GpuTensor, k: GpuTensor, v: GpuTensor, spec: AttentionSpec, headDim: number,
): { out: GpuTensor; lse: GpuTensor } {
  checkHeadDim('attention', headDim);
  const rows = spec.batch * spec.heads * spec.tq;
  const out = ctx.empty(q.shape, 'f32', 'attention.out');
  const lse = ctx.empty([rows], 'f32', 'attention.lse');
  const { workgroups, rowStride } = launch1d(ctx, rows, WG);
  const [lens, owned] = lengthsBuffer(ctx, spec);
  ctx.dispatch({
    shader: 'attention',
    overrides: { WG },
    buffers: [q, k, v, out, lse, lens],
    params: params(rows, rowStride, spec, headDim),
    workgroups,
  });
  if (owned) ctx.release(lens);
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
  const [lens, owned] = lengthsBuffer(ctx, spec);
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
    buffers: [dOut, q, k, v, lse, delta, dq, lens],
    params: params(qRows, ql.rowStride, spec, headDim),
    workgroups: ql.workgroups,
  });
  const kl = launch1d(ctx, kRows, WG);
  ctx.dispatch({
    shader: 'attention_bwd_dkdv',
    overrides: { WG },
    buffers: [dOut, q, k, v, lse, delta, dk, dv, lens],
    params: params(kRows, kl.rowStride, spec, headDim),
    workgroups: kl.workgroups,
  });
  ctx.release(delta);
  if (owned) ctx.release(lens);
  return { dq, dk, dv };
}
