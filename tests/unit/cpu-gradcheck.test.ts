import { describe, expect, it } from 'vitest';
import { createCpuOps } from '../../src/engine/cpu/ops.ts';
import { type GradCase, gradCheck, standardGradCases } from '../shared/gradcheck.ts';

describe('cpu backward ops match finite differences', () => {
  const ops = createCpuOps();
  for (const c of standardGradCases()) {
    it(c.name, async () => {
      const results = await gradCheck(ops, c, { eps: 1e-2 });
      expect(results).toHaveLength(c.inputs.length);
      for (const r of results) {
        expect(r.maxAbsGrad, `${r.name}: gradient is all zero`).toBeGreaterThan(1e-3);
        expect(r.relErr, `${r.name}: max abs err ${r.maxAbsErr} vs max grad ${r.maxAbsGrad}`).toBeLessThan(2e-2);
      }
    });
  }

  it('subsamples large inputs', async () => {
    const [c] = standardGradCases();
    const results = await gradCheck(ops, c, { maxPoints: 5 });
    expect(results.map((r) => r.points)).toEqual([5, 5]);
    for (const r of results) expect(r.relErr).toBeLessThan(2e-2);
  });

  it('catches a wrong gradient', async () => {
    const [c] = standardGradCases();
    const wrong: GradCase = {
      ...c,
      name: 'wrong',
      backward: (o, xs, d) =>
        c.backward(o, xs, d).map((g) => {
          const h = o.scale(g, 1.1);
          o.dispose(g);
          return h;
        }),
    };
    const results = await gradCheck(ops, wrong);
    for (const r of results) expect(r.relErr).toBeGreaterThan(5e-2);
  });
});
