// Single-precision GEMM with 128-bit SIMD: C[M,N] = op(A)[M,K] x op(B)[K,N] (C is overwritten).
// Operands are addressed by element strides, so every transposition case and strided sub-matrices (attention heads)
// use the same code: op(A)[i,p] = A[i*rsA + p*csA], op(B)[p,j] = B[p*rsB + j*csB], C[i,j] = C[i*ldc + j].
//
// Every output element of the `packed` and `rows` paths is the same expression: acc = 0; for p = 0..K-1 ascending:
// acc = acc + a[i,p]*b[p,j] (one f32 multiply, one f32 add). So results do not depend on tiling, on which path a
// shape takes or on how rows/columns are split between threads. The `dot` path (b transposed, few rows) sums each
// dot product in 8 interleaved partial sums combined in a fixed order: deterministic, but not the same bits as the
// other paths, so callers pick the path from the full problem shape (gemmPath) before splitting it.

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 2048;

export const PATH_PACKED: i32 = 0;
export const PATH_ROWS: i32 = 1;
export const PATH_DOT: i32 = 2;

/** Bytes of scratch one gemm call needs (packed A block, packed B panel, one edge tile). */
export function gemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** The path for a problem shape; callers split work only after choosing it from the full shape. */
export function gemmPath(M: i32, N: i32, K: i32, rsA: i32, csA: i32, rsB: i32, csB: i32): i32 {
  if (M <= 8 && rsB == 1 && csA == 1) return PATH_DOT;
  if (M <= 16 && csB == 1) return PATH_ROWS;
  return PATH_PACKED;
}

export function gemm(
  path: i32, M: i32, N: i32, K: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, csB: i32, c: usize, ldc: i32, work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (let i = 0; i < M; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>N * 4);
    return;
  }
  if (path == PATH_DOT) gemmDot(M, N, K, a, rsA, b, csB, c, ldc);
  else if (path == PATH_ROWS) gemmRows(M, N, K, a, rsA, csA, b, rsB, c, ldc);
  else gemmPacked(M, N, K, a, rsA, csA, b, rsB, csB, c, ldc, work);
}

// ---- packed path -------------------------------------------------------------------------------------------

/** Packs op(A)[0..mc, 0..kc) (a points at its first element) into MR-row slivers [kc][MR], zero-padded rows. */
function packA(mc: i32, kc: i32, a: usize, rsA: i32, csA: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const base = a + <usize>(ir * rsA) * 4;
    if (mr == MR && rsA == 1) {
      // a transposed: the MR values of one p are contiguous.
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(base + <usize>(p * csA) * 4));
        dst += 16;
      }
    } else if (mr == MR) {
      const r0 = base;
      const r1 = base + <usize>rsA * 4;
      const r2 = base + <usize>(2 * rsA) * 4;
      const r3 = base + <usize>(3 * rsA) * 4;
      for (let p = 0; p < kc; p++) {
        const o = <usize>(p * csA) * 4;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(dst, r < mr ? load<f32>(base + <usize>(r * rsA + p * csA) * 4) : <f32>0);
          dst += 4;
        }
      }
    }
  }
}

/** Packs op(B)[0..kc, 0..nc) into NR-column slivers [kc][NR], zero-padded columns. */
function packB(kc: i32, nc: i32, b: usize, rsB: i32, csB: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const base = b + <usize>(jr * csB) * 4;
    if (nr == NR && csB == 1) {
      for (let p = 0; p < kc; p++) {
        const src = base + <usize>(p * rsB) * 4;
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += 32;
      }
    } else if (nr == NR && rsB == 1) {
      // b transposed: each column is contiguous in p; write it with stride NR.
      for (let j = 0; j < NR; j++) {
        const src = base + <usize>(j * csB) * 4;
        let d = dst + <usize>j * 4;
        for (let p = 0; p < kc; p++) {
          store<f32>(d, load<f32>(src + <usize>p * 4));
          d += 32;
        }
      }
      dst += <usize>(kc * NR) * 4;
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(dst, j < nr ? load<f32>(base + <usize>(p * rsB + j * csB) * 4) : <f32>0);
          dst += 4;
        }
      }
    }
  }
}

