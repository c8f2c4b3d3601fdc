// Multi-head attention over packed heads (see AttentionSpec). Causal by default: query i of a sequence sees keys
// j <= i + (tk - tq); non-causal: every key. keyLengths masks keys j >= len of a batch entry. Either way a query sees
// a prefix [0, n) of its sequence's keys (attentionVisible). Scores and sums in float64; lse [batch, heads, tq] is
// kept for the backward pass.
import { attentionVisible, checkAttention, checkAttentionBackward } from '../shapes.ts';
import type { AttentionSpec, Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

interface Layout {
  width: number;
  headDim: number;
  scale: number;
  /** Row offset of q/k within the packed tensors, column offset of the head. */
  qRow: (b: number, i: number) => number;
  kRow: (b: number, j: number) => number;
  /** Number of keys query i of batch entry b sees (keys 0 .. seen-1). */
  seen: (b: number, i: number) => number;
}

function layout(spec: AttentionSpec, headDim: number): Layout {
  const width = spec.heads * headDim;
  return {
    width,
    headDim,
    scale: spec.scale ?? 1 / Math.sqrt(headDim),
    qRow: (b, i) => (b * spec.tq + i) * width,
    kRow: (b, j) => (b * spec.tk + j) * width,
    seen: (b, i) => attentionVisible(spec, b, i),
  };
}

function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += x[xo + d] * y[yo + d];
  return s;
}

/** Scaled scores of one query row against its visible keys, into s[0 .. seen). */
function scores(L: Layout, Q: Float32Array, K: Float32Array, b: number, h: number, i: number, s: Float64Array): number {
  const n = L.seen(b, i);
  const qo = L.qRow(b, i) + h * L.headDim;
  for (let j = 0; j < n; j++) s[j] = L.scale * dot(Q, qo, K, L.kRow(b, j) + h * L.headDim, L.headDim);
  return n;
}

export function attention(q: Tensor, k: Tensor, v: Tensor, spec: AttentionSpec): { out: Tensor; lse: Tensor } {
  const headDim = checkAttention(q, k, v, spec);
  const L = layout(spec, headDim);
  const [Q, K, V] = [q, k, v].map((t) => f32('attention', t));
  const { batch, heads, tq, tk } = spec;
  const out = new Float32Array(batch * tq * L.width);
  const lse = new Float32Array(batch * heads * tq);
  const s = new Float64Array(tk);
  const acc = new Float64Array(headDim);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < tq; i++) {
        const n = scores(L, Q, K, b, h, i, s);
        let max = -Infinity;
        for (let j = 0; j < n; j++) max = Math.max(max, s[j]);
        let z = 0;
        acc.fill(0);
        for (let j = 0; j < n; j++) {
          const p = Math.exp(s[j] - max);
          z += p;
          const vo = L.kRow(b, j) + h * headDim;
          for (let d = 0; d < headDim; d++) acc[d] += p * V[vo + d];
        }
        const oo = L.qRow(b, i) + h * headDim;
        for (let d = 0; d < headDim; d++) out[oo + d] = acc[d] / z;
        lse[(b * heads + h) * tq + i] = max + Math.log(z);
      }
  return { out: f32Tensor(out, q.shape), lse: f32Tensor(lse, [batch * heads * tq]) };
}

/**
 * Recomputes P = exp(S - lse) from the stored lse. With D_i = dO_i . O_i and dS = P * (dO V^T - D):
 * dq = scale dS K, dk = scale dS^T Q, dv = P^T dO. dk and dv accumulate in float64 in (b, h, i, j) order.
 */
export function attentionBackward(
  dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, spec: AttentionSpec,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const op = 'attentionBackward';
  const headDim = checkAttentionBackward(dOut, q, k, v, out, lse, spec);
  const L = layout(spec, headDim);
  const [DO, Q, K, V, O, LSE] = [dOut, q, k, v, out, lse].map((t) => f32(op, t));
  const { batch, heads, tq, tk } = spec;
  const dq = new Float32Array(Q.length);
  const dk = new Float64Array(K.length);
  const dv = new Float64Array(V.length);
  const s = new Float64Array(tk);
  const acc = new Float64Array(headDim);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < tq; i++) {
        const n = scores(L, Q, K, b, h, i, s);
        const qo = L.qRow(b, i) + h * headDim;
        const l = LSE[(b * heads + h) * tq + i];
        const D = dot(DO, qo, O, qo, headDim);
        acc.fill(0);
        for (let j = 0; j < n; j++) {
          const ko = L.kRow(b, j) + h * headDim;
          const p = Math.exp(s[j] - l);
          const ds = p * (dot(DO, qo, V, ko, headDim) - D);
          for (let d = 0; d < headDim; d++) {
            acc[d] += ds * K[ko + d];
            dk[ko + d] += L.scale * ds * Q[qo + d];
            dv[ko + d] += p * DO[qo + d];
          }
        }
        for (let d = 0; d < headDim; d++) dq[qo + d] = L.scale * acc[d];
      }
  return {
    dq: f32Tensor(dq, q.shape),
    dk: f32Tensor(Float32Array.from(dk), k.shape),
    dv: f32Tensor(Float32Array.from(dv), v.shape),
  };
}
