// The WebGPU backward kernels against finite differences of the WebGPU forward kernels (float32 on the GPU, so
// a subsample of points and a looser bound than the CPU check).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { gradCheck, standardGradCases } from './gradcheck.ts';

export function webgpuGradcheckSuite(where: string): void {
  describe(`webgpu backward ops match finite differences (${where})`, () => {
    let gpu: Backend;
    beforeAll(async () => {
      gpu = await createBackend('webgpu');
    });
    afterAll(() => gpu?.dispose());
    for (const c of standardGradCases()) {
      it(c.name, async () => {
        const results = await gradCheck(gpu.ops, c, { eps: 1e-2, maxPoints: 12, seed: 3 });
        for (const r of results) {
          expect(r.maxAbsGrad, `${r.name}: gradient is all zero`).toBeGreaterThan(1e-3);
          expect(r.relErr, `${r.name}: max abs err ${r.maxAbsErr} vs max grad ${r.maxAbsGrad}`).toBeLessThan(3e-2);
        }
      });
    }
  });
}
