// Multi-head attention over packed heads, one (batch, head) pair at a time over pairs [p0, p1).
// Query i of batch entry b sees keys j < n(b, i): causal (causal != 0) n = min(i + (tk - tq) + 1, len_b), else
// n = len_b, where len_b = lens[b] (i32 array at `lens`) or tk when lens is 0. Per pair, the score matrix
// S = Q K^T [tq, tk] is materialized in scratch and every product goes through gemm (strided views of the packed
// q/k/v, no copies); the forward computes only the columns some query of the pair sees (decoding against a KV
// cache that is mostly empty costs its filled part):
//   forward:  P = softmax(scale S) (masked), lse = row log-sum-exp, out = P V
//   backward: P = exp(scale S - lse), dP = dO V^T, dS = P * (dP - rowdot(dO, O)),
//             dV = P^T dO, dK = scale dS^T Q, dQ = scale dS K
// Pairs write disjoint blocks of the outputs, so any split of pairs between threads gives the same bits.
import { gemm, gemmPath } from './gemm';
import { expv, exps, hmax, hsum64 } from './simd';

/** Keys query i of a sequence with `len` valid keys sees. */
@inline
function visible(i: i32, off: i32, len: i32, causal: i32): i32 {
  return causal != 0 ? min(i + off + 1, len) : len;
}

/** Valid keys of batch entry b. */
@inline
function keyLen(lens: usize, b: i32, tk: i32): i32 {
  return lens != 0 ? load<i32>(lens + <usize>b * 4) : tk;
}

/** Scales s[0..n) by `scale` in place and returns the max. */
function scaleMax(s: usize, n: i32, scale: f32): f32 {
  const sv = f32x4.splat(scale);
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = s + <usize>j * 4;
    const v = f32x4.mul(v128.load(p), sv);
    v128.store(p, v);
    mv = f32x4.pmax(mv, v);
  }
  let m = hmax(mv);
  for (; j < n; j++) {
    const p = s + <usize>j * 4;
    const v = load<f32>(p) * scale;
    store<f32>(p, v);
    m = max(m, v);
  }
  return m;
}

/** s[j] = e^(s[j] - m) for j < n, returns the sum (f32 lanes, float64 total). */
function expSum(s: usize, n: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = s + <usize>j * 4;
    const e = expv(f32x4.sub(v128.load(p), mv));
    v128.store(p, e);
    acc = f32x4.add(acc, e);
  }
  let total = hsum64(acc);
  for (; j < n; j++) {
    const p = s + <usize>j * 4;
    const e = exps(load<f32>(p) - m);
    store<f32>(p, e);
    total += <f64>e;
  }
  return total;
}

function scaleRow(s: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = s + <usize>j * 4;
    v128.store(p, f32x4.mul(v128.load(p), kv));
  }
  for (; j < n; j++) {
    const p = s + <usize>j * 4;
    store<f32>(p, load<f32>(p) * k);
  }
}

function zeroRow(s: usize, from: i32, to: i32): void {
  if (to > from) memory.fill(s + <usize>from * 4, 0, <usize>(to - from) * 4);
}

/** Scales a [rows, cols] block with row stride ld (elements) in place. */
function scaleBlock(c: usize, rows: i32, cols: i32, ld: i32, k: f32): void {
  for (let i = 0; i < rows; i++) scaleRow(c + <usize>i * <usize>ld * 4, cols, k);
}

export function attentionForward(
  q: usize, k: usize, v: usize, out: usize, lse: usize,
  heads: i32, tq: i32, tk: i32, d: i32, scale: f32, p0: i32, p1: i32, s: usize, work: usize, causal: i32, lens: usize,
): void {
  const width = heads * d;
  const off = tk - tq;
  const pathS = gemmPath(tq, tk, d, width, 1, 1, width);
  const pathO = gemmPath(tq, d, tk, tk, 1, width, 1);
  for (let pair = p0; pair < p1; pair++) {
    const b = pair / heads;
    const h = pair % heads;
    const len = keyLen(lens, b, tk);
    const qb = q + <usize>(b * tq * width + h * d) * 4;
    const kb = k + <usize>(b * tk * width + h * d) * 4;
    const vb = v + <usize>(b * tk * width + h * d) * 4;
    const ob = out + <usize>(b * tq * width + h * d) * 4;
    // Only the keys some query of this pair sees (the last query sees the most): decoding against a long, mostly
    // empty KV cache costs its filled part only. Same bits as over all tk keys: the gemm paths do not depend on N,
    // and the skipped keys would add exact zeros (P = 0) at the end of each ascending sum.
    const nk = visible(tq - 1, off, len, causal);
    gemm(pathS, tq, nk, d, qb, width, 1, kb, 1, width, s, tk, work);
    for (let i = 0; i < tq; i++) {
      const row = s + <usize>i * <usize>tk * 4;
      const n = visible(i, off, len, causal);
      const m = scaleMax(row, n, scale);
      const z = expSum(row, n, m);
      scaleRow(row, n, <f32>(1 / z));
      zeroRow(row, n, nk);
      store<f32>(lse + <usize>(pair * tq + i) * 4, <f32>(<f64>m + Math.log(z)));
    }
    gemm(pathO, tq, d, nk, s, tk, 1, vb, width, 1, ob, width, work);
  }
}

