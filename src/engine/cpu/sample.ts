// Nucleus sampling with caller-supplied uniforms, in float64. For each row:
//   p = softmax(logits / temperature)
//   t = p of the token at which the descending-sorted cumulative mass first reaches topP (topP = 1: t = 0)
//   kept = { i : p_i >= t } (ties at the threshold are kept), K = sum of kept p in index order
//   token = first i in index order whose running kept mass exceeds u * K; if rounding leaves none, the last kept i.
import { checkSample } from '../shapes.ts';
import type { SampleOptions, Tensor } from '../types.ts';
import { CpuTensor, f32 } from './tensor.ts';

function threshold(p: Float64Array, topP: number): number {
  if (topP >= 1) return 0;
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  let cum = 0;
  for (const i of order) {
    cum += p[i];
    if (cum >= topP) return p[i];
  }
  return p[order[order.length - 1]];
}

function sampleRow(p: Float64Array, u: number, topP: number): number {
  const t = threshold(p, topP);
  let kept = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++)
    if (p[i] >= t) {
      kept += p[i];
      last = i;
    }
  const target = u * kept;
  let run = 0;
  for (let i = 0; i < p.length; i++)
    if (p[i] >= t) {
      run += p[i];
      if (run > target) return i;
    }
  return last;
}

export function sample(logits: Tensor, uniforms: Tensor, opts: SampleOptions): Tensor {
  const [rows, vocab] = checkSample(logits, uniforms, opts);
  const X = f32('sample', logits);
  const U = f32('sample', uniforms);
  const temp = Math.fround(opts.temperature);
  const out = new Int32Array(rows);
  const p = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, X[o + c] / temp);
    let z = 0;
    for (let c = 0; c < vocab; c++) {
      p[c] = Math.exp(X[o + c] / temp - max);
      z += p[c];
    }
    for (let c = 0; c < vocab; c++) p[c] /= z;
    out[r] = sampleRow(p, U[r], opts.topP);
  }
  return new CpuTensor(out, [rows], 'i32');
}
