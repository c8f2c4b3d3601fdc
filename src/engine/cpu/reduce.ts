// Reductions, accumulated in float64 in index order.
import { expectAlive, expectDtype, rowsCols } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

export function sum(x: Tensor): Tensor {
  expectAlive('sum', x);
  expectDtype('sum', 'x', x, 'f32');
  const X = f32('sum', x);
  let s = 0;
  for (let i = 0; i < X.length; i++) s += X[i];
  return f32Tensor(Float32Array.of(s), [1]);
}

export function sumRows(x: Tensor): Tensor {
  const [m, n] = rowsCols('sumRows', 'x', x);
  const X = f32('sumRows', x);
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) acc[j] += X[i * n + j];
  return f32Tensor(Float32Array.from(acc), [n]);
}
