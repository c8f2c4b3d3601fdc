// Host side of embedding.wgsl (gather) and embedding_backward.wgsl (deterministic scatter-add via a host CSR).
import { GpuContext, Params } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import { launch1d } from './elementwise.ts';

/** table [vocab, dim] gathered at ids (i32, nIds values) -> [nIds, dim]; out-of-range ids give zero rows. */
export function embedding(
  ctx: GpuContext, table: GpuTensor, ids: GpuTensor, nIds: number, vocab: number, dim: number,
): GpuTensor {
  const out = ctx.empty([nIds, dim], 'f32', 'embedding');
  const total = nIds * dim;
  if (total === 0) return out;
  const { workgroups, rowStride } = launch1d(ctx, total);
  ctx.dispatch({
    shader: 'embedding',
    buffers: [table, ids, out],
    params: new Params().u32(total).u32(rowStride).u32(vocab).u32(dim),
    workgroups,
  });
  return out;
}

/**
 * Token positions grouped by id: positions[rowStart[v] .. rowStart[v + 1]) are the i with ids[i] == v, in
 * increasing order (a stable counting sort).
 */
export function buildCsr(ids: Int32Array, vocab: number): { rowStart: Uint32Array; positions: Uint32Array } {
  const rowStart = new Uint32Array(vocab + 1);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < vocab)) throw new Error(`embeddingBackward: ids[${i}] = ${id} is outside [0, ${vocab})`);
    rowStart[id + 1]++;
  }
  for (let v = 0; v < vocab; v++) rowStart[v + 1] += rowStart[v];
  const next = rowStart.slice(0, vocab);
  const positions = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) positions[next[ids[i]]++] = i;
  return { rowStart, positions };
}

/** Scatter-add of dOut [n, dim] into a fresh [vocab, dim] gradient, n = ids.length. */
export function embeddingBackward(ctx: GpuContext, dOut: GpuTensor, ids: Int32Array, vocab: number, dim: number): GpuTensor {
  const out = ctx.empty([vocab, dim], 'f32', 'embeddingBackward');
  const total = vocab * dim;
  if (total === 0) return out;
  const { rowStart, positions } = buildCsr(ids, vocab);
  const rs = ctx.upload(rowStart, [vocab + 1], 'u32');
  const pos = ctx.upload(positions, [positions.length], 'u32');
  const { workgroups, rowStride } = launch1d(ctx, total);
  ctx.dispatch({
    shader: 'embedding_backward',
    buffers: [dOut, rs, pos, out],
    params: new Params().u32(total).u32(rowStride).u32(dim),
    workgroups,
  });
  ctx.release(rs);
  ctx.release(pos);
  return out;
}
