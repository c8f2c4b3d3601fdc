// Dense matmul (all transposition cases) and int8-weight matmul. Sums run over k in ascending order in
// float64 (products of two float32 values are exact in float64), then round once to float32.
import { ShapeError } from '../errors.ts';
import { checkMatmul, checkMatmulInt8 } from '../shapes.ts';
import type { Int8Weight, MatmulOptions, Tensor } from '../types.ts';
import { f32, f32Tensor, u32 } from './tensor.ts';

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const [m, k, n] = checkMatmul(a, b, opts);
  const A = f32('matmul', a);
  const B = f32('matmul', b);
  // Element strides of op(a)[i, p] and op(b)[p, j] in the stored arrays.
  const [ai, ap] = opts.transA ? [1, m] : [k, 1];
  const [bp, bj] = opts.transB ? [1, k] : [n, 1];
  const out = new Float32Array(m * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const x = A[i * ai + p * ap];
      const row = p * bp;
      for (let j = 0; j < n; j++) acc[j] += x * B[row + j * bj];
    }
    for (let j = 0; j < n; j++) out[i * n + j] = acc[j];
  }
  return f32Tensor(out, [m, n]);
}

/** Signed byte j (0..3) of a packed word. */
const byteOf = (word: number, j: number): number => ((word << (24 - 8 * j)) >> 24);

export function matmulInt8(a: Tensor, w: Int8Weight): Tensor {
  const [m, k, n] = checkMatmulInt8(a, w);
  const A = f32('matmulInt8', a);
  const Q = u32('matmulInt8', w.q);
  const S = f32('matmulInt8', w.scales);
  const words = Math.ceil(k / 4);
  const col = new Float64Array(k);
  const out = new Float32Array(m * n);
  for (let c = 0; c < n; c++) {
    for (let p = 0; p < k; p++) col[p] = byteOf(Q[c * words + (p >> 2)], p & 3);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[i * k + p] * col[p];
      out[i * n + c] = s * S[c];
    }
  }
  return f32Tensor(out, [m, n]);
}

/**
 * Quantizes W [K, N] (row-major) per output column n: scale = max|W[:, n]| / 127 (rounded to float32), q8 =
 * round-half-away-from-zero(W / scale) clamped to [-127, 127]. An all-zero column gets scale 1 (its q8 are all 0,
 * so it dequantizes to exact zeros without dividing by zero). Packed as in Int8Weight: u32 [N, ceil(K/4)],
 * lowest byte first, padding bytes zero.
 */
export function quantizeInt8(w: Float32Array, k: number, n: number): { q: Uint32Array; scales: Float32Array } {
  if (w.length !== k * n) throw new ShapeError(`quantizeInt8: w has ${w.length} elements, expected ${k * n} for [${k}, ${n}]`);
  const words = Math.ceil(k / 4);
  const q = new Uint32Array(n * words);
  const scales = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    let max = 0;
    for (let p = 0; p < k; p++) max = Math.max(max, Math.abs(w[p * n + c]));
    if (!Number.isFinite(max)) throw new ShapeError(`quantizeInt8: column ${c} has a non-finite value`);
    scales[c] = max > 0 ? max / 127 : 1;
    const s = scales[c];
    for (let p = 0; p < k; p++) {
      const x = w[p * n + c] / s;
      const r = Math.max(-127, Math.min(127, Math.sign(x) * Math.round(Math.abs(x))));
      q[c * words + (p >> 2)] |= (r & 0xff) << (8 * (p & 3));
    }
  }
  return { q, scales };
}
