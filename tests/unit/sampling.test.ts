import { describe, expect, it } from 'vitest';
import { createCpuOps } from '../../src/engine/cpu/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { sampleTokens } from '../../src/engine/sampling.ts';

describe('seeded sampling', () => {
  const ops = createCpuOps();
  const rows = 64;
  const vocab = 50;
  const logits = ops.tensor(new Rng(1).normalArray(rows * vocab, 2), [rows, vocab]);

  it('gives the same tokens for the same seed and different ones for another', async () => {
    const a = await sampleTokens(ops, logits, new Rng(42), { temperature: 1, topP: 0.9 });
    const b = await sampleTokens(ops, logits, new Rng(42), { temperature: 1, topP: 0.9 });
    const c = await sampleTokens(ops, logits, new Rng(43), { temperature: 1, topP: 0.9 });
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
  });

  it('follows the softmax distribution (chi-square on a 4-token row)', async () => {
    const n = 4000;
    const row = new Float32Array([0, 1, 2, -1]);
    const lg = ops.tensor(new Float32Array(n * 4).map((_, i) => row[i % 4]), [n, 4]);
    const ids = await sampleTokens(ops, lg, new Rng(5), { temperature: 1, topP: 1 });
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[id]++;
    const z = row.reduce((s, x) => s + Math.exp(x), 0);
    const chi2 = counts.reduce((s, c, i) => {
      const e = (n * Math.exp(row[i])) / z;
      return s + (c - e) ** 2 / e;
    }, 0);
    expect(chi2).toBeLessThan(16.27); // p = 0.001 with 3 degrees of freedom
  });

  it('never leaves the nucleus', async () => {
    const n = 500;
    const row = new Float32Array([3, 2.9, 0, -2, -5]); // p ~ [.50, .45, .02, ...]: top-p 0.9 keeps tokens 0 and 1
    const lg = ops.tensor(new Float32Array(n * 5).map((_, i) => row[i % 5]), [n, 5]);
    const ids = await sampleTokens(ops, lg, new Rng(9), { temperature: 1, topP: 0.9 });
    expect(new Set(ids)).toEqual(new Set([0, 1]));
  });
});
