// Shape and dtype checks shared by every backend, so both throw the same errors for the same mistakes.
import { ShapeError } from './errors.ts';
import type { AdamWOptions, AttentionSpec, DType, Int8Weight, MatmulOptions, SampleOptions, Tensor } from './types.ts';

export const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${fmt(shape)}: dimensions must be non-negative integers`);
    n *= d;
  }
  return n;
}

export function dtypeOf(data: ArrayLike<number>): DType {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint32Array) return 'u32';
  throw new ShapeError(`unsupported array type ${Object.prototype.toString.call(data)}; use Float32Array, Int32Array or Uint32Array`);
}

export function expectDtype(op: string, name: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op}: ${name} must be ${dtype}, got ${t.dtype} ${fmt(t.shape)}`);
}

export function expectRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) throw new ShapeError(`${op}: ${name} must have rank ${rank}, got ${fmt(t.shape)}`);
}

export function expectAlive(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.disposed) throw new ShapeError(`${op}: tensor ${fmt(t.shape)} was already disposed`);
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    throw new ShapeError(`${op}: shapes differ, ${fmt(a.shape)} vs ${fmt(b.shape)}`);
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: dtypes differ, ${a.dtype} vs ${b.dtype}`);
}

/** Returns [M, K, N] for op(a) x op(b). */
export function checkMatmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): [number, number, number] {
  const op = 'matmul';
  expectAlive(op, a, b);
  expectRank(op, 'a', a, 2);
  expectRank(op, 'b', b, 2);
  expectDtype(op, 'a', a, 'f32');
  expectDtype(op, 'b', b, 'f32');
  const [m, ka] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb)
    throw new ShapeError(
      `matmul: inner dimensions differ, a ${fmt(a.shape)}${opts.transA ? 'ᵀ' : ''} x b ${fmt(b.shape)}${opts.transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  return [m, ka, n];
}

export function checkMatmulInt8(a: Tensor, w: Int8Weight): [number, number, number] {
  const op = 'matmulInt8';
  expectAlive(op, a, w.q, w.scales);
  expectRank(op, 'a', a, 2);
  expectDtype(op, 'a', a, 'f32');
  expectDtype(op, 'q', w.q, 'u32');
  expectDtype(op, 'scales', w.scales, 'f32');
  if (a.shape[1] !== w.k) throw new ShapeError(`matmulInt8: a ${fmt(a.shape)} x W [${w.k}, ${w.n}]: inner dimensions differ`);
  const words = Math.ceil(w.k / 4);
  if (w.q.shape[0] !== w.n || w.q.shape[1] !== words)
    throw new ShapeError(`matmulInt8: packed q must be [${w.n}, ${words}] for W [${w.k}, ${w.n}], got ${fmt(w.q.shape)}`);
  if (w.scales.size !== w.n) throw new ShapeError(`matmulInt8: scales must be [${w.n}], got ${fmt(w.scales.shape)}`);
  return [a.shape[0], w.k, w.n];
}

/** Returns [rows, cols] of a 2-D f32 tensor. */
export function rowsCols(op: string, name: string, t: Tensor): [number, number] {
  expectAlive(op, t);
  expectRank(op, name, t, 2);
  expectDtype(op, name, t, 'f32');
  return [t.shape[0], t.shape[1]];
}

export function checkVector(op: string, name: string, t: Tensor, n: number, dtype: DType = 'f32'): void {
  expectAlive(op, t);
  expectDtype(op, name, t, dtype);
  if (t.size !== n) throw new ShapeError(`${op}: ${name} must have ${n} elements, got ${fmt(t.shape)}`);
}

/** Returns headDim after checking q, k, v against the spec. */
export function checkAttention(q: Tensor, k: Tensor, v: Tensor, spec: AttentionSpec): number {
  const op = 'attention';
  const { batch, heads, tq, tk } = spec;
  for (const x of [batch, heads, tq, tk])
    if (!Number.isInteger(x) || x < 1) throw new ShapeError(`${op}: batch, heads, tq, tk must be positive integers, got ${JSON.stringify(spec)}`);
  if (tq > tk) throw new ShapeError(`${op}: tq (${tq}) must not exceed tk (${tk})`);
  const [qr, qc] = rowsCols(op, 'q', q);
  const [kr, kc] = rowsCols(op, 'k', k);
  const [vr, vc] = rowsCols(op, 'v', v);
  if (qr !== batch * tq) throw new ShapeError(`${op}: q ${fmt(q.shape)} must have batch*tq = ${batch * tq} rows`);
  if (kr !== batch * tk || vr !== batch * tk)
    throw new ShapeError(`${op}: k ${fmt(k.shape)} and v ${fmt(v.shape)} must have batch*tk = ${batch * tk} rows`);
  if (qc !== kc || qc !== vc) throw new ShapeError(`${op}: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)} widths differ`);
  if (qc % heads !== 0) throw new ShapeError(`${op}: width ${qc} is not a multiple of heads (${heads})`);
  checkAttentionMask(op, spec);
  return qc / heads;
}

