// The CPU reference Ops: plain TypeScript, synchronous, deterministic (fixed loop orders, float64 sums).
import { checkCopyRows, checkHostData, checkWrite, expectAlive, expectDtype, sizeOf } from '../shapes.ts';
import type { AnyTypedArray, DType, Ops, Tensor } from '../types.ts';
import { adamw } from './adamw.ts';
import { attention, attentionBackward } from './attention.ts';
import { add, addBias, mul, scale } from './elementwise.ts';
import { embedding, embeddingBackward } from './embedding.ts';
import { gelu, geluBackward } from './gelu.ts';
import { l2normalize, l2normalizeBackward } from './l2normalize.ts';
import { layernorm, layernormBackward } from './layernorm.ts';
import { logprob, logprobBackward, logprobUnfused } from './logprob.ts';
import { matmul, matmulInt8 } from './matmul.ts';
import { sum, sumRows } from './reduce.ts';
import { type CachedAttention, attentionCached } from './cached-attention.ts';
import { type PickOp, pick } from './pick.ts';
import { type RowScatter, checkScatterRows } from './row-scatter.ts';
import { sample } from './sample.ts';
import { CpuTensor, anyData, f32, i32, newArray } from './tensor.ts';

const copy = (d: AnyTypedArray): AnyTypedArray => d.slice();

export function createCpuOps(): Ops & RowScatter & PickOp & CachedAttention {
  return {
    tensor(data, shape) {
      const dtype = checkHostData('tensor', data, shape);
      return new CpuTensor(copy(data), shape, dtype);
    },
    zeros(shape, dtype: DType = 'f32') {
      return new CpuTensor(newArray(dtype, sizeOf(shape)), shape, dtype);
    },
    async read(t) {
      return copy(anyData('read', t));
    },
    async readF32(t) {
      expectAlive('readF32', t);
      expectDtype('readF32', 't', t, 'f32');
      return f32('readF32', t).slice();
    },
    async readI32(t) {
      expectAlive('readI32', t);
      expectDtype('readI32', 't', t, 'i32');
      return i32('readI32', t).slice();
    },
    write(t, data) {
      checkWrite(t, data);
      anyData('write', t).set(data);
    },
    copyRows(dst, row, src) {
      checkCopyRows(dst, row, src);
      anyData('copyRows', dst).set(anyData('copyRows', src), row * dst.shape[1]);
    },
    scatterRows(dst, rows, src) {
      const [, n] = checkScatterRows(dst, rows, src);
      const d = anyData('scatterRows', dst);
      const s = anyData('scatterRows', src);
      for (let i = 0; i < rows.length; i++) d.set(s.subarray(i * n, (i + 1) * n), rows[i] * n);
    },
    dispose(t: Tensor) {
      if (t instanceof CpuTensor) t.dispose();
    },
    async flush() {},
    matmul,
    matmulInt8,
    add,
    mul,
    scale,
    addBias,
    sum,
    sumRows,
    embedding,
    embeddingBackward,
    layernorm,
    layernormBackward,
    gelu,
    geluBackward,
    attention,
    attentionCached,
    attentionBackward,
    l2normalize,
    l2normalizeBackward,
    logprob,
    logprobBackward,
    logprobUnfused,
    sample,
    pick,
    adamw,
  };
}
