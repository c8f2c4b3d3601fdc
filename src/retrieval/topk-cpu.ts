// Top-k per row on the host: the TypeScript reference of shaders/topk.wgsl, and what the cpu backends use.
//
// Order (shared with the WGSL kernel, bit for bit): descending score, ties broken by the lower column index.
// Scores are compared through an order-preserving u32 key of their IEEE-754 bits (see `orderKey`), so the order
// is total and the same on every backend: -0 and +0 tie, and NaN ranks below every number (below -Infinity).
// The returned values are the stored scores themselves (NaN stays NaN).

/** The largest k the GPU kernel supports (its per-thread lists live in registers). */
export const MAX_TOPK = 16;

export interface TopKResult {
  /** [rows, k] scores, best first. */
  values: Float32Array;
  /** [rows, k] column indices of those scores. */
  indices: Int32Array;
}

/**
 * An unsigned key with key(a) > key(b) exactly when a > b as numbers; -0 maps to the key of +0 and every NaN to
 * 0, the lowest key (below -Infinity's 0x007fffff).
 */
export function orderKey(bits: number): number {
  const b = bits >>> 0;
  if ((b & 0x7fffffff) > 0x7f800000) return 0; // NaN
  if (b === 0x80000000) return 0x80000000; // -0 -> +0
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

/** Throws unless rows, n, k describe a valid top-k (1 <= k <= n; k <= maxK). */
export function checkTopK(op: string, rows: number, n: number, k: number, maxK = Infinity): void {
  for (const [name, v] of [['rows', rows], ['n', n], ['k', k]] as const)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  if (k > n) throw new RangeError(`${op}: k = ${k} is larger than the row length n = ${n}`);
  if (k > maxK) throw new RangeError(`${op}: k = ${k} exceeds the supported maximum ${maxK}`);
}

/** Top-k of every row of a row-major [rows, n] matrix. */
export function topkCpu(scores: Float32Array, rows: number, n: number, k: number): TopKResult {
  checkTopK('topk', rows, n, k);
  if (scores.length !== rows * n) throw new RangeError(`topk: scores has ${scores.length} elements, expected ${rows * n} for [${rows}, ${n}]`);
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  const values = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  const keys = new Uint32Array(k);
  const idx = new Int32Array(k);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let count = 0;
    for (let c = 0; c < n; c++) {
      const key = orderKey(bits[base + c]);
      // Columns arrive in increasing index, so a later column never beats an equal key already kept.
      if (count === k && key <= keys[k - 1]) continue;
      let j = count < k ? count++ : k - 1;
      while (j > 0 && key > keys[j - 1]) {
        keys[j] = keys[j - 1];
        idx[j] = idx[j - 1];
        j--;
      }
      keys[j] = key;
      idx[j] = c;
    }
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = idx[j];
      values[r * k + j] = scores[base + idx[j]];
    }
  }
  return { values, indices };
}
