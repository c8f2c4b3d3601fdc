// The public API of src/index.ts (DESIGN 9), on both backends: createBackend(kind).matmul / .logprob on plain
// typed arrays, checked against plain-JS float64 references, plus the error contract.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.ts';
import { Rng } from '../../src/engine/rng.ts';

function refMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}

function refLogprob(x: Float32Array, t: Int32Array, rows: number, vocab: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let v = 0; v < vocab; v++) mx = Math.max(mx, x[r * vocab + v]);
    let s = 0;
    for (let v = 0; v < vocab; v++) s += Math.exp(x[r * vocab + v] - mx);
    out[r] = x[r * vocab + t[r]] - mx - Math.log(s);
  }
  return out;
}

export function publicApiSuite(kinds: ('cpu' | 'webgpu')[], where: string): void {
  describe(`public API (${where})`, () => {
    it('exports the DESIGN 9 functions', () => {
      for (const name of ['normalizeAnswer', 'exactMatch', 'f1Score', 'extractAnswer', 'processReward', 'hybridReward',
        'grpoAdvantages', 'parseTrajectory', 'createBackend'] as const)
        expect(typeof api[name], name).toBe('function');
    });

    it('rejects an unknown backend kind', async () => {
      await expect(api.createBackend('tpu' as 'cpu')).rejects.toThrow(/unknown backend kind/);
    });

    for (const kind of kinds) {
      describe(kind, () => {
        const shapes: [number, number, number][] = [[1, 1, 1], [1, 128, 512], [3, 5, 7], [8, 33, 65], [37, 64, 19]];
        for (const [m, k, n] of shapes)
          it(`matmul ${m}x${k}x${n} matches float64`, async () => {
            const be = await api.createBackend(kind);
            const rng = new Rng(m * 131 + k * 7 + n);
            const a = rng.uniformArray(m * k);
            const b = rng.uniformArray(k * n);
            const c = await be.matmul(a, b, m, k, n);
            expect(c).toBeInstanceOf(Float32Array);
            expect(c.length).toBe(m * n);
            const want = refMatmul(a, b, m, k, n);
            const tol = 1e-5 * Math.sqrt(k) + 1e-6;
            for (let i = 0; i < c.length; i++) expect(Math.abs(c[i] - want[i])).toBeLessThan(tol);
            be.dispose();
          });

        const lp: [number, number, number][] = [[1, 1, 1], [1, 7, 3], [5, 1000, 10], [3, 30011, 1e4], [4, 4096, 50]];
        for (const [rows, vocab, mag] of lp)
          it(`logprob ${rows}x${vocab} (|logits| <= ${mag}) matches float64`, async () => {
            const be = await api.createBackend(kind);
            const rng = new Rng(rows * 17 + vocab);
            const x = rng.uniformArray(rows * vocab, -mag, mag);
            const t = rng.intArray(rows, vocab);
            const got = await be.logprob(x, t, rows, vocab);
            expect(got).toBeInstanceOf(Float32Array);
            const want = refLogprob(x, t, rows, vocab);
            for (let r = 0; r < rows; r++) expect(Math.abs(got[r] - want[r])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[r])));
            for (const v of got) expect(v).toBeLessThanOrEqual(0);
            be.dispose();
          });

        it('names the op and the shapes on bad input', async () => {
          const be = await api.createBackend(kind);
          await expect(be.matmul(new Float32Array(6), new Float32Array(6), 2, 3, 3)).rejects.toThrow(/matmul.*b.*6.*9/);
          await expect(be.matmul(new Float32Array(5), new Float32Array(6), 2, 3, 2)).rejects.toThrow(/matmul.*a/);
          await expect(be.logprob(new Float32Array(6), new Int32Array([0, 3]), 2, 3)).rejects.toThrow(/logprob.*targets\[1\] = 3/);
          await expect(be.logprob(new Float32Array(5), new Int32Array([0, 1]), 2, 3)).rejects.toThrow(/logprob.*logits/);
          const a = be.ops.tensor(new Float32Array(6), [2, 3]);
          const b = be.ops.tensor(new Float32Array(8), [4, 2]);
          expect(() => be.ops.matmul(a, b)).toThrow(/matmul.*\[2, 3\].*\[4, 2\]/);
          be.dispose();
        });
      });
    }
  });
}