/** The MR x NR register tile: c (row stride ldcb bytes) = (first ? 0 : c) + Ap x Bp over kc. */
// @ts-ignore: decorator
@inline
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, first: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (!first) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldcb); c11 = v128.load(c + ldcb, 16);
    c20 = v128.load(c + 2 * ldcb); c21 = v128.load(c + 2 * ldcb, 16);
    c30 = v128.load(c + 3 * ldcb); c31 = v128.load(c + 3 * ldcb, 16);
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    ap += 16;
    bp += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldcb, c10); v128.store(c + ldcb, c11, 16);
  v128.store(c + 2 * ldcb, c20); v128.store(c + 2 * ldcb, c21, 16);
  v128.store(c + 3 * ldcb, c30); v128.store(c + 3 * ldcb, c31, 16);
}

function gemmPacked(
  M: i32, N: i32, K: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, csB: i32, c: usize, ldc: i32, work: usize,
): void {
  const pa = work;
  const pb = work + <usize>(MC * KC) * 4;
  const tmp = pb + <usize>(KC * NC) * 4;
  const ldcb = <usize>ldc * 4;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const first = pc == 0;
      packB(kc, nc, b + <usize>(pc * rsB + jc * csB) * 4, rsB, csB, pb);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(mc, kc, a + <usize>(ic * rsA + pc * csA) * 4, rsA, csA, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + <usize>(ir * kc) * 4;
            const cp = c + <usize>((ic + ir) * ldc + jc + jr) * 4;
            if (mr == MR && nr == NR) {
              tile(kc, ap, bp, cp, ldcb, first);
            } else {
              if (!first)
                for (let r = 0; r < mr; r++)
                  for (let j = 0; j < nr; j++)
                    store<f32>(tmp + <usize>(r * NR + j) * 4, load<f32>(cp + <usize>r * ldcb + <usize>j * 4));
              tile(kc, ap, bp, tmp, <usize>NR * 4, first);
              for (let r = 0; r < mr; r++)
                for (let j = 0; j < nr; j++)
                  store<f32>(cp + <usize>r * ldcb + <usize>j * 4, load<f32>(tmp + <usize>(r * NR + j) * 4));
            }
          }
        }
      }
    }
  }
}

// ---- rows path: few rows, b with unit column stride (no packing) -----------------------------------------

/** 4 rows x 8 columns over all of K, reading b rows directly. */
// @ts-ignore: decorator
@inline
function rows4x8(K: i32, a0: usize, a1: usize, a2: usize, a3: usize, csAb: usize, b: usize, rsBb: usize, c: usize, ldcb: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let a = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(a2);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(a3);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    a0 += csAb; a1 += csAb; a2 += csAb; a3 += csAb;
    b += rsBb;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldcb, c10); v128.store(c + ldcb, c11, 16);
  v128.store(c + 2 * ldcb, c20); v128.store(c + 2 * ldcb, c21, 16);
  v128.store(c + 3 * ldcb, c30); v128.store(c + 3 * ldcb, c31, 16);
}

/** 1 row x 16 columns over all of K. */
// @ts-ignore: decorator
@inline
function row1x16(K: i32, a0: usize, csAb: usize, b: usize, rsBb: usize, c: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    const a = v128.load32_splat(a0);
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(b)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(b, 16)));
    c2 = f32x4.add(c2, f32x4.mul(a, v128.load(b, 32)));
    c3 = f32x4.add(c3, f32x4.mul(a, v128.load(b, 48)));
    a0 += csAb;
    b += rsBb;
  }
  v128.store(c, c0); v128.store(c, c1, 16); v128.store(c, c2, 32); v128.store(c, c3, 48);
}

/** 1 row x 4 columns over all of K. */
// @ts-ignore: decorator
@inline
function row1x4(K: i32, a0: usize, csAb: usize, b: usize, rsBb: usize, c: usize): void {
  let c0 = f32x4.splat(0);
  for (let p = 0; p < K; p++) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0), v128.load(b)));
    a0 += csAb;
    b += rsBb;
  }
  v128.store(c, c0);
}

/** 1 row x 1 column over all of K (scalar, same operation order as the vector lanes). */
// @ts-ignore: decorator
@inline
function row1x1(K: i32, a0: usize, csAb: usize, b: usize, rsBb: usize, c: usize): void {
  let s: f32 = 0;
  for (let p = 0; p < K; p++) {
    s = s + load<f32>(a0) * load<f32>(b);
    a0 += csAb;
    b += rsBb;
  }
  store<f32>(c, s);
}

