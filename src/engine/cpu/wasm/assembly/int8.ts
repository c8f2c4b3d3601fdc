// Int8-weight matmul with per-output-channel scales: C[M,N] = (A[M,K] x Q[K,N]) * scales[N], Q signed bytes.
//
// The weight arrives as Int8Weight.q: u32 [N, ceil(K/4)], column n's K bytes contiguous (lowest byte first), which
// suits neither a broadcast-a microkernel nor a GEMV. int8Pack re-lays it out once per weight (the host caches the
// result with the weight) as panels of 8 columns: panel jp holds bytes [K][8] (p-major), columns past N zero.
//
// Every output element is the same expression on every path, for every M and any split of the columns between
// threads: acc = 0; for p = 0..K-1 ascending: acc = acc + a[i,p] * f32(q[p,j]) (one f32 multiply, one f32 add; the
// int8 -> f32 conversion is exact); C[i,j] = acc * scale[j]. So a row's result does not depend on the other rows
// of the call (batched and one-at-a-time decoding give the same bits). Against the TypeScript reference (float64
// sum, one rounding) it differs by f32 accumulation error only.
//
// Many rows (prefill, large batches): the host may instead run the fp32 gemm on an exact f32 copy of Q
// (int8Dequant, cached with the weight) and scale the columns after (scaleCols): the gemm's per-element expression
// is this one (acc = 0; acc = acc + a * b over ascending p), so the bits are the same as int8Gemm's.
//
// Per panel, the 8 columns are dequantized once into f32 scratch [K][8] (`work`), then every row block reads it:
// 4 rows x 8 columns register tiles, single rows after.

import { mul } from './pointwise';

// @ts-ignore: decorator
@inline const PANEL: i32 = 8;

/** Bytes of packed panels for a [K, N] weight. */
export function int8PackedBytes(K: i32, N: i32): i32 {
  return ((N + PANEL - 1) / PANEL) * K * PANEL;
}

/** Scratch bytes one int8Gemm call needs (a dequantized panel and an edge tile). */
export function int8ScratchBytes(K: i32): i32 {
  return (K * PANEL + 4 * PANEL) * 4;
}

/** q: u32 [N, ceil(K/4)] words (byte p of column j at q + j * 4 * ceil(K/4) + p) -> panels [N/8][K][8] bytes. */
export function int8Pack(q: usize, K: i32, N: i32, dst: usize): void {
  const colBytes = <usize>(((K + 3) >> 2) << 2);
  const panels = (N + PANEL - 1) / PANEL;
  for (let jp = 0; jp < panels; jp++) {
    const base = dst + <usize>jp * <usize>K * PANEL;
    for (let jj = 0; jj < PANEL; jj++) {
      const j = jp * PANEL + jj;
      let d = base + <usize>jj;
      if (j < N) {
        const src = q + <usize>j * colBytes;
        for (let p = 0; p < K; p++) {
          store<i8>(d, load<i8>(src + <usize>p));
          d += PANEL;
        }
      } else {
        for (let p = 0; p < K; p++) {
          store<i8>(d, 0);
          d += PANEL;
        }
      }
    }
  }
}

/** Panel bytes [K][8] -> f32 [K][8]. */
function dequantPanel(src: usize, K: i32, dst: usize): void {
  let p = 0;
  // Two p (16 bytes) per vector.
  for (; p + 2 <= K; p += 2) {
    const v = v128.load(src + <usize>p * PANEL);
    const lo = i16x8.extend_low_i8x16_s(v);
    const hi = i16x8.extend_high_i8x16_s(v);
    const o = dst + <usize>p * PANEL * 4;
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)));
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), 16);
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), 32);
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), 48);
  }
  for (; p < K; p++) {
    const v = i16x8.extend_low_i8x16_s(v128.load64_zero(src + <usize>p * PANEL));
    const o = dst + <usize>p * PANEL * 4;
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)));
    v128.store(o, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), 16);
  }
}

/** 4 rows x 8 columns: c rows (stride ldcb bytes) = (A rows x panel) * scales. */
// @ts-ignore: decorator
@inline
function tile4x8(K: i32, a0: usize, ldab: usize, w: usize, s0: v128, s1: v128, c: usize, ldcb: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const a1 = a0 + ldab;
  const a2 = a1 + ldab;
  const a3 = a2 + ldab;
  for (let p = 0; p < K; p++) {
    const o = <usize>p * 4;
    const b0 = v128.load(w);
    const b1 = v128.load(w, 16);
    let a = v128.load32_splat(a0 + o);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(a1 + o);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(a2 + o);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(a3 + o);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    w += 32;
  }
  v128.store(c, f32x4.mul(c00, s0)); v128.store(c, f32x4.mul(c01, s1), 16);
  v128.store(c + ldcb, f32x4.mul(c10, s0)); v128.store(c + ldcb, f32x4.mul(c11, s1), 16);
  v128.store(c + 2 * ldcb, f32x4.mul(c20, s0)); v128.store(c + 2 * ldcb, f32x4.mul(c21, s1), 16);
  v128.store(c + 3 * ldcb, f32x4.mul(c30, s0)); v128.store(c + 3 * ldcb, f32x4.mul(c31, s1), 16);
}

