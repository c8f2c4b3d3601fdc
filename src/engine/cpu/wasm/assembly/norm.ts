// LayerNorm over the last dimension, rows [r0, r1). Statistics in float64 (two-pass variance), the normalized
// output in f32 lanes. The backward pass mirrors the reference's float64 arithmetic; dgamma/dbeta accumulate per
// column in ascending row order into float64 scratch (callers pass the same scratch to consecutive row ranges).

/** sum of x[0..n) in float64 (two f64x2 lanes + scalar tail). */
function rowSum(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const v = v128.load(x + <usize>j * 4);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; j < n; j++) s += <f64>load<f32>(x + <usize>j * 4);
  return s;
}

/** sum of (x[j] - mu)^2 in float64. */
function rowSq(x: usize, n: i32, mu: f64): f64 {
  const m = f64x2.splat(mu);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const v = v128.load(x + <usize>j * 4);
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), m);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), m);
    a0 = f64x2.add(a0, f64x2.mul(d0, d0));
    a1 = f64x2.add(a1, f64x2.mul(d1, d1));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; j < n; j++) {
    const d = <f64>load<f32>(x + <usize>j * 4) - mu;
    s += d * d;
  }
  return s;
}

export function layernormRows(
  x: usize, g: usize, b: usize, y: usize, mean: usize, rstd: usize, n: i32, eps: f64, r0: i32, r1: i32,
): void {
  for (let i = r0; i < r1; i++) {
    const o = <usize>i * <usize>n * 4;
    const xr = x + o;
    const yr = y + o;
    const mu = rowSum(xr, n) / <f64>n;
    const r = 1 / Math.sqrt(rowSq(xr, n, mu) / <f64>n + eps);
    const muf = <f32>mu;
    const rf = <f32>r;
    const mv = f32x4.splat(muf);
    const rv = f32x4.splat(rf);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const c = <usize>j * 4;
      const t = f32x4.mul(f32x4.sub(v128.load(xr + c), mv), rv);
      v128.store(yr + c, f32x4.add(f32x4.mul(t, v128.load(g + c)), v128.load(b + c)));
    }
    for (; j < n; j++) {
      const c = <usize>j * 4;
      store<f32>(yr + c, (load<f32>(xr + c) - muf) * rf * load<f32>(g + c) + load<f32>(b + c));
    }
    store<f32>(mean + <usize>i * 4, muf);
    store<f32>(rstd + <usize>i * 4, rf);
  }
}

/**
 * xhat = (x - mean) rstd, gg = dy gamma: dx = rstd (gg - mean(gg) - xhat mean(gg xhat)); dg += dy xhat; db += dy
 * (dg, db: float64 [n], accumulated).
 */
export function layernormBackwardRows(
  dy: usize, x: usize, g: usize, mean: usize, rstd: usize, dx: usize, dg: usize, db: usize, n: i32, r0: i32, r1: i32,
): void {
  for (let i = r0; i < r1; i++) {
    const o = <usize>i * <usize>n * 4;
    const mu = <f64>load<f32>(mean + <usize>i * 4);
    const r = <f64>load<f32>(rstd + <usize>i * 4);
    const muv = f64x2.splat(mu);
    const rv = f64x2.splat(r);
    let sg = f64x2.splat(0);
    let sgx = f64x2.splat(0);
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const c = <usize>j * 4;
      const xv = f64x2.promote_low_f32x4(v128.load64_zero(x + o + c));
      const dyv = f64x2.promote_low_f32x4(v128.load64_zero(dy + o + c));
      const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + c));
      const xh = f64x2.mul(f64x2.sub(xv, muv), rv);
      const gg = f64x2.mul(dyv, gv);
      sg = f64x2.add(sg, gg);
      sgx = f64x2.add(sgx, f64x2.mul(gg, xh));
      const c2 = <usize>j * 8;
      v128.store(dg + c2, f64x2.add(v128.load(dg + c2), f64x2.mul(dyv, xh)));
      v128.store(db + c2, f64x2.add(v128.load(db + c2), dyv));
    }
    let s1 = f64x2.extract_lane(sg, 0) + f64x2.extract_lane(sg, 1);
    let s2 = f64x2.extract_lane(sgx, 0) + f64x2.extract_lane(sgx, 1);
    for (; j < n; j++) {
      const c = <usize>j * 4;
      const xh = (<f64>load<f32>(x + o + c) - mu) * r;
      const dyj = <f64>load<f32>(dy + o + c);
      const gg = dyj * <f64>load<f32>(g + c);
      s1 += gg;
      s2 += gg * xh;
      const c2 = <usize>j * 8;
      store<f64>(dg + c2, load<f64>(dg + c2) + dyj * xh);
      store<f64>(db + c2, load<f64>(db + c2) + dyj);
    }
    s1 /= <f64>n;
    s2 /= <f64>n;
    for (j = 0; j < n; j++) {
      const c = <usize>j * 4;
      const xh = (<f64>load<f32>(x + o + c) - mu) * r;
      const gg = <f64>load<f32>(dy + o + c) * <f64>load<f32>(g + c);
      store<f32>(dx + o + c, <f32>(r * (gg - s1 - xh * s2)));
    }
  }
}