/** causal must be a boolean when given; keyLengths an Int32Array of `batch` values in [1, tk]. */
function checkAttentionMask(op: string, spec: AttentionSpec): void {
  if (spec.causal !== undefined && typeof spec.causal !== 'boolean')
    throw new ShapeError(`${op}: causal must be a boolean, got ${String(spec.causal)}`);
  const lens = spec.keyLengths;
  if (lens === undefined) return;
  if (!(lens instanceof Int32Array)) throw new ShapeError(`${op}: keyLengths must be an Int32Array`);
  if (lens.length !== spec.batch)
    throw new ShapeError(`${op}: keyLengths has ${lens.length} values, batch is ${spec.batch}`);
  for (let b = 0; b < lens.length; b++)
    if (!(lens[b] >= 1 && lens[b] <= spec.tk))
      throw new ShapeError(`${op}: keyLengths[${b}] = ${lens[b]} is outside [1, tk = ${spec.tk}]`);
}

/** Keys a query sees: a prefix [0, n) of its sequence's keys. Shared by the host sides of every backend. */
export function attentionVisible(spec: AttentionSpec, b: number, i: number): number {
  const len = spec.keyLengths ? spec.keyLengths[b] : spec.tk;
  return spec.causal === false ? len : Math.min(len, i + (spec.tk - spec.tq) + 1);
}

export function checkLogprob(op: string, logits: Tensor, targets: Tensor): [number, number] {
  const [rows, vocab] = rowsCols(op, 'logits', logits);
  checkVector(op, 'targets', targets, rows, 'i32');
  return [rows, vocab];
}

// ---- helpers for the remaining ops (shared by every backend) ----------------------------------------------

/** Checks host data against a shape and returns its dtype. */
export function checkHostData(op: string, data: ArrayLike<number>, shape: readonly number[]): DType {
  const dtype = dtypeOf(data);
  const n = sizeOf(shape);
  if (data.length !== n) throw new ShapeError(`${op}: data has ${data.length} elements, shape ${fmt(shape)} needs ${n}`);
  return dtype;
}

/** Every index in host data must lie in [0, bound). */
export function checkIndices(op: string, name: string, ids: ArrayLike<number>, bound: number): void {
  for (let i = 0; i < ids.length; i++)
    if (!(Number.isInteger(ids[i]) && ids[i] >= 0 && ids[i] < bound))
      throw new ShapeError(`${op}: ${name}[${i}] = ${ids[i]} is outside [0, ${bound})`);
}

/** Same shape, both f32 (add, mul). */
export function checkElementwise(op: string, a: Tensor, b: Tensor): void {
  expectAlive(op, a, b);
  expectDtype(op, 'a', a, 'f32');
  expectDtype(op, 'b', b, 'f32');
  sameShape(op, a, b);
}

export function checkAddBias(x: Tensor, bias: Tensor): [number, number] {
  const [m, n] = rowsCols('addBias', 'x', x);
  checkVector('addBias', 'bias', bias, n);
  return [m, n];
}

/** Returns [n, vocab, dim] for table [vocab, dim] gathered at ids (i32, n elements). */
export function checkEmbedding(table: Tensor, ids: Tensor): [number, number, number] {
  const [vocab, dim] = rowsCols('embedding', 'table', table);
  expectAlive('embedding', ids);
  expectDtype('embedding', 'ids', ids, 'i32');
  return [ids.size, vocab, dim];
}

/** Returns [n, dim]; ids are host data and are range-checked. */
export function checkEmbeddingBackward(dOut: Tensor, ids: Int32Array, vocab: number): [number, number] {
  const op = 'embeddingBackward';
  const [n, dim] = rowsCols(op, 'dOut', dOut);
  if (!(ids instanceof Int32Array)) throw new ShapeError(`${op}: ids must be an Int32Array`);
  if (ids.length !== n) throw new ShapeError(`${op}: ids has ${ids.length} elements, dOut ${fmt(dOut.shape)} has ${n} rows`);
  if (!Number.isInteger(vocab) || vocab < 1) throw new ShapeError(`${op}: vocab must be a positive integer, got ${vocab}`);
  checkIndices(op, 'ids', ids, vocab);
  return [n, dim];
}

export function checkLayernorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): [number, number] {
  const [m, n] = rowsCols('layernorm', 'x', x);
  checkVector('layernorm', 'gamma', gamma, n);
  checkVector('layernorm', 'beta', beta, n);
  if (!(eps >= 0)) throw new ShapeError(`layernorm: eps must be >= 0, got ${eps}`);
  return [m, n];
}

