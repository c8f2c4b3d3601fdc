// Attention forward (out, lse) and backward (dq, dk, dv) against the cpu reference. Causal: training (tq = tk),
// decoding with a KV cache (tq = 1) and a prefix (tq < tk), odd head dims. Bidirectional (the encoder): with and
// without padded keys (keyLengths, including a length-1 entry and a full one), odd head dims; causal with padding.
import type { AttentionSpec } from '../types.ts';
import { mat, runOnBoth, type ConformanceCase } from './harness.ts';

interface Shape {
  spec: AttentionSpec;
  headDim: number;
  label: string;
}

const shapes: Shape[] = [
  { spec: { batch: 1, heads: 1, tq: 1, tk: 1 }, headDim: 1, label: 'single' },
  { spec: { batch: 1, heads: 2, tq: 9, tk: 9 }, headDim: 1, label: 'train' },
  { spec: { batch: 2, heads: 3, tq: 7, tk: 7 }, headDim: 3, label: 'train' },
  { spec: { batch: 2, heads: 4, tq: 33, tk: 33 }, headDim: 16, label: 'train' },
  { spec: { batch: 1, heads: 2, tq: 64, tk: 64 }, headDim: 64, label: 'train' },
  { spec: { batch: 2, heads: 4, tq: 1, tk: 17 }, headDim: 16, label: 'decode' },
  { spec: { batch: 1, heads: 2, tq: 1, tk: 17 }, headDim: 64, label: 'decode' },
  { spec: { batch: 2, heads: 3, tq: 5, tk: 12 }, headDim: 3, label: 'prefix' },
  { spec: { batch: 2, heads: 2, tq: 5, tk: 12, scale: 0.7 }, headDim: 16, label: 'prefix, scale 0.7' },
  { spec: { batch: 1, heads: 1, tq: 1, tk: 1, causal: false }, headDim: 1, label: 'single' },
  { spec: { batch: 2, heads: 3, tq: 7, tk: 7, causal: false }, headDim: 3, label: 'encoder' },
  { spec: { batch: 2, heads: 2, tq: 9, tk: 9, causal: false }, headDim: 5, label: 'encoder' },
  { spec: { batch: 2, heads: 4, tq: 33, tk: 33, causal: false }, headDim: 16, label: 'encoder' },
  { spec: { batch: 3, heads: 2, tq: 8, tk: 8, causal: false, keyLengths: Int32Array.of(1, 8, 6) }, headDim: 3, label: 'encoder' },
  { spec: { batch: 3, heads: 3, tq: 13, tk: 13, causal: false, keyLengths: Int32Array.of(1, 13, 11) }, headDim: 7, label: 'encoder' },
  { spec: { batch: 3, heads: 2, tq: 40, tk: 40, causal: false, keyLengths: Int32Array.of(1, 40, 38) }, headDim: 32, label: 'encoder' },
  { spec: { batch: 2, heads: 2, tq: 3, tk: 10, causal: false, keyLengths: Int32Array.of(4, 10), scale: 0.6 }, headDim: 5, label: 'prefix, scale 0.6' },
  { spec: { batch: 3, heads: 2, tq: 9, tk: 9, keyLengths: Int32Array.of(1, 9, 7) }, headDim: 3, label: 'train' },
  { spec: { batch: 2, heads: 2, tq: 1, tk: 12, keyLengths: Int32Array.of(5, 12) }, headDim: 4, label: 'decode' },
];

/** Mask part of a case name: "bidir lens 1,8,6". */
function maskTag(spec: AttentionSpec): string {
  const parts = [spec.causal === false ? 'bidir' : '', spec.keyLengths ? `lens ${Array.from(spec.keyLengths).join(',')}` : ''];
  return parts.filter(Boolean).map((p) => ` ${p}`).join('');
}

export const attentionCases: ConformanceCase[] = shapes.map(
  ({ spec, headDim, label }): ConformanceCase => ({
    kernel: 'attention',
    name: `${label} b${spec.batch} h${spec.heads} tq${spec.tq} tk${spec.tk} d${headDim}${maskTag(spec)} fwd+bwd`,
    run: (ref, gpu, rng) => {
      const w = spec.heads * headDim;
      const qRows = spec.batch * spec.tq;
      const kRows = spec.batch * spec.tk;
      return runOnBoth(
        ref,
        gpu,
        {
          q: mat(rng.normalArray(qRows * w), qRows, w),
          k: mat(rng.normalArray(kRows * w), kRows, w),
          v: mat(rng.normalArray(kRows * w), kRows, w),
          dOut: mat(rng.normalArray(qRows * w), qRows, w),
        },
        (o, t) => {
          const { out, lse } = o.attention(t.q, t.k, t.v, spec);
          const { dq, dk, dv } = o.attentionBackward(t.dOut, t.q, t.k, t.v, out, lse, spec);
          return { out, lse, dq, dk, dv };
        },
        { atol: 2e-4, rtol: 2e-4 },
      );
    },
  }),
);
