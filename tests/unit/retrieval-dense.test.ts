// Dense index: matmul(q, P^T) + top-k on the cpu reference, the wasm cpu backend and webgpu (Dawn), against a
// brute force on the host; shards merge to the single-shard answer; exact ties go to the lower passage index;
// and the dense retriever end to end with a toy deterministic encoder and a file-store cached index.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend } from '../../src/engine/types.ts';
import { tokenize } from '../../src/retrieval/bm25.ts';
import { createDenseRetriever, DenseIndex, l2NormalizeRows } from '../../src/retrieval/dense-index.ts';
import { FileIndexStore } from '../../src/retrieval/file-store.ts';
import { corpusWorldId } from '../../src/retrieval/index-store.ts';
import type { DenseEncoder } from '../../src/retrieval/types.ts';

function bruteForce(p: Float32Array, q: Float32Array, n: number, nq: number, dim: number, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const s = Array.from({ length: n }, (_, r) => {
      let d = 0;
      for (let j = 0; j < dim; j++) d += q[i * dim + j] * p[r * dim + j];
      return { r, d };
    });
    s.sort((a, b) => b.d - a.d || a.r - b.r);
    out.push(s.slice(0, k).map((x) => x.r));
  }
  return out;
}

const backends: [string, () => Promise<Backend>][] = [
  ['cpu reference', async () => createCpuReferenceBackend()],
  ['cpu wasm', () => createBackend('cpu')],
  ['webgpu', () => createBackend('webgpu')],
];

for (const [name, make] of backends) {
  describe(`DenseIndex on ${name}`, () => {
    let be: Backend;
    beforeAll(async () => {
      be = await make();
    });
    afterAll(() => be?.dispose());

    it('returns the brute-force top-k with ids and cosine scores', async () => {
      const rng = new Rng(21);
      const n = 513;
      const dim = 24;
      const nq = 9;
      const p = l2NormalizeRows(rng.normalArray(n * dim), n, dim);
      const q = l2NormalizeRows(rng.normalArray(nq * dim), nq, dim);
      const ids = Array.from({ length: n }, (_, i) => `p${i}`);
      const ix = new DenseIndex(be, ids, p, dim);
      const hits = await ix.search(q, nq, 5);
      const want = bruteForce(p, q, n, nq, dim, 5);
      expect(hits.map((h) => h.map((x) => x.index))).toEqual(want);
      expect(hits[0][0].id).toBe(`p${want[0][0]}`);
      for (const h of hits[3]) {
        let d = 0;
        for (let j = 0; j < dim; j++) d += q[3 * dim + j] * p[h.index * dim + j];
        expect(h.score).toBeCloseTo(d, 5);
      }
      // Shards of 7 passages (and small score blocks) merge to the same answer (scores may differ in the last
      // bits: a backend's matmul may block other shapes differently).
      const sharded = new DenseIndex(be, ids, p, dim, { shardRows: 7, maxScoreElements: 30 });
      const again = await sharded.search(q, nq, 5);
      expect(again.map((h) => h.map((x) => x.id))).toEqual(hits.map((h) => h.map((x) => x.id)));
      again.flat().forEach((h, i) => expect(h.score).toBeCloseTo(hits.flat()[i].score, 5));
      ix.dispose();
      sharded.dispose();
    });

    it('breaks exact ties by the lower passage index, also across shards', async () => {
      const dim = 4;
      const rows = [[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0], [0, 1, 0, 0]];
      const p = Float32Array.from(rows.flat());
      const ids = rows.map((_, i) => `d${i}`);
      const q = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]);
      for (const shardRows of [6, 1, 4]) {
        const ix = new DenseIndex(be, ids, p, dim, { shardRows });
        const hits = await ix.search(q, 2, 4);
        expect(hits.map((h) => h.map((x) => x.id))).toEqual([['d0', 'd2', 'd4', 'd3'], ['d1', 'd5', 'd3', 'd0']]);
        ix.dispose();
      }
    });

    it('returns every passage when k exceeds the count, and checks its inputs', async () => {
      const ix = new DenseIndex(be, ['a', 'b'], Float32Array.from([1, 0, 0, 1]), 2);
      expect((await ix.search(Float32Array.from([0, 1]), 1, 3))[0].map((h) => h.id)).toEqual(['b', 'a']);
      expect(await ix.search(new Float32Array(0), 0, 3)).toEqual([]);
      await expect(ix.search(new Float32Array(3), 1, 3)).rejects.toThrow('queryVecs has 3 values, expected 1 x 2');
      await expect(ix.search(new Float32Array(2), 1, 17)).rejects.toThrow('k must be an integer in 1..16');
      expect(() => new DenseIndex(be, ['a'], new Float32Array(3), 2)).toThrow('vectors has 3 values, expected 1 x 2 = 2');
      ix.dispose();
    });
  });
}

