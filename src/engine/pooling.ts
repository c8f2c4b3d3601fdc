// Host-built pooling matrices: masked mean pooling as a plain matmul, so the tape needs no pooling op.
// pooled [B, D] = matmul(P [B, B*T], H [B*T, D]) with P a constant leaf (tape.input); its backward is
// matmul(P^T, g), which gives padded positions zero gradient.
import { ShapeError } from './errors.ts';

/**
 * P [B, B*T] (row-major) with P[b, b*T + j] = 1 / lengths[b] for j < lengths[b], 0 elsewhere: row b of
 * matmul(P, H) is the mean of the first lengths[b] rows of sequence b of H [B*T, D]. Requires 1 <= lengths[b] <= t.
 */
export function meanPoolMatrix(lengths: Int32Array, t: number): Float32Array {
  if (!(lengths instanceof Int32Array)) throw new ShapeError('meanPoolMatrix: lengths must be an Int32Array');
  if (!Number.isInteger(t) || t < 1) throw new ShapeError(`meanPoolMatrix: t must be a positive integer, got ${t}`);
  const b = lengths.length;
  const p = new Float32Array(b * b * t);
  for (let i = 0; i < b; i++) {
    const len = lengths[i];
    if (!(len >= 1 && len <= t)) throw new ShapeError(`meanPoolMatrix: lengths[${i}] = ${len} is outside [1, t = ${t}]`);
    const w = 1 / len;
    const row = i * b * t + i * t;
    p.fill(w, row, row + len);
  }
  return p;
}
