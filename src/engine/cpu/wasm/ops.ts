// The fast cpu Ops: tensors live in WebAssembly memory and the hot ops run WebAssembly SIMD kernels
// (assembly/*.ts): matmul (all transpositions), logprob and its backward, attention forward/backward (causal or
// bidirectional, with padded keys), layernorm forward/backward, L2 normalization forward/backward, GELU
// forward/backward, AdamW, int8-weight matmul (per-channel scales; the weight re-laid out once into 8-column panels
// and cached with its q tensor), nucleus sampling (top-p bisected, no sort), plus the cheap elementwise ops and column sums.
// The rest (embedding backward, sum, the unfused logprob anchor) runs the TypeScript reference
// on views of the same memory. Same shape checks and errors as the reference (src/engine/shapes.ts).
//
// Determinism: every kernel has a fixed operation order that does not depend on how its work is split between the
// two threads (rows, columns, (batch, head) pairs or element ranges are computed independently), so 1-thread and
// 2-thread runs give the same bits, and so do repeated runs.
import { ShapeError } from '../../errors.ts';
import {
  checkAdamW, checkAddBias, checkAttention, checkAttentionBackward, checkCopyRows, checkElementwise, checkEmbedding,
  checkHostData, checkIndices, checkL2normalize, checkL2normalizeBackward, checkLayernorm, checkLayernormBackward, checkLogprob, checkLogprobBackward, checkMatmul, checkMatmulInt8, checkSample,
  checkWrite, expectAlive, expectDtype, fmt, rowsCols, sameShape,
} from '../../shapes.ts';
import type { AnyTypedArray, AttentionSpec, DType, Int8Weight, Ops, Tensor } from '../../types.ts';
import { embeddingBackward as refEmbeddingBackward } from '../embedding.ts';
import { logprobUnfused as refLogprobUnfused } from '../logprob.ts';
import { sum as refSum } from '../reduce.ts';
import { type CachedAttention, checkCachedAttention } from '../cached-attention.ts';
import { type PickOp, checkPick } from '../pick.ts';
import { type RowScatter, checkScatterRows } from '../row-scatter.ts';
import { CpuTensor, anyData } from '../tensor.ts';
import { GEMM_PACKED } from './kernels.ts';
import { PARALLEL_MIN, type WasmRuntime } from './runtime.ts';
import { WasmTensor } from './tensor.ts';

const MR = 4;
/**
 * From this many rows on, matmulInt8 runs the fp32 gemm on a cached exact f32 copy of the weight (4 bytes per weight
 * on top of the int8 panels); below, the int8 kernel (the one-row GEMV dequantizes in registers). Both give the same
 * bits; at 16+ rows the gemm path never takes the differently-summed dot path.
 */
const INT8_DENSE_ROWS = 16;
const ALIGN_COLS = 16;

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

