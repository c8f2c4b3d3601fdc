// LayerNorm over the last dimension: y = (x - mean) * rstd * gamma + beta, rstd = 1 / sqrt(var + eps) with the
// population variance (two-pass, float64). mean and rstd are kept (float32) for the backward pass.
import { checkLayernorm, checkLayernormBackward } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

export function layernorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; rstd: Tensor } {
  const op = 'layernorm';
  const [m, n] = checkLayernorm(x, gamma, beta, eps);
  const X = f32(op, x);
  const G = f32(op, gamma);
  const B = f32(op, beta);
  const y = new Float32Array(m * n);
  const mean = new Float32Array(m);
  const rstd = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += X[o + j];
    const mu = s / n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (X[o + j] - mu) ** 2;
    const r = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) y[o + j] = (X[o + j] - mu) * r * G[j] + B[j];
    mean[i] = mu;
    rstd[i] = r;
  }
  return { y: f32Tensor(y, [m, n]), mean: f32Tensor(mean, [m]), rstd: f32Tensor(rstd, [m]) };
}

/**
 * With xhat = (x - mean) * rstd and g = dy * gamma: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 * dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy. Uses the stored mean and rstd.
 */
export function layernormBackward(
  dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'layernormBackward';
  const [m, n] = checkLayernormBackward(dy, x, gamma, mean, rstd);
  const DY = f32(op, dy);
  const X = f32(op, x);
  const G = f32(op, gamma);
  const MU = f32(op, mean);
  const R = f32(op, rstd);
  const dx = new Float32Array(m * n);
  const dg = new Float64Array(n);
  const db = new Float64Array(n);
  const xhat = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < n; j++) {
      xhat[j] = (X[o + j] - MU[i]) * R[i];
      const g = DY[o + j] * G[j];
      sg += g;
      sgx += g * xhat[j];
      dg[j] += DY[o + j] * xhat[j];
      db[j] += DY[o + j];
    }
    sg /= n;
    sgx /= n;
    for (let j = 0; j < n; j++) dx[o + j] = R[i] * (DY[o + j] * G[j] - sg - xhat[j] * sgx);
  }
  return { dx: f32Tensor(dx, [m, n]), dgamma: f32Tensor(Float32Array.from(dg), [n]), dbeta: f32Tensor(Float32Array.from(db), [n]) };
}