/** dst_f32[j] = src_f64[j] for j < n. */
export function f64ToF32(src: usize, dst: usize, n: i32): void {
  for (let j = 0; j < n; j++) store<f32>(dst + <usize>j * 4, <f32>load<f64>(src + <usize>j * 8));
}

/** sum of x[j] * y[j] in float64 (two f64x2 lanes + scalar tail). */
function rowDot(x: usize, y: usize, n: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const c = <usize>j * 4;
    const u = v128.load(x + c);
    const v = v128.load(y + c);
    a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(v)));
    a1 = f64x2.add(a1, f64x2.mul(
      f64x2.promote_low_f32x4(v128.shuffle<f32>(u, u, 2, 3, 0, 1)),
      f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)),
    ));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; j < n; j++) {
    const c = <usize>j * 4;
    s += <f64>load<f32>(x + c) * <f64>load<f32>(y + c);
  }
  return s;
}

/**
 * Row-wise L2 normalization, rows [r0, r1): norm = sqrt(sum x^2) (float64 sum, rounded to f32),
 * y = x / max(norm, eps) (f32 division, as the reference's once-rounded quotient).
 */
export function l2normalizeRows(x: usize, y: usize, norm: usize, n: i32, eps: f32, r0: i32, r1: i32): void {
  for (let i = r0; i < r1; i++) {
    const o = <usize>i * <usize>n * 4;
    const nr = <f32>Math.sqrt(rowDot(x + o, x + o, n));
    const dv = f32x4.splat(max(nr, eps));
    const d = max(nr, eps);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const c = o + <usize>j * 4;
      v128.store(y + c, f32x4.div(v128.load(x + c), dv));
    }
    for (; j < n; j++) {
      const c = o + <usize>j * 4;
      store<f32>(y + c, load<f32>(x + c) / d);
    }
    store<f32>(norm + <usize>i * 4, nr);
  }
}

/** dx = (dy - y (y . dy)) / norm where norm >= eps, dy / eps where norm < eps; rows [r0, r1). */
export function l2normalizeBackwardRows(dy: usize, y: usize, norm: usize, dx: usize, n: i32, eps: f32, r0: i32, r1: i32): void {
  for (let i = r0; i < r1; i++) {
    const o = <usize>i * <usize>n * 4;
    const nr = load<f32>(norm + <usize>i * 4);
    if (nr < eps) {
      for (let j = 0; j < n; j++) {
        const c = o + <usize>j * 4;
        store<f32>(dx + c, <f32>(<f64>load<f32>(dy + c) / <f64>eps));
      }
      continue;
    }
    const s = rowDot(y + o, dy + o, n);
    const nd = <f64>nr;
    for (let j = 0; j < n; j++) {
      const c = o + <usize>j * 4;
      store<f32>(dx + c, <f32>((<f64>load<f32>(dy + c) - <f64>load<f32>(y + c) * s) / nd));
    }
  }
}