/** 1 row x 8 columns (same expression as a row of tile4x8). */
// @ts-ignore: decorator
@inline
function row1x8(K: i32, a0: usize, w: usize, s0: v128, s1: v128, c: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    const a = v128.load32_splat(a0 + <usize>p * 4);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(w)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(w, 16)));
    w += 32;
  }
  v128.store(c, f32x4.mul(c0, s0));
  v128.store(c, f32x4.mul(c1, s1), 16);
}

/** 1 row x 8 columns reading the int8 panel directly (dequantized in registers; same expression as row1x8). */
// @ts-ignore: decorator
@inline
function row1x8q(K: i32, a0: usize, wq: usize, s0: v128, s1: v128, c: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let p = 0;
  // Two p per 16-byte load, both into the same accumulators in p order (one sequential chain per column).
  for (; p + 2 <= K; p += 2) {
    const v = v128.load(wq + <usize>p * PANEL);
    const lo = i16x8.extend_low_i8x16_s(v);
    const hi = i16x8.extend_high_i8x16_s(v);
    const a = v128.load32_splat(a0 + <usize>p * 4);
    c0 = f32x4.add(c0, f32x4.mul(a, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo))));
    c1 = f32x4.add(c1, f32x4.mul(a, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo))));
    const b = v128.load32_splat(a0 + <usize>p * 4, 4);
    c0 = f32x4.add(c0, f32x4.mul(b, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi))));
    c1 = f32x4.add(c1, f32x4.mul(b, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi))));
  }
  for (; p < K; p++) {
    const v = i16x8.extend_low_i8x16_s(v128.load64_zero(wq + <usize>p * PANEL));
    const a = v128.load32_splat(a0 + <usize>p * 4);
    c0 = f32x4.add(c0, f32x4.mul(a, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v))));
    c1 = f32x4.add(c1, f32x4.mul(a, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v))));
  }
  v128.store(c, f32x4.mul(c0, s0));
  v128.store(c, f32x4.mul(c1, s1), 16);
}

/**
 * C [M, N] (row stride ldc) for the columns [j0, j1) (j0 a multiple of 8; j1 a multiple of 8 or N); a [M, K] row
 * stride lda; w the packed panels (int8Pack); scales [N]; work: int8ScratchBytes(K) bytes of this thread's own.
 */
export function int8Gemm(
  M: i32, N: i32, K: i32, a: usize, lda: i32, w: usize, scales: usize, c: usize, ldc: i32, work: usize, j0: i32, j1: i32,
): void {
  if (M <= 0 || j1 <= j0) return;
  const ldab = <usize>lda * 4;
  const ldcb = <usize>ldc * 4;
  const panel = work;
  const tmp = work + <usize>(K * PANEL) * 4;
  const m4 = M & ~3;
  let j = j0;
  if (M == 1) {
    // One row (decoding one sequence): no scratch round trip, the panel's bytes go straight into the products.
    for (; j + PANEL <= j1 && j + PANEL <= N; j += PANEL)
      row1x8q(K, a, w + <usize>(j / PANEL) * <usize>K * PANEL, v128.load(scales + <usize>j * 4), v128.load(scales + <usize>j * 4, 16), c + <usize>j * 4);
  }
  for (; j < j1; j += PANEL) {
    const nr = min(PANEL, N - j);
    dequantPanel(w + <usize>(j / PANEL) * <usize>K * PANEL, K, panel);
    let s0: v128, s1: v128;
    if (nr == PANEL) {
      s0 = v128.load(scales + <usize>j * 4);
      s1 = v128.load(scales + <usize>j * 4, 16);
    } else {
      // Edge panel: scales past N are never stored; load lane by lane (no read past the tensor).
      for (let jj = 0; jj < PANEL; jj++) store<f32>(tmp + <usize>jj * 4, jj < nr ? load<f32>(scales + <usize>(j + jj) * 4) : <f32>0);
      s0 = v128.load(tmp);
      s1 = v128.load(tmp, 16);
    }
    if (nr == PANEL) {
      for (let i = 0; i < m4; i += 4)
        tile4x8(K, a + <usize>i * ldab, ldab, panel, s0, s1, c + <usize>i * ldcb + <usize>j * 4, ldcb);
      for (let i = m4; i < M; i++) row1x8(K, a + <usize>i * ldab, panel, s0, s1, c + <usize>i * ldcb + <usize>j * 4);
    } else {
      for (let i = 0; i < M; i++) {
        row1x8(K, a + <usize>i * ldab, panel, s0, s1, tmp);
        const ci = c + <usize>i * ldcb + <usize>j * 4;
        for (let jj = 0; jj < nr; jj++) store<f32>(ci + <usize>jj * 4, load<f32>(tmp + <usize>jj * 4));
      }
    }
  }
}

/** q (as int8Pack reads it) -> f32 W [K, N] row-major, exact (for the large-M path through the fp32 gemm). */
export function int8Dequant(q: usize, K: i32, N: i32, dst: usize): void {
  const colBytes = <usize>(((K + 3) >> 2) << 2);
  for (let j = 0; j < N; j++) {
    const src = q + <usize>j * colBytes;
    for (let p = 0; p < K; p++) store<f32>(dst + (<usize>p * <usize>N + <usize>j) * 4, <f32>load<i8>(src + <usize>p));
  }
}

/** c[r, j] *= scales[j] for rows [r0, r1) of c [*, N] (the per-column scale after the fp32 gemm). */
export function scaleCols(c: usize, scales: usize, N: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const o = c + <usize>r * <usize>N * 4;
    mul(o, scales, o, 0, N);
  }
}
