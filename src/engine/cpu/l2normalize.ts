// Row-wise L2 normalization: norm[r] = sqrt(sum_j x[r,j]^2) (float64 sum, rounded to float32), y = x / max(norm, eps)
// with the float32 norm and eps, so forward and backward agree on which rows are clamped. The backward pass:
//   norm >= eps: dx = (dy - y (y . dy)) / norm      norm < eps: dx = dy / eps (y = x / eps is linear in x).
import { checkL2normalize, checkL2normalizeBackward } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

export function l2normalize(x: Tensor, eps: number): { y: Tensor; norm: Tensor } {
  const op = 'l2normalize';
  const [m, n] = checkL2normalize(x, eps);
  const X = f32(op, x);
  const e = Math.fround(eps);
  const y = new Float32Array(m * n);
  const norm = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += X[o + j] * X[o + j];
    const nr = Math.fround(Math.sqrt(s));
    const d = Math.max(nr, e);
    for (let j = 0; j < n; j++) y[o + j] = X[o + j] / d;
    norm[i] = nr;
  }
  return { y: f32Tensor(y, [m, n]), norm: f32Tensor(norm, [m]) };
}

export function l2normalizeBackward(dy: Tensor, y: Tensor, norm: Tensor, eps: number): Tensor {
  const op = 'l2normalizeBackward';
  const [m, n] = checkL2normalizeBackward(dy, y, norm, eps);
  const DY = f32(op, dy);
  const Y = f32(op, y);
  const N = f32(op, norm);
  const e = Math.fround(eps);
  const dx = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    if (N[i] < e) {
      for (let j = 0; j < n; j++) dx[o + j] = DY[o + j] / e;
      continue;
    }
    let s = 0;
    for (let j = 0; j < n; j++) s += Y[o + j] * DY[o + j];
    for (let j = 0; j < n; j++) dx[o + j] = (DY[o + j] - Y[o + j] * s) / N[i];
  }
  return f32Tensor(dx, [m, n]);
}