function gemmRows(M: i32, N: i32, K: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, c: usize, ldc: i32): void {
  const csAb = <usize>csA * 4;
  const rsAb = <usize>rsA * 4;
  const rsBb = <usize>rsB * 4;
  const ldcb = <usize>ldc * 4;
  const m4 = M & ~3;
  // Column strips of 8 (16 for single rows), so a strip of b stays in L1 across the row blocks.
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    const bj = b + <usize>j * 4;
    for (let i = 0; i < m4; i += 4) {
      const ai = a + <usize>i * rsAb;
      const ci = c + <usize>i * ldcb + <usize>j * 4;
      rows4x8(K, ai, ai + rsAb, ai + 2 * rsAb, ai + 3 * rsAb, csAb, bj, rsBb, ci, ldcb);
      rows4x8(K, ai, ai + rsAb, ai + 2 * rsAb, ai + 3 * rsAb, csAb, bj + 32, rsBb, ci + 32, ldcb);
    }
    for (let i = m4; i < M; i++) row1x16(K, a + <usize>i * rsAb, csAb, bj, rsBb, c + <usize>i * ldcb + <usize>j * 4);
  }
  for (; j + 4 <= N; j += 4)
    for (let i = 0; i < M; i++) row1x4(K, a + <usize>i * rsAb, csAb, b + <usize>j * 4, rsBb, c + <usize>i * ldcb + <usize>j * 4);
  for (; j < N; j++)
    for (let i = 0; i < M; i++) row1x1(K, a + <usize>i * rsAb, csAb, b + <usize>j * 4, rsBb, c + <usize>i * ldcb + <usize>j * 4);
}

// ---- dot path: few rows of a (unit column stride) against b transposed (unit row stride) -------------------

/** Horizontal sum in a fixed order: (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

function gemmDot(M: i32, N: i32, K: i32, a: usize, rsA: i32, b: usize, csB: i32, c: usize, ldc: i32): void {
  const k8 = K & ~7;
  const csBb = <usize>csB * 4;
  for (let j = 0; j < N; j += 4) {
    const nj = min(4, N - j);
    // Columns past N alias the last valid one (computed, never stored).
    const b0 = b + <usize>j * csBb;
    const b1 = b + <usize>(j + min(1, nj - 1)) * csBb;
    const b2 = b + <usize>(j + min(2, nj - 1)) * csBb;
    const b3 = b + <usize>(j + min(3, nj - 1)) * csBb;
    for (let i = 0; i < M; i++) {
      const ai = a + <usize>(i * rsA) * 4;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      for (let p = 0; p < k8; p += 8) {
        const o = <usize>p * 4;
        const x0 = v128.load(ai + o);
        const x1 = v128.load(ai + o, 16);
        s00 = f32x4.add(s00, f32x4.mul(x0, v128.load(b0 + o)));
        s01 = f32x4.add(s01, f32x4.mul(x1, v128.load(b0 + o, 16)));
        s10 = f32x4.add(s10, f32x4.mul(x0, v128.load(b1 + o)));
        s11 = f32x4.add(s11, f32x4.mul(x1, v128.load(b1 + o, 16)));
        s20 = f32x4.add(s20, f32x4.mul(x0, v128.load(b2 + o)));
        s21 = f32x4.add(s21, f32x4.mul(x1, v128.load(b2 + o, 16)));
        s30 = f32x4.add(s30, f32x4.mul(x0, v128.load(b3 + o)));
        s31 = f32x4.add(s31, f32x4.mul(x1, v128.load(b3 + o, 16)));
      }
      let t0 = hsum(f32x4.add(s00, s01));
      let t1 = hsum(f32x4.add(s10, s11));
      let t2 = hsum(f32x4.add(s20, s21));
      let t3 = hsum(f32x4.add(s30, s31));
      for (let p = k8; p < K; p++) {
        const o = <usize>p * 4;
        const x = load<f32>(ai + o);
        t0 = t0 + x * load<f32>(b0 + o);
        t1 = t1 + x * load<f32>(b1 + o);
        t2 = t2 + x * load<f32>(b2 + o);
        t3 = t3 + x * load<f32>(b3 + o);
      }
      const ci = c + <usize>(i * ldc + j) * 4;
      store<f32>(ci, t0);
      if (nj > 1) store<f32>(ci, t1, 4);
      if (nj > 2) store<f32>(ci, t2, 8);
      if (nj > 3) store<f32>(ci, t3, 12);
    }
  }
}
