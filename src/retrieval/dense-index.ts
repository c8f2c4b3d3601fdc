// A dense passage index on a backend: passage vectors P [N, D] (L2-normalized f32) stay on the device; a search
// is scores = Q P^T (ops.matmul with transB) followed by top-k (the WGSL kernel on webgpu, the host reference on
// cpu), and only the [Q, k] result is read back. For an E5-style encoder the score is the cosine similarity.
//
// Large corpora are split into shards of at most `shardRows` passages (one storage binding each, well under
// WebGPU's default 128 MiB binding limit); each shard gives its own top-k and the shards are merged on the host
// under the same order (score descending by the total order of topk-cpu.ts, ties to the lower passage index),
// which equals the top-k over the whole row.
import type { Backend, Tensor } from '../engine/types.ts';
import { MAX_TOPK, orderKey } from './topk-cpu.ts';
import { topkToHost } from './topk.ts';
import type { DenseEncoder, Retriever, SearchHit } from './types.ts';

export interface DenseIndexOptions {
  /** Passages per device shard (default: as many as fit in 64 MiB). */
  shardRows?: number;
  /** Largest score matrix [queries, shardRows] one step computes, in elements (default 4M). */
  maxScoreElements?: number;
  /** Normalize the passage rows (default true; rows of zeros stay zero). */
  normalize?: boolean;
}

/** Scales each row of x [rows, dim] to unit L2 norm, in place (zero rows stay zero). Returns x. */
export function l2NormalizeRows(x: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] * x[r * dim + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) x[r * dim + j] *= inv;
    }
  }
  return x;
}

interface Shard {
  start: number;
  rows: number;
  tensor: Tensor;
}

export class DenseIndex {
  readonly count: number;
  private readonly shards: Shard[] = [];
  private readonly maxScoreElements: number;
  private disposed = false;

  /**
   * @param ids passage ids, one per row
   * @param vectors [ids.length, dim] row-major; copied to the device (and normalized first unless told not to)
   */
  constructor(
    readonly backend: Backend,
    readonly ids: readonly string[],
    vectors: Float32Array,
    readonly dim: number,
    opts: DenseIndexOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dense index: dim must be a positive integer, got ${dim}`);
    if (ids.length < 1) throw new RangeError('dense index: no passages');
    if (vectors.length !== ids.length * dim)
      throw new RangeError(`dense index: vectors has ${vectors.length} values, expected ${ids.length} x ${dim} = ${ids.length * dim}`);
    this.count = ids.length;
    const v = opts.normalize === false ? vectors : l2NormalizeRows(vectors.slice(), ids.length, dim);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new RangeError(`dense index: vector value ${i} (passage ${ids[Math.floor(i / dim)]}) is not finite`);
    const shardRows = opts.shardRows ?? Math.max(1, Math.floor((64 << 20) / (dim * 4)));
    if (!Number.isInteger(shardRows) || shardRows < 1) throw new RangeError(`dense index: shardRows must be a positive integer, got ${shardRows}`);
    this.maxScoreElements = opts.maxScoreElements ?? 4 << 20;
    for (let start = 0; start < this.count; start += shardRows) {
      const rows = Math.min(shardRows, this.count - start);
      this.shards.push({ start, rows, tensor: backend.ops.tensor(v.subarray(start * dim, (start + rows) * dim), [rows, dim]) });
    }
  }

  /**
   * The k (<= 16) best passages of each query. queryVecs is [q, dim] row-major (E5 queries are normalized by the
   * encoder; the ranking does not depend on a query's norm).
   */
  async search(queryVecs: Float32Array, q: number, k = 3): Promise<SearchHit[][]> {
    if (this.disposed) throw new Error('dense index: already disposed');
    if (!Number.isInteger(q) || q < 0) throw new RangeError(`dense index: q must be a non-negative integer, got ${q}`);
    if (queryVecs.length !== q * this.dim) throw new RangeError(`dense index: queryVecs has ${queryVecs.length} values, expected ${q} x ${this.dim}`);
    if (!Number.isInteger(k) || k < 1 || k > MAX_TOPK) throw new RangeError(`dense index: k must be an integer in 1..${MAX_TOPK}, got ${k}`);
    const out: SearchHit[][] = Array.from({ length: q }, () => []);
    if (q === 0) return out;
    const ops = this.backend.ops;
    // Candidates per query from every shard: (score, global index), merged at the end.
    const cand: { score: number; index: number }[][] = Array.from({ length: q }, () => []);
    for (const shard of this.shards) {
      const kk = Math.min(k, shard.rows);
      const step = Math.max(1, Math.floor(this.maxScoreElements / shard.rows));
      for (let q0 = 0; q0 < q; q0 += step) {
        const qn = Math.min(step, q - q0);
        const qt = ops.tensor(queryVecs.subarray(q0 * this.dim, (q0 + qn) * this.dim), [qn, this.dim]);
        const scores = ops.matmul(qt, shard.tensor, { transB: true });
        try {
          const r = await topkToHost(ops, scores, kk);
          for (let i = 0; i < qn; i++)
            for (let j = 0; j < kk; j++) cand[q0 + i].push({ score: r.values[i * kk + j], index: shard.start + r.indices[i * kk + j] });
        } finally {
          ops.dispose(qt);
          ops.dispose(scores);
        }
      }
    }
    const bits = new Uint32Array(new Float32Array(1).buffer);
    const f32 = new Float32Array(bits.buffer);
    const key = (s: number): number => {
      f32[0] = s;
      return orderKey(bits[0]);
    };
    for (let i = 0; i < q; i++) {
      const c = this.shards.length === 1 ? cand[i] : cand[i].map((h) => ({ ...h, key: key(h.score) })).sort((a, b) => b.key - a.key || a.index - b.index);
      out[i] = c.slice(0, Math.min(k, this.count)).map((h) => ({ index: h.index, id: this.ids[h.index], score: h.score }));
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.shards) this.backend.ops.dispose(s.tensor);
  }
}

/** Encoder + dense index as a Retriever: queries are encoded with the encoder's "query: " side. */
export function createDenseRetriever(encoder: DenseEncoder, index: DenseIndex): Retriever {
  if (encoder.dim !== index.dim) throw new RangeError(`dense retriever: encoder dim ${encoder.dim} differs from the index dim ${index.dim}`);
  return {
    name: `e5:${encoder.id}`,
    async search(queries: readonly string[], k: number): Promise<SearchHit[][]> {
      const vecs = await encoder.encode(queries, 'query');
      return index.search(vecs, queries.length, k);
    },
    dispose: () => index.dispose(),
  };
}
