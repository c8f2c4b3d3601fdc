// Shared SIMD helpers: a vectorized exp and fixed-order horizontal reductions.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in a high part with few mantissa bits (n * LN2_HI is exact for |n| < 2^9) and the rest.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.0;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.3365478515625;
// 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer (to nearest even).
// @ts-ignore: decorator
@inline const ROUND_MAGIC: f32 = 12582912.0;

/**
 * e^x per lane, within ~2 ulp (Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-7 polynomial, 2^n by exponent
 * bits; n is rounded with the 1.5 * 2^23 trick, which also leaves n in the low mantissa bits). x > 88 saturates at
 * e^88 (about 1.65e38; callers only exponentiate non-positive values or saturate anyway); x < -87.34 (and
 * -Infinity) gives exactly 0; NaN stays NaN. pmin/pmax are plain minps/maxps (f32x4.min/max are not).
 */
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(EXP_LO));
  let v = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const t = f32x4.add(f32x4.mul(v, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(t, f32x4.splat(ROUND_MAGIC));
  v = f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HI)));
  v = f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(v, v);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, v), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, v), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, v), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, v), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, v), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), v), f32x4.splat(1));
  // bits(t) = bits(ROUND_MAGIC) + n, so 2^n = (bits(t) - bits(ROUND_MAGIC) + 127) << 23.
  const pow2n = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  // Lanes below the range are 0; v128.andnot(a, b) = a & ~b.
  return v128.andnot(f32x4.mul(y, pow2n), tiny);
}

/** e^x of one value through the vector code (same bits as a lane of expv). */
// @ts-ignore: decorator
@inline
export function exps(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/** (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline
export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** max over the four lanes (NaN lanes may be dropped). */
// @ts-ignore: decorator
@inline
export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Sum of the four lanes in float64: (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline
export function hsum64(v: v128): f64 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
}

/** max of x[0..n) (NaN propagates), 8 lanes at a time: shared by the logprob and sampling kernels. */
export function rowMax(x: usize, n: i32): f32 {
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