export function createWasmOps(rt: WasmRuntime): Ops & RowScatter & PickOp & CachedAttention {
  const k = rt.k;

  /** The tensor as one of ours, or the reference's error for a tensor of another backend. */
  const own = (op: string, t: Tensor): WasmTensor => {
    if (!(t instanceof WasmTensor) || t.rt !== rt) {
      const whose = t instanceof WasmTensor ? 'another cpu (wasm) backend' : t instanceof CpuTensor ? 'the cpu reference backend' : `the ${t.backend} backend`;
      throw new ShapeError(`${op}: tensor ${fmt(t.shape)} belongs to ${whose}, not this cpu (wasm) backend`);
    }
    expectAlive(op, t);
    return t;
  };

  const fresh = (shape: readonly number[], dtype: DType = 'f32'): WasmTensor => new WasmTensor(rt, shape, dtype);

  /** A reference-backend tensor over the same memory (for the ops delegated to the TypeScript reference). */
  const asRef = (op: string, t: Tensor): CpuTensor => {
    const w = own(op, t);
    return new CpuTensor(w.view(), w.shape, w.dtype);
  };

  /** Copies a reference result into a tensor of ours. */
  const fromRef = (t: Tensor): WasmTensor => {
    const data = anyData('result', t);
    const out = fresh(t.shape, t.dtype);
    out.view().set(data);
    return out;
  };

  /**
   * The chunk size for `total` units of `work` when the kernel should be shared with the helper thread, else null:
   * about 8 chunks (fewer when that would make them smaller than half the split threshold), aligned to `align`
   * units and at least `minUnits` long.
   */
  const chunking = (total: number, work: number, min: number, align: number, minUnits = 1): number | null => {
    if (!rt.splits(work, min)) return null;
    const n = Math.max(2, Math.min(8, Math.floor((2 * work) / Math.max(min, 1))));
    const chunk = Math.max(roundUp(Math.ceil(total / n), align), roundUp(minUnits, align));
    return chunk < total ? chunk : null;
  };

  /** Runs a kernel whose last two arguments are a unit range [i0, i1) over [0, n), shared when large. */
  const ranged = (name: 'gelu' | 'geluBackward' | 'adamw' | 'logprobRows' | 'logprobBackwardRows' | 'sampleRows' | 'pickRows', n: number, work: number,
    args: number[], align = 4): void => {
    const chunk = chunking(n, work, PARALLEL_MIN.elements, align);
    if (chunk === null) {
      (k[name] as (...a: number[]) => void)(...args);
      return;
    }
    rt.runChunked(name, args, args, { total: n, chunk, start: args.length - 2, end: args.length - 1 });
  };

  /** C [m, n] (row stride ldc) = op(A) op(B), the path chosen from the full shape, shared by rows or columns. */
  const gemm = (m: number, n: number, kk: number, a: number, rsA: number, csA: number, b: number, rsB: number,
    csB: number, c: number, ldc: number): void => {
    const path = k.gemmPath(m, n, kk, rsA, csA, rsB, csB);
    const mine = [path, m, n, kk, a, rsA, csA, b, rsB, csB, c, ldc, rt.work[0]];
    const theirs = [path, m, n, kk, a, rsA, csA, b, rsB, csB, c, ldc, rt.work[rt.threads - 1]];
    const work = m * n * kk;
    // Split the longer side; the packed path re-packs the other operand per chunk, so chunks are >= 128 long.
    const byRows = path === GEMM_PACKED && m >= n;
    const chunk = kk === 0 ? null : byRows
      ? chunking(m, work, PARALLEL_MIN.gemm, MR, 128)
      : chunking(n, work, PARALLEL_MIN.gemm, ALIGN_COLS, path === GEMM_PACKED ? 128 : 1);
    if (chunk === null) {
      k.gemm(path, m, n, kk, a, rsA, csA, b, rsB, csB, c, ldc, rt.work[0]);
      return;
    }
    if (byRows) rt.runChunked('gemm', mine, theirs, { total: m, chunk, count: 1, offsets: [[4, rsA * 4], [10, ldc * 4]] });
    else rt.runChunked('gemm', mine, theirs, { total: n, chunk, count: 2, offsets: [[7, csB * 4], [10, 4]] });
  };

  /**
   * C [m, n] = A [m, k] x int8 panels (scales [n]), shared by column panels of 8 when large. Every output element has
   * the same operation order whatever m is and however the columns are split (see assembly/int8.ts).
   */
  const int8Gemm = (m: number, n: number, kk: number, a: number, panels: number, scales: number, c: number): void => {
    const need = k.int8ScratchBytes(kk);
    const big = need > k.gemmScratchBytes();
    const w0 = big ? rt.alloc(need) : rt.work[0];
    const w1 = big && rt.threads > 1 ? rt.alloc(need) : rt.work[rt.threads - 1];
    try {
      const mine = [m, n, kk, a, kk, panels, scales, c, n, w0, 0, n];
      const chunk = chunking(n, m * n * kk, PARALLEL_MIN.gemm, 8, 64);
      if (chunk === null) k.int8Gemm(m, n, kk, a, kk, panels, scales, c, n, w0, 0, n);
      else rt.runChunked('int8Gemm', mine, [m, n, kk, a, kk, panels, scales, c, n, w1, 0, n], { total: n, chunk, start: 10, end: 11 });
    } finally {
      if (big) {
        rt.release(w0, need);
        if (rt.threads > 1) rt.release(w1, need);
      }
    }
  };

  /** Column sums of x [m, n] in float64 (ascending rows), rounded once into a fresh [n] tensor. */
  const columnSums = (x: number, m: number, n: number): WasmTensor => {
    const out = fresh([n]);
    const acc = rt.alloc(n * 8);
    rt.f64.fill(0, acc >>> 3, (acc >>> 3) + n);
    k.sumRows(x, acc, m, n, 0, n);
    k.f64ToF32(acc, out.ptr, n);
    rt.release(acc, n * 8);
    return out;
  };

  /** keyLengths copied into WebAssembly memory for the attention kernels: [pointer (0 when absent), bytes]. */
  const keyLengths = (spec: AttentionSpec): [number, number] => {
    const lens = spec.keyLengths;
    if (!lens) return [0, 0];
    const bytes = lens.length * 4;
    const ptr = rt.alloc(bytes);
    rt.i32.set(lens, ptr >>> 2);
    return [ptr, bytes];
  };

  const ops: Ops & RowScatter & PickOp & CachedAttention = {
    // ---- memory -------------------------------------------------------------------------------------------
    tensor(data: AnyTypedArray, shape: readonly number[]): Tensor {
      const dtype = checkHostData('tensor', data, shape);
      const t = fresh(shape, dtype);
      t.view().set(data);
      return t;
    },
    zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
      const t = fresh(shape, dtype);
      t.view().fill(0);
      return t;
    },
    async read(t: Tensor): Promise<AnyTypedArray> {
      return own('read', t).view().slice();
    },
    async readF32(t: Tensor): Promise<Float32Array> {
      expectAlive('readF32', t);
      expectDtype('readF32', 't', t, 'f32');
      return own('readF32', t).view().slice() as Float32Array;
    },
    async readI32(t: Tensor): Promise<Int32Array> {
      expectAlive('readI32', t);
      expectDtype('readI32', 't', t, 'i32');
      return own('readI32', t).view().slice() as Int32Array;
    },
    write(t: Tensor, data: AnyTypedArray): void {
      checkWrite(t, data);
      const w = own('write', t);
      w.dropDerived();
      w.view().set(data);
    },
    copyRows(dst: Tensor, row: number, src: Tensor): void {
      checkCopyRows(dst, row, src);
      const d = own('copyRows', dst);
      const s = own('copyRows', src);
      d.dropDerived();
      d.view().set(s.view(), row * dst.shape[1]);
    },
    scatterRows(dst: Tensor, rows: Int32Array, src: Tensor): void {
      const [, n] = checkScatterRows(dst, rows, src);
      const d = own('scatterRows', dst);
      const s = own('scatterRows', src);
      d.dropDerived();
      const heap = rt.i32;
      const from = s.ptr >>> 2;
      const to = d.ptr >>> 2;
      for (let i = 0; i < rows.length; i++) heap.copyWithin(to + rows[i] * n, from + i * n, from + (i + 1) * n);
    },
    dispose(t: Tensor): void {
      if (t instanceof WasmTensor) t.dispose();
    },
    async flush(): Promise<void> {},

    // ---- linear algebra -----------------------------------------------------------------------------------
    matmul(a, b, opts = {}) {
      const [m, kk, n] = checkMatmul(a, b, opts);
      const A = own('matmul', a);
      const B = own('matmul', b);
      const out = fresh([m, n]);
      if (m * n === 0) return out;
      const [rsA, csA] = opts.transA ? [1, m] : [kk, 1];
      const [rsB, csB] = opts.transB ? [1, kk] : [n, 1];
      gemm(m, n, kk, A.ptr, rsA, csA, B.ptr, rsB, csB, out.ptr, n);
      return out;
    },
    matmulInt8(a: Tensor, w: Int8Weight): Tensor {
      const op = 'matmulInt8';
      const [m, kk, n] = checkMatmulInt8(a, w);
      const [A, Q, S] = [own(op, a), own(op, w.q), own(op, w.scales)];
      const out = fresh([m, n]);
      if (m * n === 0) return out;
      if (kk === 0) {
        out.view().fill(0);
        return out;
      }
      if (m >= INT8_DENSE_ROWS) {
        // Many rows: the fp32 gemm on the exact f32 copy of Q, then the column scales: the same per-element
        // expression as the int8 kernel (assembly/int8.ts), so the same bits, at the packed gemm's speed.
        const dense = Q.int8Dense(kk, n, (bytes) => {
          const ptr = rt.alloc(bytes);
          k.int8Dequant(Q.ptr, kk, n, ptr);
          return ptr;
        });
        gemm(m, n, kk, A.ptr, kk, 1, dense, n, 1, out.ptr, n);
        k.scaleCols(out.ptr, S.ptr, n, 0, m);
        return out;
      }
      const panels = Q.int8Panels(kk, n, (bytes) => {
        const ptr = rt.alloc(bytes);
        k.int8Pack(Q.ptr, kk, n, ptr);
        return ptr;
      });
      int8Gemm(m, n, kk, A.ptr, panels, S.ptr, out.ptr);
      return out;
    },

    // ---- elementwise and reductions -----------------------------------------------------------------------
    add(a, b) {
      checkElementwise('add', a, b);
      const [A, B] = [own('add', a), own('add', b)];
      const out = fresh(a.shape);
      k.add(A.ptr, B.ptr, out.ptr, 0, out.size);
      return out;
    },
    mul(a, b) {
      checkElementwise('mul', a, b);
      const [A, B] = [own('mul', a), own('mul', b)];
      const out = fresh(a.shape);
      k.mul(A.ptr, B.ptr, out.ptr, 0, out.size);
      return out;
    },
    scale(x, s) {
      expectAlive('scale', x);
      expectDtype('scale', 'x', x, 'f32');
      const X = own('scale', x);
      const out = fresh(x.shape);
      k.scale(X.ptr, Math.fround(s), out.ptr, 0, out.size);
      return out;
    },
    addBias(x, bias) {
      const [m, n] = checkAddBias(x, bias);
      const [X, B] = [own('addBias', x), own('addBias', bias)];
      const out = fresh([m, n]);
      k.addBias(X.ptr, B.ptr, out.ptr, n, 0, m);
      return out;
    },
    sum(x) {
      return fromRef(refSum(asRef('sum', x)));
    },
    sumRows(x) {
      const [m, n] = rowsCols('sumRows', 'x', x);
      return columnSums(own('sumRows', x).ptr, m, n);
    },

    // ---- network layers -----------------------------------------------------------------------------------
    embedding(table, ids) {
      const [n, vocab, dim] = checkEmbedding(table, ids);
      const W = own('embedding', table);
      const I = own('embedding', ids);
      checkIndices('embedding', 'ids', I.view(), vocab);
      const out = fresh([n, dim]);
      const heap = rt.f32;
      const ids32 = I.view();
      const src = W.ptr >>> 2;
      const dst = out.ptr >>> 2;
      for (let i = 0; i < n; i++) heap.copyWithin(dst + i * dim, src + ids32[i] * dim, src + (ids32[i] + 1) * dim);
      return out;
    },
    embeddingBackward(dOut, ids, vocab) {
      return fromRef(refEmbeddingBackward(asRef('embeddingBackward', dOut), ids, vocab));
    },
    layernorm(x, gamma, beta, eps) {
      const op = 'layernorm';
      const [m, n] = checkLayernorm(x, gamma, beta, eps);
      const [X, G, B] = [own(op, x), own(op, gamma), own(op, beta)];
      const y = fresh([m, n]);
      const mean = fresh([m]);
      const rstd = fresh([m]);
      k.layernormRows(X.ptr, G.ptr, B.ptr, y.ptr, mean.ptr, rstd.ptr, n, eps, 0, m);
      return { y, mean, rstd };
    },
    layernormBackward(dy, x, gamma, mean, rstd) {
      const op = 'layernormBackward';
      const [m, n] = checkLayernormBackward(dy, x, gamma, mean, rstd);
      const [DY, X, G, MU, R] = [own(op, dy), own(op, x), own(op, gamma), own(op, mean), own(op, rstd)];
      const dx = fresh([m, n]);
      const dgamma = fresh([n]);
      const dbeta = fresh([n]);
      const acc = rt.alloc(2 * n * 8);
      rt.f64.fill(0, acc >>> 3, (acc >>> 3) + 2 * n);
      k.layernormBackwardRows(DY.ptr, X.ptr, G.ptr, MU.ptr, R.ptr, dx.ptr, acc, acc + n * 8, n, 0, m);
      k.f64ToF32(acc, dgamma.ptr, n);
      k.f64ToF32(acc + n * 8, dbeta.ptr, n);
      rt.release(acc, 2 * n * 8);
      return { dx, dgamma, dbeta };
    },
    gelu(x) {
      expectAlive('gelu', x);
      expectDtype('gelu', 'x', x, 'f32');
      const X = own('gelu', x);
      const out = fresh(x.shape);
      ranged('gelu', out.size, out.size, [X.ptr, out.ptr, 0, out.size]);
      return out;
    },
    geluBackward(dy, x) {
      const op = 'geluBackward';
      expectAlive(op, dy, x);
      expectDtype(op, 'x', x, 'f32');
      sameShape(op, dy, x);
      const [DY, X] = [own(op, dy), own(op, x)];
      const out = fresh(x.shape);
      ranged('geluBackward', out.size, out.size, [DY.ptr, X.ptr, out.ptr, 0, out.size]);
      return out;
    },
    attention(q, kt, v, spec: AttentionSpec) {
      const op = 'attention';
      const d = checkAttention(q, kt, v, spec);
      const [Q, K, V] = [own(op, q), own(op, kt), own(op, v)];
      const { batch, heads, tq, tk } = spec;
      const out = fresh(q.shape);
      const lse = fresh([batch * heads * tq]);
      const scale = Math.fround(spec.scale ?? 1 / Math.sqrt(d));
      const pairs = batch * heads;
      const causal = spec.causal === false ? 0 : 1;
      const [lens, lensBytes] = keyLengths(spec);
      if (tq === 1) {
        // Decoding: all heads of a batch entry in one pass over its keys and values (assembly/attention.ts
        // attentionDecode, the same bits as the pair-by-pair kernel). Work counts the keys each entry sees.
        let keys = 0;
        for (let b = 0; b < batch; b++) keys += spec.keyLengths ? Math.min(spec.keyLengths[b], tk) : tk;
        const dBytes = heads * tk * 4;
        const dchunk = chunking(batch, 2 * keys * heads * d, PARALLEL_MIN.attention, 1);
        const args = (s: number): number[] => [Q.ptr, K.ptr, V.ptr, out.ptr, lse.ptr, heads, tk, d, scale, 0, batch, s, lens];
        const s0 = rt.alloc(dBytes);
        try {
          if (dchunk === null) k.attentionDecode(...(args(s0) as Parameters<typeof k.attentionDecode>));
          else {
            const s1 = rt.alloc(dBytes);
            try {
              rt.runChunked('attentionDecode', args(s0), args(s1), { total: batch, chunk: dchunk, start: 9, end: 10 });
            } finally {
              rt.release(s1, dBytes);
            }
          }
        } finally {
          rt.release(s0, dBytes);
          rt.release(lens, lensBytes);
        }
        return { out, lse };
      }
      const sBytes = tq * tk * 4;
      const chunk = chunking(pairs, 2 * pairs * tq * tk * d, PARALLEL_MIN.attention, 1);
      const args = (s: number, work: number): number[] =>
        [Q.ptr, K.ptr, V.ptr, out.ptr, lse.ptr, heads, tq, tk, d, scale, 0, pairs, s, work, causal, lens];
      const s0 = rt.alloc(sBytes);
      if (chunk === null) {
        k.attentionForward(...(args(s0, rt.work[0]) as Parameters<typeof k.attentionForward>));
      } else {
        const s1 = rt.alloc(sBytes);
        try {
          rt.runChunked('attentionForward', args(s0, rt.work[0]), args(s1, rt.work[1]), { total: pairs, chunk, start: 10, end: 11 });
        } finally {
          rt.release(s1, sBytes);
        }
      }
      rt.release(s0, sBytes);
      rt.release(lens, lensBytes);
      return { out, lse };
    },
    attentionCached(q, kCache, vCache, spec) {
      const op = 'attentionCached';
      const [rows, d] = checkCachedAttention(q, kCache, vCache, spec);
      const [Q, K, V] = [own(op, q), own(op, kCache), own(op, vCache)];
      const { heads, blockRows } = spec;
      const out = fresh(q.shape);
      out.view().fill(0);
      if (rows === 0) return out;
      const scale = Math.fround(spec.scale ?? 1 / Math.sqrt(d));
      let keys = 0;
      for (let r = 0; r < rows; r++) keys += spec.lengths[r];
      const ib = rows * 4;
      const slots = rt.alloc(2 * ib);
      const lens = slots + ib;
      rt.i32.set(spec.slots, slots >>> 2);
      rt.i32.set(spec.lengths, lens >>> 2);
      const sBytes = heads * blockRows * 4;
      const s0 = rt.alloc(sBytes);
      const s1 = rt.threads > 1 ? rt.alloc(sBytes) : s0;
      try {
        const args = (s: number): number[] => [Q.ptr, K.ptr, V.ptr, out.ptr, heads, d, blockRows, scale, slots, lens, s, 0, rows];
        const chunk = chunking(rows, 2 * keys * heads * d, PARALLEL_MIN.attention, 1);
        if (chunk === null) k.attentionRows(...(args(s0) as Parameters<typeof k.attentionRows>));
        else rt.runChunked('attentionRows', args(s0), args(s1), { total: rows, chunk, start: 11, end: 12 });
      } finally {
        rt.release(s0, sBytes);
        if (s1 !== s0) rt.release(s1, sBytes);
        rt.release(slots, 2 * ib);
      }
      return out;
    },
    attentionBackward(dOut, q, kt, v, out, lse, spec: AttentionSpec) {
      const op = 'attentionBackward';
      const d = checkAttentionBackward(dOut, q, kt, v, out, lse, spec);
      const [DO, Q, K, V, O, L] = [own(op, dOut), own(op, q), own(op, kt), own(op, v), own(op, out), own(op, lse)];
      const { batch, heads, tq, tk } = spec;
      const dq = fresh(q.shape);
      const dk = fresh(kt.shape);
      const dv = fresh(v.shape);
      const scale = Math.fround(spec.scale ?? 1 / Math.sqrt(d));
      const pairs = batch * heads;
      const sBytes = tq * tk * 4;
      // Each pair writes its own rows (batch) and columns (head) of dq/dk/dv, every element exactly once.
      const chunk = chunking(pairs, 5 * pairs * tq * tk * d, PARALLEL_MIN.attention, 1);
      const causal = spec.causal === false ? 0 : 1;
      const [lens, lensBytes] = keyLengths(spec);
      const args = (ps: number, work: number): number[] =>
        [DO.ptr, Q.ptr, K.ptr, V.ptr, O.ptr, L.ptr, dq.ptr, dk.ptr, dv.ptr, heads, tq, tk, d, scale, 0, pairs, ps, ps + sBytes, work,
          causal, lens];
      const s0 = rt.alloc(2 * sBytes);
      if (chunk === null) {
        k.attentionBackward(...(args(s0, rt.work[0]) as Parameters<typeof k.attentionBackward>));
      } else {
        const s1 = rt.alloc(2 * sBytes);
        try {
          rt.runChunked('attentionBackward', args(s0, rt.work[0]), args(s1, rt.work[1]), { total: pairs, chunk, start: 14, end: 15 });
        } finally {
          rt.release(s1, 2 * sBytes);
        }
      }
      rt.release(s0, 2 * sBytes);
      rt.release(lens, lensBytes);
      return { dq, dk, dv };
    },
    l2normalize(x, eps) {
      const op = 'l2normalize';
      const [m, n] = checkL2normalize(x, eps);
      const X = own(op, x);
      const y = fresh([m, n]);
      const norm = fresh([m]);
      k.l2normalizeRows(X.ptr, y.ptr, norm.ptr, n, Math.fround(eps), 0, m);
      return { y, norm };
    },
    l2normalizeBackward(dy, y, norm, eps) {
      const op = 'l2normalizeBackward';
      const [m, n] = checkL2normalizeBackward(dy, y, norm, eps);
      const [DY, Y, N] = [own(op, dy), own(op, y), own(op, norm)];
      const dx = fresh([m, n]);
      k.l2normalizeBackwardRows(DY.ptr, Y.ptr, N.ptr, dx.ptr, n, Math.fround(eps), 0, m);
      return dx;
    },

    // ---- loss and sampling --------------------------------------------------------------------------------
    logprob(logits, targets) {
      const op = 'logprob';
      const [rows, vocab] = checkLogprob(op, logits, targets);
      const [X, T] = [own(op, logits), own(op, targets)];
      checkIndices(op, 'targets', T.view(), vocab);
      const logp = fresh([rows]);
      const lse = fresh([rows]);
      ranged('logprobRows', rows, rows * vocab, [X.ptr, T.ptr, logp.ptr, lse.ptr, vocab, 0, rows], 1);
      return { logp, lse };
    },
    logprobBackward(logits, targets, lse, weight) {
      const op = 'logprobBackward';
      const [rows, vocab] = checkLogprobBackward(logits, targets, lse, weight);
      const [X, T, L, W] = [own(op, logits), own(op, targets), own(op, lse), own(op, weight)];
      checkIndices(op, 'targets', T.view(), vocab);
      ranged('logprobBackwardRows', rows, rows * vocab, [X.ptr, T.ptr, L.ptr, W.ptr, vocab, 0, rows], 1);
      return logits;
    },
    logprobUnfused(logits, targets) {
      return fromRef(refLogprobUnfused(asRef('logprobUnfused', logits), asRef('logprobUnfused', targets)));
    },
    sample(logits, uniforms, opts) {
      const op = 'sample';
      const [rows, vocab] = checkSample(logits, uniforms, opts);
      const [X, U] = [own(op, logits), own(op, uniforms)];
      const out = fresh([rows], 'i32');
      const invT = Math.fround(1 / Math.fround(opts.temperature));
      // Top-p < 1 bisects the nucleus threshold: ~30 more passes over each row.
      const work = rows * vocab * (opts.topP < 1 ? 32 : 1);
      ranged('sampleRows', rows, work, [X.ptr, U.ptr, out.ptr, vocab, invT, opts.topP, 0, rows], 1);
      return out;
    },

    pick(logits, uniforms, opts) {
      const op = 'pick';
      const [rows, vocab] = checkPick(logits, uniforms, opts);
      const [X, U] = [own(op, logits), own(op, uniforms)];
      const tokens = fresh([rows], 'i32');
      const logprobs = fresh([rows]);
      const greedy = opts.temperature === 0 ? 1 : 0;
      const invT = greedy ? 1 : Math.fround(1 / Math.fround(opts.temperature));
      const work = rows * vocab * (!greedy && opts.topP < 1 ? 32 : 1);
      ranged('pickRows', rows, work, [X.ptr, U.ptr, tokens.ptr, logprobs.ptr, vocab, invT, opts.topP, greedy, 0, rows], 1);
      return { tokens, logprobs };
    },

    // ---- optimizer ----------------------------------------------------------------------------------------
    adamw(param, grad, m, v, opts) {
      checkAdamW(param, grad, m, v, opts);
      const [P, G, M, V] = [own('adamw', param), own('adamw', grad), own('adamw', m), own('adamw', v)];
      const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step } = opts;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      ranged('adamw', P.size, P.size, [P.ptr, G.ptr, M.ptr, V.ptr, lr, b1, b2, eps, wd, c1, c2, 0, P.size]);
    },
  };
  return ops;
}
