// Log-probabilities of target tokens. The fused path makes one online pass per row (running max and rescaled
// sum, float64) and never materializes probabilities; the unfused path is the textbook reference.
import { checkIndices, checkLogprob, checkLogprobBackward } from '../shapes.ts';
import type { Tensor } from '../types.ts';
import { f32, f32Tensor, i32 } from './tensor.ts';

/** log(sum(exp(x[o .. o+n)))) in one pass. -Infinity entries contribute nothing. */
function onlineLse(x: Float32Array, o: number, n: number): number {
  let max = -Infinity;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const v = x[o + j];
    if (v > max) {
      s = s * Math.exp(max - v) + 1;
      max = v;
    } else if (v !== -Infinity) s += Math.exp(v - max);
  }
  return max + Math.log(s);
}

function inputs(op: string, logits: Tensor, targets: Tensor): { rows: number; vocab: number; X: Float32Array; T: Int32Array } {
  const [rows, vocab] = checkLogprob(op, logits, targets);
  const T = i32(op, targets);
  checkIndices(op, 'targets', T, vocab);
  return { rows, vocab, X: f32(op, logits), T };
}

export function logprob(logits: Tensor, targets: Tensor): { logp: Tensor; lse: Tensor } {
  const { rows, vocab, X, T } = inputs('logprob', logits, targets);
  const logp = new Float32Array(rows);
  const lse = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const l = onlineLse(X, r * vocab, vocab);
    logp[r] = X[r * vocab + T[r]] - l;
    lse[r] = l;
  }
  return { logp: f32Tensor(logp, [rows]), lse: f32Tensor(lse, [rows]) };
}

/** In place: logits[r, c] = (exp(logits[r, c] - lse[r]) - [c == targets[r]]) * weight[r]. Returns logits. */
export function logprobBackward(logits: Tensor, targets: Tensor, lse: Tensor, weight: Tensor): Tensor {
  const op = 'logprobBackward';
  const [rows, vocab] = checkLogprobBackward(logits, targets, lse, weight);
  const X = f32(op, logits);
  const T = i32(op, targets);
  checkIndices(op, 'targets', T, vocab);
  const L = f32(op, lse);
  const W = f32(op, weight);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    for (let c = 0; c < vocab; c++) X[o + c] = (Math.exp(X[o + c] - L[r]) - (c === T[r] ? 1 : 0)) * W[r];
  }
  return logits;
}

/** Two passes (max, then sum), a materialized [rows, vocab] log-softmax, then the gather. */
export function logprobUnfused(logits: Tensor, targets: Tensor): Tensor {
  const { rows, vocab, X, T } = inputs('logprobUnfused', logits, targets);
  const logsm = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, X[o + c]);
    let s = 0;
    for (let c = 0; c < vocab; c++) s += Math.exp(X[o + c] - max);
    const l = max + Math.log(s);
    for (let c = 0; c < vocab; c++) logsm[o + c] = X[o + c] - l;
  }
  const logp = new Float32Array(rows);
  for (let r = 0; r < rows; r++) logp[r] = logsm[r * vocab + T[r]];
  return f32Tensor(logp, [rows]);
}
