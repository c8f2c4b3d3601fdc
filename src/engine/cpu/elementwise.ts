// Elementwise ops. One float32 add or multiply computed in float64 and rounded once is the correctly rounded
// float32 result, so these match any IEEE fp32 implementation bit for bit.
import { checkAddBias, checkElementwise, expectAlive, expectDtype } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

function zip(op: string, a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  checkElementwise(op, a, b);
  const A = f32(op, a);
  const B = f32(op, b);
  const out = new Float32Array(A.length);
  for (let i = 0; i < A.length; i++) out[i] = f(A[i], B[i]);
  return f32Tensor(out, a.shape);
}

export const add = (a: Tensor, b: Tensor): Tensor => zip('add', a, b, (x, y) => x + y);
export const mul = (a: Tensor, b: Tensor): Tensor => zip('mul', a, b, (x, y) => x * y);

export function scale(x: Tensor, s: number): Tensor {
  expectAlive('scale', x);
  expectDtype('scale', 'x', x, 'f32');
  const X = f32('scale', x);
  const k = Math.fround(s);
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = X[i] * k;
  return f32Tensor(out, x.shape);
}

export function addBias(x: Tensor, bias: Tensor): Tensor {
  const [m, n] = checkAddBias(x, bias);
  const X = f32('addBias', x);
  const B = f32('addBias', bias);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = X[i * n + j] + B[j];
  return f32Tensor(out, [m, n]);
}
