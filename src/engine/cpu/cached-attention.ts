// An optional op of the cpu backends, outside the Ops interface: attention of query rows straight against KV caches.
// Row r of q [R, heads * d] attends to the first lengths[r] rows of block slots[r] of kCache / vCache ([S * blockRows,
// heads * d], block s = rows s * blockRows ...); lengths[r] = 0 leaves row r of the output zero. The KV-cache decoder
// (src/model/decoder-cache.ts) passes each row's causal key count (position + 1), so the decode rows and the
// continuation chunks of every sequence run in one call per layer, with no gathers of queries, keys or outputs.
// Every row's result depends on that row's query and cache block only. This file: the interface, its checks and the
// float64 reference (the oracle of the WASM kernel, assembly/attention.ts attentionRows).
import { ShapeError } from '../errors.ts';
import { expectAlive, expectRank, fmt } from '../shapes.ts';
import type { Ops, Tensor } from '../types.ts';
import { f32, f32Tensor } from './tensor.ts';

export interface CachedAttentionSpec {
  heads: number;
  /** Rows per cache block (the decoder's context). */
  blockRows: number;
  /** Block of each query row. */
  slots: Int32Array;
  /** Keys each query row sees (0: skipped); at most blockRows. */
  lengths: Int32Array;
  /** Default 1 / sqrt(head dim). */
  scale?: number;
}

export interface CachedAttention {
  attentionCached(q: Tensor, kCache: Tensor, vCache: Tensor, spec: CachedAttentionSpec): Tensor;
}

/** The backend's attentionCached, or null when it has none. */
export function cachedAttention(ops: Ops): CachedAttention['attentionCached'] | null {
  const f = (ops as Ops & Partial<CachedAttention>).attentionCached;
  return typeof f === 'function' ? f.bind(ops) : null;
}

/** Checks; returns [rows, head dim]. */
export function checkCachedAttention(q: Tensor, kCache: Tensor, vCache: Tensor, spec: CachedAttentionSpec): [number, number] {
  const op = 'attentionCached';
  expectAlive(op, q, kCache, vCache);
  for (const [name, t] of [['q', q], ['kCache', kCache], ['vCache', vCache]] as const) {
    expectRank(op, name, t, 2);
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: ${name} must be f32, got ${t.dtype}`);
  }
  const { heads, blockRows, slots, lengths } = spec;
  const width = q.shape[1];
  if (!(Number.isInteger(heads) && heads >= 1 && width % heads === 0)) throw new ShapeError(`${op}: ${heads} heads do not divide width ${width}`);
  if (kCache.shape[1] !== width || vCache.shape[1] !== width || kCache.shape[0] !== vCache.shape[0])
    throw new ShapeError(`${op}: q ${fmt(q.shape)}, kCache ${fmt(kCache.shape)}, vCache ${fmt(vCache.shape)} do not match`);
  if (!(Number.isInteger(blockRows) && blockRows >= 1 && kCache.shape[0] % blockRows === 0))
    throw new ShapeError(`${op}: blockRows ${blockRows} does not divide the cache's ${kCache.shape[0]} rows`);
  const blocks = kCache.shape[0] / blockRows;
  const rows = q.shape[0];
  if (slots.length !== rows || lengths.length !== rows) throw new ShapeError(`${op}: need ${rows} slots and lengths, got ${slots.length} and ${lengths.length}`);
  for (let r = 0; r < rows; r++) {
    if (!(Number.isInteger(slots[r]) && slots[r] >= 0 && slots[r] < blocks)) throw new ShapeError(`${op}: slot ${slots[r]} of row ${r} is outside 0..${blocks - 1}`);
    if (!(Number.isInteger(lengths[r]) && lengths[r] >= 0 && lengths[r] <= blockRows))
      throw new ShapeError(`${op}: length ${lengths[r]} of row ${r} is outside 0..${blockRows}`);
  }
  return [rows, width / heads];
}

/** The reference: float64 scores, softmax and sums, one rounding per output. */
export function attentionCached(q: Tensor, kCache: Tensor, vCache: Tensor, spec: CachedAttentionSpec): Tensor {
  const [rows, d] = checkCachedAttention(q, kCache, vCache, spec);
  const { heads, blockRows, slots, lengths } = spec;
  const width = heads * d;
  const scale = Math.fround(spec.scale ?? 1 / Math.sqrt(d));
  const Q = f32('attentionCached', q);
  const K = f32('attentionCached', kCache);
  const V = f32('attentionCached', vCache);
  const out = new Float32Array(rows * width);
  const sc = new Float64Array(blockRows);
  const acc = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const n = lengths[r];
    const base = slots[r] * blockRows;
    for (let h = 0; h < heads; h++) {
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        let t = 0;
        for (let c = 0; c < d; c++) t += Q[r * width + h * d + c] * K[(base + j) * width + h * d + c];
        sc[j] = t * scale;
        m = Math.max(m, sc[j]);
      }
      let z = 0;
      for (let j = 0; j < n; j++) z += (sc[j] = Math.exp(sc[j] - m));
      acc.fill(0);
      for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) acc[c] += (sc[j] / z) * V[(base + j) * width + h * d + c];
      for (let c = 0; c < d; c++) out[r * width + h * d + c] = acc[c];
    }
  }
  return f32Tensor(out, [rows, width]);
}
