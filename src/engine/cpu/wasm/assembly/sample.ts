// Nucleus sampling with caller-supplied uniforms, one row at a time over rows [r0, r1). The TypeScript reference
// (src/engine/cpu/sample.ts) in these terms: p = softmax(x / T) in float64, t = the nucleus threshold (0 for
// top-p = 1), kept = p >= t, token = the first kept index whose running kept mass exceeds u * sum(kept p), else the
// last kept index. Here e_c = e^((x_c - max) / T) in f32 lanes (expv, ~2 ulp; the 1/T multiply in f32) and masses
// in float64: 8-wide blocks summed in float64, blocks in ascending order; the pick runs the same block sums and, in
// the block where the running mass passes u * Z, the block's values one by one (the reference's normalization by
// Z cancels). Tokens agree with the reference except where u * Z falls within float32 rounding of a cumulative
// boundary, or (top-p < 1) where the nucleus mass lies within rounding of topP.
import { expv, exps, rowMax } from './simd';

/** float64 sum of the 8 lanes of two vectors: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), in float64. */
// @ts-ignore: decorator
@inline
function blockSum(e0: v128, e1: v128): f64 {
  const a = f64x2.add(f64x2.promote_low_f32x4(e0), f64x2.promote_low_f32x4(v128.shuffle<f32>(e0, e0, 2, 3, 0, 1)));
  const b = f64x2.add(f64x2.promote_low_f32x4(e1), f64x2.promote_low_f32x4(v128.shuffle<f32>(e1, e1, 2, 3, 0, 1)));
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** e^((x - m) * invT) of 8 values at p (two vectors). */
// @ts-ignore: decorator
@inline
function exp8lo(p: usize, mv: v128, tv: v128): v128 {
  return expv(f32x4.mul(f32x4.sub(v128.load(p), mv), tv));
}
// @ts-ignore: decorator
@inline
function exp8hi(p: usize, mv: v128, tv: v128): v128 {
  return expv(f32x4.mul(f32x4.sub(v128.load(p, 16), mv), tv));
}

/** Lanes of v whose bits (as i32; values are >= +0) are >= the bits of t, others 0. */
// @ts-ignore: decorator
@inline
function keep(v: v128, tb: v128): v128 {
  return v128.and(v, i32x4.ge_s(v, tb));
}

/** Lane l (0..7) of the pair (e0, e1). */
// @ts-ignore: decorator
@inline
function lane8(e0: v128, e1: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(e0, 0) : l == 1 ? f32x4.extract_lane(e0, 1) : l == 2 ? f32x4.extract_lane(e0, 2)
    : l == 3 ? f32x4.extract_lane(e0, 3) : l == 4 ? f32x4.extract_lane(e1, 0) : l == 5 ? f32x4.extract_lane(e1, 1)
    : l == 6 ? f32x4.extract_lane(e1, 2) : f32x4.extract_lane(e1, 3);
}

/** Sum over the row of the values e >= t (t given by its bits; 0 keeps all): 8-wide blocks, float64 block sums. */
function keptMass(row: usize, vocab: i32, mv: v128, tv: v128, m: f32, invT: f32, tbits: i32): f64 {
  const n8 = vocab & ~7;
  const tb = i32x4.splat(tbits);
  let z: f64 = 0;
  let j = 0;
  for (; j < n8; j += 8) {
    const p = row + <usize>j * 4;
    z += blockSum(keep(exp8lo(p, mv, tv), tb), keep(exp8hi(p, mv, tv), tb));
  }
  for (; j < vocab; j++) {
    const e = exps((load<f32>(row + <usize>j * 4) - m) * invT);
    if (reinterpret<i32>(e) >= tbits) z += <f64>e;
  }
  return z;
}

/**
 * out[r] = the sampled token of row r (i32), u[r] its uniform in [0, 1); invT = 1 / temperature (f32); topP in
 * (0, 1]. Top-p < 1: the threshold t = the largest value v among the e with mass(e >= v) >= topP * Z (what the
 * reference's walk down the sorted probabilities returns), found by bisection on the float bits (about 30 passes
 * over the row); kept = e >= t (ties at t kept).
 */
export function sampleRows(x: usize, u: usize, out: usize, vocab: i32, invT: f32, topP: f64, r0: i32, r1: i32): void {
  pickRows(x, u, out, 0, vocab, invT, topP, 0, r0, r1);
}

/**
 * sampleRows that also writes logp[r] = log softmax(x[r] * invT)[token] (the tempered distribution before the
 * nucleus cut; when logp != 0), or with greedy != 0: token = the first index of the row's maximum and logp[r] =
 * log softmax(x[r])[token] (invT, topP and u ignored).
 */
export function pickRows(
  x: usize, u: usize, out: usize, logp: usize, vocab: i32, invT: f32, topP: f64, greedy: i32, r0: i32, r1: i32,
): void {
  if (greedy != 0) {
    invT = 1;
    topP = 1;
  }
  const tv = f32x4.splat(invT);
  const n8 = vocab & ~7;
  for (let r = r0; r < r1; r++) {
    const row = x + <usize>r * <usize>vocab * 4;
    const m = rowMax(row, vocab);
    const mv = f32x4.splat(m);
    let tbits: i32 = 0;
    let z = keptMass(row, vocab, mv, tv, m, invT, 0);
    const zAll = z;
    if (greedy != 0) {
      let best = 0;
      while (best < vocab - 1 && !(load<f32>(row + <usize>best * 4) == m)) best++;
      store<i32>(out + <usize>r * 4, best);
      if (logp != 0) store<f32>(logp + <usize>r * 4, <f32>(-Math.log(zAll)));
      continue;
    }
    if (topP < 1) {
      const target = topP * z;
      // mass(lo) >= target > mass(hi); the largest such lo is the bits of a value of the row.
      let lo: i32 = 0;
      let hi: i32 = reinterpret<i32>(exps(<f32>0)) + 1;
      while (hi - lo > 1) {
        const mid = lo + ((hi - lo) >> 1);
        if (keptMass(row, vocab, mv, tv, m, invT, mid) >= target) lo = mid;
        else hi = mid;
      }
      tbits = lo;
      z = keptMass(row, vocab, mv, tv, m, invT, tbits);
    }
    const tb = i32x4.splat(tbits);
    const target = <f64>load<f32>(u + <usize>r * 4) * z;
    let pick = -1;
    let run: f64 = 0;
    let j = 0;
    for (; j < n8 && pick < 0; j += 8) {
      const p = row + <usize>j * 4;
      const e0 = keep(exp8lo(p, mv, tv), tb);
      const e1 = keep(exp8hi(p, mv, tv), tb);
      const s = blockSum(e0, e1);
      if (run + s > target) {
        // Walk the block one value at a time (the same f32 values).
        let q = run;
        for (let l = 0; l < 8; l++) {
          q += <f64>lane8(e0, e1, l);
          if (q > target) {
            pick = j + l;
            break;
          }
        }
      }
      run += s;
    }
    if (pick < 0) {
      for (j = n8; j < vocab; j++) {
        const e = exps((load<f32>(row + <usize>j * 4) - m) * invT);
        if (reinterpret<i32>(e) < tbits) continue;
        run += <f64>e;
        if (run > target) {
          pick = j;
          break;
        }
      }
    }
    if (pick < 0) {
      // Rounding left no crossing: the last kept index (as the reference).
      for (j = vocab - 1; j > 0; j--) if (reinterpret<i32>(exps((load<f32>(row + <usize>j * 4) - m) * invT)) >= tbits) break;
      pick = j;
    }
    store<i32>(out + <usize>r * 4, pick);
    if (logp != 0)
      store<f32>(logp + <usize>r * 4, <f32>(<f64>((load<f32>(row + <usize>pick * 4) - m) * invT) - Math.log(zAll)));
  }
}
