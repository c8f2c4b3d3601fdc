// Fused log-softmax + gather and its in-place backward, one row at a time over rows [r0, r1).
import { expv, exps, hsum64, rowMax } from './simd';

/** sum of e^(x[j] - m) over x[0..n): f32 lanes within blocks of 512 values, blocks added in float64. */
function rowSumExp(x: usize, n: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  const n8 = n & ~7;
  let total: f64 = 0;
  let j = 0;
  while (j < n8) {
    const end = min(n8, j + 512);
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (; j < end; j += 8) {
      s0 = f32x4.add(s0, expv(f32x4.sub(v128.load(x + <usize>j * 4), mv)));
      s1 = f32x4.add(s1, expv(f32x4.sub(v128.load(x + <usize>j * 4, 16), mv)));
    }
    total += hsum64(f32x4.add(s0, s1));
  }
  for (; j < n; j++) total += <f64>exps(load<f32>(x + <usize>j * 4) - m);
  return total;
}

/** logp[r] = x[r, t[r]] - lse[r], lse[r] = log sum_c e^x[r, c] (kept for the backward pass). */
export function logprobRows(x: usize, t: usize, logp: usize, lse: usize, vocab: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const row = x + <usize>r * <usize>vocab * 4;
    const m = rowMax(row, vocab);
    let l: f64;
    if (m == -Infinity) l = -Infinity;
    else l = <f64>m + Math.log(rowSumExp(row, vocab, m));
    const target = load<i32>(t + <usize>r * 4);
    store<f32>(logp + <usize>r * 4, <f32>(<f64>load<f32>(row + <usize>target * 4) - l));
    store<f32>(lse + <usize>r * 4, <f32>l);
  }
}

/** In place: x[r, c] = (e^(x[r, c] - lse[r]) - [c == t[r]]) * w[r]. */
export function logprobBackwardRows(x: usize, t: usize, lse: usize, w: usize, vocab: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const row = x + <usize>r * <usize>vocab * 4;
    const l = load<f32>(lse + <usize>r * 4);
    const wr = load<f32>(w + <usize>r * 4);
    const target = load<i32>(t + <usize>r * 4);
    const xt = load<f32>(row + <usize>target * 4);
    const lv = f32x4.splat(l);
    const wv = f32x4.splat(wr);
    let j = 0;
    for (; j + 8 <= vocab; j += 8) {
      const p = row + <usize>j * 4;
      v128.store(p, f32x4.mul(expv(f32x4.sub(v128.load(p), lv)), wv));
      v128.store(p, f32x4.mul(expv(f32x4.sub(v128.load(p, 16), lv)), wv), 16);
    }
    for (; j < vocab; j++) {
      const p = row + <usize>j * 4;
      store<f32>(p, exps(load<f32>(p) - l) * wr);
    }
    // The target entry in float64: p - 1 cancels when p is close to 1.
    store<f32>(row + <usize>target * 4, <f32>((Math.exp(<f64>xt - <f64>l) - 1) * <f64>wr));
  }
}
