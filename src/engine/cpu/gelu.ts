// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Computed in float64.
import { expectAlive, expectDtype, sameShape } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

export function gelu(x: Tensor): Tensor {
  expectAlive('gelu', x);
  expectDtype('gelu', 'x', x, 'f32');
  const X = f32('gelu', x);
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const v = X[i];
    out[i] = 0.5 * v * (1 + Math.tanh(C * (v + A * v * v * v)));
  }
  return f32Tensor(out, x.shape);
}

/** dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) C (1 + 3 A x^2)), t = tanh(C (x + A x^3)). */
export function geluBackward(dy: Tensor, x: Tensor): Tensor {
  const op = 'geluBackward';
  expectAlive(op, dy, x);
  expectDtype(op, 'x', x, 'f32');
  sameShape(op, dy, x);
  const DY = f32(op, dy);
  const X = f32(op, x);
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const v = X[i];
    const t = Math.tanh(C * (v + A * v * v * v));
    out[i] = DY[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v));
  }
  return f32Tensor(out, x.shape);
}
