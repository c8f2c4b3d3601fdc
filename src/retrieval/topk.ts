// Top-k over a backend's tensor, outside the Ops interface: the WGSL kernel (shaders/topk.wgsl) when the tensor
// lives on the webgpu backend, else the host reference (topk-cpu.ts) on the read-back scores. Both give the
// same result bit for bit: descending score, ties to the lower column index, k <= 16 (MAX_TOPK).
import type { Ops, Tensor } from '../engine/types.ts';
import { gpuContextOf } from '../engine/webgpu/ops-context.ts';
import { topk as gpuTopk } from '../engine/webgpu/kernels/topk.ts';
import { asGpu } from '../engine/webgpu/tensor.ts';
import { checkTopK, MAX_TOPK, topkCpu, type TopKResult } from './topk-cpu.ts';

export { MAX_TOPK, type TopKResult } from './topk-cpu.ts';

export interface TopKTensors {
  /** f32 [rows, k]. */
  values: Tensor;
  /** i32 [rows, k]. */
  indices: Tensor;
}

function dims(scores: Tensor, k: number): [number, number] {
  if (scores.disposed) throw new RangeError(`topk: scores ${JSON.stringify(scores.shape)} was already disposed`);
  if (scores.shape.length !== 2) throw new RangeError(`topk: scores must be 2-D [rows, n], got ${JSON.stringify(scores.shape)}`);
  if (scores.dtype !== 'f32') throw new RangeError(`topk: scores must be f32, got ${scores.dtype}`);
  const [rows, n] = scores.shape;
  checkTopK('topk', rows, n, k, MAX_TOPK);
  return [rows, n];
}

/**
 * topk(scores [rows, n], k) -> values f32 [rows, k], indices i32 [rows, k], on the tensor's backend. On webgpu
 * nothing is read back (the result stays on the GPU until read); on cpu the scores are read and the result
 * uploaded. The caller disposes the returned tensors.
 */
export async function topk(ops: Ops, scores: Tensor, k: number): Promise<TopKTensors> {
  const [rows, n] = dims(scores, k);
  if (scores.backend === 'webgpu') {
    const ctx = gpuContextOf(ops);
    if (!ctx) throw new Error('topk: the scores live on webgpu but these Ops are not a webgpu backend of ours');
    return gpuTopk(ctx, asGpu(scores), rows, n, k);
  }
  const r = topkCpu(await ops.readF32(scores), rows, n, k);
  return { values: ops.tensor(r.values, [rows, k]), indices: ops.tensor(r.indices, [rows, k]) };
}

/** topk, with the result read back to the host. */
export async function topkToHost(ops: Ops, scores: Tensor, k: number): Promise<TopKResult> {
  const [rows, n] = dims(scores, k);
  if (scores.backend !== 'webgpu') return topkCpu(await ops.readF32(scores), rows, n, k);
  const t = await topk(ops, scores, k);
  try {
    return { values: await ops.readF32(t.values), indices: await ops.readI32(t.indices) };
  } finally {
    ops.dispose(t.values);
    ops.dispose(t.indices);
  }
}
