// Softmax sampling with caller-supplied uniforms, top-p = 1 (the whole distribution), one row at a time over rows
// [r0, r1). The TypeScript reference (src/engine/cpu/sample.ts) in these terms: p = softmax(x / T) in float64,
// token = the first index whose running mass exceeds u * sum(p), else the last index. Here e_c = e^((x_c - max) / T)
// in f32 lanes (expv, ~2 ulp; the 1/T multiply in f32), sums in float64: Z = sum of e over 8-wide blocks (block sums
// in float64, blocks in ascending order); the pick runs the same block sums and, in the block where the running mass
// passes u * Z, the block's values one by one. The reference's normalization by Z cancels (u * Z against unnormalized
// masses). Tokens agree with the reference except where u * Z falls within float32 rounding of a cumulative
// boundary. Top-p < 1 (a sorted nucleus) stays with the reference on the host.
import { expv, exps, hmax } from './simd';

/** max of x[0..n). */
function rowMax(x: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    m0 = f32x4.pmax(m0, v128.load(x + <usize>j * 4));
    m1 = f32x4.pmax(m1, v128.load(x + <usize>j * 4, 16));
  }
  let m = hmax(f32x4.pmax(m0, m1));
  for (; j < n; j++) m = max(m, load<f32>(x + <usize>j * 4));
  return m;
}

/** float64 sum of the 8 lanes of two vectors: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), in float64. */
// @ts-ignore: decorator
@inline
function blockSum(e0: v128, e1: v128): f64 {
  const a = f64x2.add(f64x2.promote_low_f32x4(e0), f64x2.promote_low_f32x4(v128.shuffle<f32>(e0, e0, 2, 3, 0, 1)));
  const b = f64x2.add(f64x2.promote_low_f32x4(e1), f64x2.promote_low_f32x4(v128.shuffle<f32>(e1, e1, 2, 3, 0, 1)));
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** out[r] = the sampled token of row r (i32), u[r] its uniform in [0, 1); invT = 1 / temperature (f32). */
export function sampleRows(x: usize, u: usize, out: usize, vocab: i32, invT: f32, r0: i32, r1: i32): void {
  const tv = f32x4.splat(invT);
  const n8 = vocab & ~7;
  for (let r = r0; r < r1; r++) {
    const row = x + <usize>r * <usize>vocab * 4;
    const m = rowMax(row, vocab);
    const mv = f32x4.splat(m);
    let z: f64 = 0;
    let j = 0;
    for (; j < n8; j += 8) {
      const p = row + <usize>j * 4;
      z += blockSum(expv(f32x4.mul(f32x4.sub(v128.load(p), mv), tv)), expv(f32x4.mul(f32x4.sub(v128.load(p, 16), mv), tv)));
    }
    for (; j < vocab; j++) z += <f64>exps((load<f32>(row + <usize>j * 4) - m) * invT);
    const target = <f64>load<f32>(u + <usize>r * 4) * z;
    let pick = vocab - 1;
    let run: f64 = 0;
    j = 0;
    let found = false;
    for (; j < n8 && !found; j += 8) {
      const p = row + <usize>j * 4;
      const e0 = expv(f32x4.mul(f32x4.sub(v128.load(p), mv), tv));
      const e1 = expv(f32x4.mul(f32x4.sub(v128.load(p, 16), mv), tv));
      const s = blockSum(e0, e1);
      if (run + s > target) {
        // Walk the block one value at a time (the same f32 values).
        let q = run;
        for (let l = 0; l < 8; l++) {
          const e: f32 = l == 0 ? f32x4.extract_lane(e0, 0) : l == 1 ? f32x4.extract_lane(e0, 1) : l == 2 ? f32x4.extract_lane(e0, 2)
            : l == 3 ? f32x4.extract_lane(e0, 3) : l == 4 ? f32x4.extract_lane(e1, 0) : l == 5 ? f32x4.extract_lane(e1, 1)
            : l == 6 ? f32x4.extract_lane(e1, 2) : f32x4.extract_lane(e1, 3);
          q += <f64>e;
          if (q > target) {
            pick = j + l;
            found = true;
            break;
          }
        }
      }
      run += s;
    }
    if (!found) {
      for (j = n8; j < vocab; j++) {
        run += <f64>exps((load<f32>(row + <usize>j * 4) - m) * invT);
        if (run > target) {
          pick = j;
          break;
        }
      }
    }
    store<i32>(out + <usize>r * 4, pick);
  }
}
