// Elementwise kernels over index ranges [i0, i1): GELU (tanh form) forward/backward, AdamW, add/mul/scale/addBias,
// column sums. add/mul/scale are single f32 operations (correctly rounded, so equal to any IEEE implementation);
// AdamW and the column sums run in float64 lanes in the reference's operation order.
import { expv } from './simd';

// @ts-ignore: decorator
@inline const GC: f32 = 0.7978845608028654; // sqrt(2 / pi)
// @ts-ignore: decorator
@inline const GA: f32 = 0.044715;

// gelu(x) = 0.5 x (1 + tanh(u)) = x s, with u = C (x + A x^3) and s = 1 / (1 + e^(-2u)) (no cancellation).
// gelu'(x) = s + 2 x s (1 - s) C (1 + 3 A x^2), with 1 - s = e^(-2u) s.

// @ts-ignore: decorator
@inline
function geluS(x: v128): v128 {
  const x2 = f32x4.pmin(f32x4.mul(x, x), f32x4.splat(1e30));
  const u = f32x4.mul(f32x4.mul(f32x4.splat(GC), x), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(GA), x2)));
  return expv(f32x4.mul(u, f32x4.splat(-2)));
}

export function gelu(x: usize, y: usize, i0: i32, i1: i32): void {
  const one = f32x4.splat(1);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    const xv = v128.load(x + o);
    const s = f32x4.div(one, f32x4.add(one, geluS(xv)));
    v128.store(y + o, f32x4.mul(xv, s));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    const xv = f32x4.splat(load<f32>(x + o));
    const s = f32x4.div(one, f32x4.add(one, geluS(xv)));
    store<f32>(y + o, f32x4.extract_lane(f32x4.mul(xv, s), 0));
  }
}

// @ts-ignore: decorator
@inline
function geluGrad(xv: v128, dyv: v128): v128 {
  const one = f32x4.splat(1);
  const e = geluS(xv);
  const s = f32x4.div(one, f32x4.add(one, e));
  const s1 = f32x4.mul(e, s); // 1 - s
  const x2 = f32x4.pmin(f32x4.mul(xv, xv), f32x4.splat(1e30));
  const poly = f32x4.mul(f32x4.splat(GC), f32x4.add(one, f32x4.mul(f32x4.splat(3 * GA), x2)));
  const t = f32x4.mul(f32x4.mul(f32x4.mul(s, s1), f32x4.add(xv, xv)), poly);
  return f32x4.mul(dyv, f32x4.add(s, t));
}

export function geluBackward(dy: usize, x: usize, dx: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    v128.store(dx + o, geluGrad(v128.load(x + o), v128.load(dy + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    store<f32>(dx + o, f32x4.extract_lane(geluGrad(f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(dy + o))), 0));
  }
}

// ---- AdamW ----------------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline
function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline
function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}
// @ts-ignore: decorator
@inline
function join32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2 (both rounded to f32); p' = p - lr (m'/c1 / (sqrt(v'/c2) + eps) + wd p). */
export function adamw(
  p: usize, g: usize, m: usize, v: usize, lr: f64, b1: f64, b2: f64, eps: f64, wd: f64, c1: f64, c2: f64, i0: i32, i1: i32,
): void {
  const vb1 = f64x2.splat(b1);
  const vk1 = f64x2.splat(1 - b1);
  const vb2 = f64x2.splat(b2);
  const vk2 = f64x2.splat(1 - b2);
  const vlr = f64x2.splat(lr);
  const veps = f64x2.splat(eps);
  const vwd = f64x2.splat(wd);
  const vc1 = f64x2.splat(c1);
  const vc2 = f64x2.splat(c2);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    const gv = v128.load(g + o);
    const g0 = lo64(gv);
    const g1 = hi64(gv);
    const mv = v128.load(m + o);
    // m and v are rounded to f32 before use, as the reference stores them in Float32Arrays and reads them back.
    const m32 = join32(
      f64x2.add(f64x2.mul(vb1, lo64(mv)), f64x2.mul(vk1, g0)),
      f64x2.add(f64x2.mul(vb1, hi64(mv)), f64x2.mul(vk1, g1)),
    );
    const vv = v128.load(v + o);
    const v32 = join32(
      f64x2.add(f64x2.mul(vb2, lo64(vv)), f64x2.mul(f64x2.mul(vk2, g0), g0)),
      f64x2.add(f64x2.mul(vb2, hi64(vv)), f64x2.mul(f64x2.mul(vk2, g1), g1)),
    );
    v128.store(m + o, m32);
    v128.store(v + o, v32);
    const pv = v128.load(p + o);
    const p0 = lo64(pv);
    const p1 = hi64(pv);
    const u0 = f64x2.add(f64x2.div(f64x2.div(lo64(m32), vc1), f64x2.add(f64x2.sqrt(f64x2.div(lo64(v32), vc2)), veps)), f64x2.mul(vwd, p0));
    const u1 = f64x2.add(f64x2.div(f64x2.div(hi64(m32), vc1), f64x2.add(f64x2.sqrt(f64x2.div(hi64(v32), vc2)), veps)), f64x2.mul(vwd, p1));
    v128.store(p + o, join32(f64x2.sub(p0, f64x2.mul(vlr, u0)), f64x2.sub(p1, f64x2.mul(vlr, u1))));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    const gi = <f64>load<f32>(g + o);
    const mi = <f32>(b1 * <f64>load<f32>(m + o) + (1 - b1) * gi);
    const vi = <f32>(b2 * <f64>load<f32>(v + o) + (1 - b2) * gi * gi);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const pi = <f64>load<f32>(p + o);
    store<f32>(p + o, <f32>(pi - lr * (<f64>mi / c1 / (Math.sqrt(<f64>vi / c2) + eps) + wd * pi)));
  }
}

// ---- simple elementwise ops -----------------------------------------------------------------------------------

export function add(a: usize, b: usize, y: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function mul(a: usize, b: usize, y: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

export function scale(a: usize, s: f32, y: usize, i0: i32, i1: i32): void {
  const sv = f32x4.splat(s);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.mul(v128.load(a + o), sv));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    store<f32>(y + o, load<f32>(a + o) * s);
  }
}

/** y[i, j] = x[i, j] + bias[j] for rows [r0, r1). */
export function addBias(x: usize, bias: usize, y: usize, n: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * <usize>n * 4;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const c = <usize>j * 4;
      v128.store(y + o + c, f32x4.add(v128.load(x + o + c), v128.load(bias + c)));
    }
    for (; j < n; j++) {
      const c = <usize>j * 4;
      store<f32>(y + o + c, load<f32>(x + o + c) + load<f32>(bias + c));
    }
  }
}

/** acc[j] (float64) += x[i, j] over rows i in [0, m), ascending, for columns [c0, c1). */
export function sumRows(x: usize, acc: usize, m: i32, n: i32, c0: i32, c1: i32): void {
  for (let i = 0; i < m; i++) {
    const o = x + <usize>i * <usize>n * 4;
    let j = c0;
    for (; j + 4 <= c1; j += 4) {
      const v = v128.load(o + <usize>j * 4);
      const a = acc + <usize>j * 8;
      v128.store(a, f64x2.add(v128.load(a), lo64(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), hi64(v)), 16);
    }
    for (; j < c1; j++) {
      const a = acc + <usize>j * 8;
      store<f64>(a, load<f64>(a) + <f64>load<f32>(o + <usize>j * 4));
    }
  }
}