export function checkLayernormBackward(dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor): [number, number] {
  const op = 'layernormBackward';
  const [m, n] = rowsCols(op, 'x', x);
  rowsCols(op, 'dy', dy);
  sameShape(op, dy, x);
  checkVector(op, 'gamma', gamma, n);
  checkVector(op, 'mean', mean, m);
  checkVector(op, 'rstd', rstd, m);
  return [m, n];
}

/** Returns headDim; dOut and out must match q, lse must have batch*heads*tq elements. */
export function checkAttentionBackward(
  dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, spec: AttentionSpec,
): number {
  const op = 'attentionBackward';
  const headDim = checkAttention(q, k, v, spec);
  rowsCols(op, 'dOut', dOut);
  rowsCols(op, 'out', out);
  sameShape(op, dOut, q);
  sameShape(op, out, q);
  checkVector(op, 'lse', lse, spec.batch * spec.heads * spec.tq);
  return headDim;
}

/** Returns [m, n] of x [M,N]; eps must be a non-negative finite number. */
export function checkL2normalize(x: Tensor, eps: number): [number, number] {
  const op = 'l2normalize';
  const [m, n] = rowsCols(op, 'x', x);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new ShapeError(`${op}: eps must be a finite number >= 0, got ${eps}`);
  return [m, n];
}

/** dy and y [M,N] of equal shape, norm [M]. Returns [m, n]. */
export function checkL2normalizeBackward(dy: Tensor, y: Tensor, norm: Tensor, eps: number): [number, number] {
  const op = 'l2normalizeBackward';
  const [m, n] = rowsCols(op, 'y', y);
  rowsCols(op, 'dy', dy);
  sameShape(op, dy, y);
  checkVector(op, 'norm', norm, m);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new ShapeError(`${op}: eps must be a finite number >= 0, got ${eps}`);
  return [m, n];
}

export function checkLogprobBackward(logits: Tensor, targets: Tensor, lse: Tensor, weight: Tensor): [number, number] {
  const op = 'logprobBackward';
  const [rows, vocab] = checkLogprob(op, logits, targets);
  checkVector(op, 'lse', lse, rows);
  checkVector(op, 'weight', weight, rows);
  return [rows, vocab];
}

export function checkSample(logits: Tensor, uniforms: Tensor, opts: SampleOptions): [number, number] {
  const op = 'sample';
  const [rows, vocab] = rowsCols(op, 'logits', logits);
  checkVector(op, 'uniforms', uniforms, rows);
  if (!(opts.temperature > 0 && Number.isFinite(opts.temperature)))
    throw new ShapeError(`${op}: temperature must be a positive finite number, got ${opts.temperature}`);
  if (!(opts.topP > 0 && opts.topP <= 1)) throw new ShapeError(`${op}: topP must be in (0, 1], got ${opts.topP}`);
  return [rows, vocab];
}

export function checkAdamW(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
  const op = 'adamw';
  expectAlive(op, param, grad, m, v);
  expectDtype(op, 'param', param, 'f32');
  for (const t of [grad, m, v]) sameShape(op, param, t);
  if (!(Number.isInteger(opts.step) && opts.step >= 1)) throw new ShapeError(`${op}: step must be an integer >= 1, got ${opts.step}`);
}

/** dst[row .. row + src.rows) = src: both 2-D with equal column counts and dtypes. */
export function checkCopyRows(dst: Tensor, row: number, src: Tensor): void {
  const op = 'copyRows';
  expectAlive(op, dst, src);
  expectRank(op, 'dst', dst, 2);
  expectRank(op, 'src', src, 2);
  if (dst.dtype !== src.dtype) throw new ShapeError(`${op}: dtypes differ, dst ${dst.dtype} vs src ${src.dtype}`);
  if (dst.shape[1] !== src.shape[1])
    throw new ShapeError(`${op}: column counts differ, dst ${fmt(dst.shape)} vs src ${fmt(src.shape)}`);
  if (!Number.isInteger(row) || row < 0 || row + src.shape[0] > dst.shape[0])
    throw new ShapeError(`${op}: rows ${row}..${row + src.shape[0]} of src ${fmt(src.shape)} do not fit in dst ${fmt(dst.shape)}`);
}

/** Host data written into t must have its dtype and size. */
export function checkWrite(t: Tensor, data: ArrayLike<number>): void {
  expectAlive('write', t);
  const dtype = dtypeOf(data);
  if (dtype !== t.dtype) throw new ShapeError(`write: data is ${dtype}, tensor ${fmt(t.shape)} is ${t.dtype}`);
  if (data.length !== t.size) throw new ShapeError(`write: data has ${data.length} elements, tensor ${fmt(t.shape)} has ${t.size}`);
}