export function attentionBackward(
  dout: usize, q: usize, k: usize, v: usize, out: usize, lse: usize, dq: usize, dk: usize, dv: usize,
  heads: i32, tq: i32, tk: i32, d: i32, scale: f32, p0: i32, p1: i32, ps: usize, dps: usize, work: usize,
  causal: i32, lens: usize,
): void {
  const width = heads * d;
  const off = tk - tq;
  const pathS = gemmPath(tq, tk, d, width, 1, 1, width);
  const pathV = gemmPath(tk, d, tq, 1, tk, width, 1);
  const pathQ = gemmPath(tq, d, tk, tk, 1, width, 1);
  const sv = f32x4.splat(scale);
  for (let pair = p0; pair < p1; pair++) {
    const b = pair / heads;
    const h = pair % heads;
    const len = keyLen(lens, b, tk);
    const qo = <usize>(b * tq * width + h * d) * 4;
    const ko = <usize>(b * tk * width + h * d) * 4;
    // P = exp(scale S - lse), masked entries 0.
    gemm(pathS, tq, tk, d, q + qo, width, 1, k + ko, 1, width, ps, tk, work);
    for (let i = 0; i < tq; i++) {
      const row = ps + <usize>i * <usize>tk * 4;
      const n = visible(i, off, len, causal);
      const l = load<f32>(lse + <usize>(pair * tq + i) * 4);
      const lv = f32x4.splat(l);
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const p = row + <usize>j * 4;
        v128.store(p, expv(f32x4.sub(f32x4.mul(v128.load(p), sv), lv)));
      }
      for (; j < n; j++) {
        const p = row + <usize>j * 4;
        store<f32>(p, exps(load<f32>(p) * scale - l));
      }
      zeroRow(row, n, tk);
    }
    // dP = dO V^T, then dS = P * (dP - D_i) in place, D_i = dO_i . O_i.
    gemm(pathS, tq, tk, d, dout + qo, width, 1, v + ko, 1, width, dps, tk, work);
    for (let i = 0; i < tq; i++) {
      const doi = dout + qo + <usize>i * <usize>width * 4;
      const oi = out + qo + <usize>i * <usize>width * 4;
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= d; c += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(doi + <usize>c * 4), v128.load(oi + <usize>c * 4)));
      let dd = hsum64(acc);
      for (; c < d; c++) dd += <f64>(load<f32>(doi + <usize>c * 4) * load<f32>(oi + <usize>c * 4));
      const D = <f32>dd;
      const Dv = f32x4.splat(D);
      const prow = ps + <usize>i * <usize>tk * 4;
      const drow = dps + <usize>i * <usize>tk * 4;
      const n = visible(i, off, len, causal);
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j * 4;
        v128.store(drow + o, f32x4.mul(v128.load(prow + o), f32x4.sub(v128.load(drow + o), Dv)));
      }
      for (; j < n; j++) {
        const o = <usize>j * 4;
        store<f32>(drow + o, load<f32>(prow + o) * (load<f32>(drow + o) - D));
      }
      zeroRow(drow, n, tk);
    }
    // dV = P^T dO, dK = scale dS^T Q, dQ = scale dS K.
    gemm(pathV, tk, d, tq, ps, 1, tk, dout + qo, width, 1, dv + ko, width, work);
    gemm(pathV, tk, d, tq, dps, 1, tk, q + qo, width, 1, dk + ko, width, work);
    scaleBlock(dk + ko, tk, d, width, scale);
    gemm(pathQ, tq, d, tk, dps, tk, 1, k + ko, width, 1, dq + qo, width, work);
    scaleBlock(dq + qo, tq, d, width, scale);
  }
}

// ---- decode: one query per batch entry (tq = 1) ----------------------------------------------------------------

/**
 * attentionForward for tq = 1, batch entries [b0, b1), all heads of an entry together: one pass down the entry's
 * key rows (each row read once, contiguously, for every head) and one down its value rows, instead of a strided
 * pass per (entry, head) pair; decoding against per-sequence KV caches is bound by reading them. Same bits as
 * attentionForward: each score is the dot path's expression (8-lane partial sums over d, summed in a fixed order,
 * then the tail), softmax through the same row helpers, and each output the rows path's expression (ascending
 * keys, one f32 multiply and add each). s: heads * tk floats of scratch.
 */
