// The finite-difference gradient checks of the reference (tests/shared/gradcheck.ts) pass unchanged on the fast
// cpu backend, on 1 and 2 threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { gradCheck, standardGradCases } from '../shared/gradcheck.ts';

for (const threads of [1, 2] as const) {
  describe(`cpu wasm-simd backward ops match finite differences (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    let be: Backend;
    beforeAll(async () => {
      be = await createBackend('cpu', { threads });
    });
    afterAll(() => be?.dispose());

    it('runs on the wasm backend', () => {
      expect(be.info.adapter.startsWith('CPU wasm-simd')).toBe(true);
    });

    for (const c of standardGradCases()) {
      it(c.name, async () => {
        const results = await gradCheck(be.ops, c, { eps: 1e-2 });
        expect(results).toHaveLength(c.inputs.length);
        for (const r of results) {
          expect(r.maxAbsGrad, `${r.name}: gradient is all zero`).toBeGreaterThan(1e-3);
          expect(r.relErr, `${r.name}: max abs err ${r.maxAbsErr} vs max grad ${r.maxAbsGrad}`).toBeLessThan(2e-2);
        }
      });
    }
  });
}
