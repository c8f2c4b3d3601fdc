// AdamW, in place, per element in float64: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// mhat = m / (1 - b1^step); vhat = v / (1 - b2^step); p -= lr (mhat / (sqrt(vhat) + eps) + wd p).
import { checkAdamW } from '../shapes.ts';
import type { AdamWOptions, Tensor } from '../types.ts';
import { f32 } from './tensor.ts';

export function adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
  checkAdamW(param, grad, m, v, opts);
  const [P, G, M, V] = [param, grad, m, v].map((t) => f32('adamw', t));
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step } = opts;
  const c1 = 1 - b1 ** step;
  const c2 = 1 - b2 ** step;
  for (let i = 0; i < P.length; i++) {
    const g = G[i];
    M[i] = b1 * M[i] + (1 - b1) * g;
    V[i] = b2 * V[i] + (1 - b2) * g * g;
    const p = P[i];
    P[i] = p - lr * (M[i] / c1 / (Math.sqrt(V[i] / c2) + eps) + wd * p);
  }
}