export function attentionDecode(
  q: usize, k: usize, v: usize, out: usize, lse: usize,
  heads: i32, tk: i32, d: i32, scale: f32, b0: i32, b1: i32, s: usize, lens: usize,
): void {
  const rowB = <usize>(heads * d) * 4;
  for (let b = b0; b < b1; b++) {
    const kb = <usize>b * <usize>tk * rowB;
    oneQuery(q + <usize>b * rowB, k + kb, v + kb, out + <usize>b * rowB, lse + <usize>(b * heads) * 4, heads, d,
      min(keyLen(lens, b, tk), tk), tk, scale, s);
  }
}

/**
 * Query rows [r0, r1) of q, each against its own block of the caches: row r sees the first lens[r] rows of block
 * slots[r] (rows slots[r] * blockRows ...) of k and v (lens[r] = 0: the row is skipped, left as it is). The decoder
 * calls it with every row's causal key count, so decode and continuation rows of any slots run in one call, straight
 * from the KV caches. Each row: the attentionDecode expression. s: heads * blockRows floats of scratch.
 */
export function attentionRows(
  q: usize, k: usize, v: usize, out: usize, heads: i32, d: i32, blockRows: i32, scale: f32, slots: usize, lens: usize,
  s: usize, r0: i32, r1: i32,
): void {
  const rowB = <usize>(heads * d) * 4;
  for (let r = r0; r < r1; r++) {
    const n = load<i32>(lens + <usize>r * 4);
    if (n <= 0) continue;
    const kb = <usize>load<i32>(slots + <usize>r * 4) * <usize>blockRows * rowB;
    oneQuery(q + <usize>r * rowB, k + kb, v + kb, out + <usize>r * rowB, 0, heads, d, n, blockRows, scale, s);
  }
}

/**
 * One query row (all heads) against the first n key/value rows at kb/vb: scores (dot path expression), softmax per
 * head (the row helpers of attentionForward), outputs accumulated over ascending keys; lse per head when lse != 0.
 */
// @ts-ignore: decorator
@inline
function oneQuery(
  qb: usize, kb: usize, vb: usize, ob: usize, lse: usize, heads: i32, d: i32, n: i32, sStride: i32, scale: f32, s: usize,
): void {
  const rowB = <usize>(heads * d) * 4;
  const d8 = d & ~7;
  // Scores: s[h * sStride + j] = q_h . k_j,h.
  for (let j = 0; j < n; j++) {
    const kr = kb + <usize>j * rowB;
    for (let h = 0; h < heads; h++) {
      const ho = <usize>(h * d) * 4;
      const qh = qb + ho;
      const kh = kr + ho;
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      for (let p = 0; p < d8; p += 8) {
        const o = <usize>p * 4;
        s0 = f32x4.add(s0, f32x4.mul(v128.load(qh + o), v128.load(kh + o)));
        s1 = f32x4.add(s1, f32x4.mul(v128.load(qh + o, 16), v128.load(kh + o, 16)));
      }
      let t = hsumDot(f32x4.add(s0, s1));
      for (let p = d8; p < d; p++) t = t + load<f32>(qh + <usize>p * 4) * load<f32>(kh + <usize>p * 4);
      store<f32>(s + <usize>(h * sStride + j) * 4, t);
    }
  }
  // Softmax per head (the same helpers as attentionForward).
  for (let h = 0; h < heads; h++) {
    const row = s + <usize>(h * sStride) * 4;
    const m = scaleMax(row, n, scale);
    const z = expSum(row, n, m);
    scaleRow(row, n, <f32>(1 / z));
    if (lse != 0) store<f32>(lse + <usize>h * 4, <f32>(<f64>m + Math.log(z)));
  }
  // Outputs: out_h = sum over ascending j of p_h,j * v_j,h, accumulated in the output row.
  memory.fill(ob, 0, rowB);
  for (let j = 0; j < n; j++) {
    const vr = vb + <usize>j * rowB;
    for (let h = 0; h < heads; h++) {
      const ho = <usize>(h * d) * 4;
      const pj = load<f32>(s + <usize>(h * sStride + j) * 4);
      const pv = f32x4.splat(pj);
      const oh = ob + ho;
      const vh = vr + ho;
      let c = 0;
      for (; c + 4 <= d; c += 4) {
        const o = <usize>c * 4;
        v128.store(oh + o, f32x4.add(v128.load(oh + o), f32x4.mul(pv, v128.load(vh + o))));
      }
      for (; c < d; c++) {
        const o = <usize>c * 4;
        store<f32>(oh + o, load<f32>(oh + o) + pj * load<f32>(vh + o));
      }
    }
  }
}

/** (l0 + l1) + (l2 + l3), as the gemm dot path sums its partial sums. */
// @ts-ignore: decorator
@inline
function hsumDot(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