/** A toy deterministic encoder: hashed bag of words, L2-normalized (a stand-in for the E5 encoder). */
function toyEncoder(dim: number): DenseEncoder & { calls: number } {
  const enc = {
    id: `toy-hash-${dim}`,
    dim,
    calls: 0,
    async encode(texts: readonly string[]): Promise<Float32Array> {
      enc.calls++;
      const out = new Float32Array(texts.length * dim);
      texts.forEach((t, i) => {
        for (const w of tokenize(t)) {
          let h = 2166136261;
          for (let c = 0; c < w.length; c++) h = Math.imul(h ^ w.charCodeAt(c), 16777619);
          out[i * dim + ((h >>> 0) % dim)] += 1;
        }
      });
      return l2NormalizeRows(out, texts.length, dim);
    },
  };
  return enc;
}

describe('dense retriever with a stored index', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dense-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes the corpus in chunks once, then reuses the stored index', async () => {
    const corpus = ['"Ouagadougou"\nCapital of Burkina Faso.', '"Lima"\nCapital of Peru.', '"Peru"\nA country; its capital is Lima.', '"Mali"\nIts capital is Bamako.', '"Bamako"\nCapital of Mali.'].map(
      (contents, i) => ({ id: `p${i}`, contents }),
    );
    const enc = toyEncoder(64);
    const store = await FileIndexStore.open(dir);
    const worldId = corpusWorldId(corpus);
    const rec = await store.buildIndex({ worldId, encoderId: enc.id, dim: enc.dim, count: corpus.length, chunkSize: 2 }, async (_c, s, e) => ({
      ids: corpus.slice(s, e).map((r) => r.id),
      vectors: await enc.encode(corpus.slice(s, e).map((r) => r.contents), 'passage'),
    }));
    expect(enc.calls).toBe(3);
    expect((await store.activeIndex(worldId, enc.id))?.id).toBe(rec.id);
    const loaded = await store.loadIndex(rec.id);
    const r = createDenseRetriever(enc, new DenseIndex(createCpuReferenceBackend(), loaded.ids, loaded.vectors, loaded.record.dim));
    const [hits] = await r.search(['capital of Mali Bamako'], 2);
    expect(hits.map((h) => h.id).sort()).toEqual(['p3', 'p4']);
    expect(r.name).toBe('e5:toy-hash-64');
    r.dispose?.();
  });
});

describe('retrieval eval --retriever e5 plumbing (toy encoder)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dense-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes the corpus into the index cache once and reuses it on the next run', async () => {
    const { openDenseRetriever } = await import('../../src/cli/retrieval.ts');
    const corpus = Array.from({ length: 2500 }, (_, i) => ({ id: `p${i}`, contents: `"Place ${i}"\nPlace ${i} is in region r${i % 17}.` }));
    const enc = toyEncoder(256);
    const be = createCpuReferenceBackend();
    const quiet = (globalThis as { console: Console }).console;
    const err = quiet.error;
    quiet.error = () => {};
    try {
      const r1 = await openDenseRetriever(enc, be, corpus, dir);
      expect(enc.calls).toBe(3); // 3 chunks of 1024
      const [h1] = await r1.search([corpus[1234].contents], 3);
      expect(h1.map((h) => h.id)).toContain('p1234'); // its own text (hash collisions may tie others with it)
      expect(h1[0].score).toBeCloseTo(1, 5);
      r1.dispose?.();
      const r2 = await openDenseRetriever(enc, be, corpus, dir);
      expect(enc.calls).toBe(4); // the query only
      expect(await r2.search([corpus[1234].contents], 3)).toEqual([h1]);
      r2.dispose?.();
    } finally {
      quiet.error = err;
    }
  });
});
