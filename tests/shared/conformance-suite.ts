// One vitest test per kernel conformance case, against a real WebGPU adapter. Shared by the Node and the
// Chromium projects. A missing adapter fails the suite: createBackend('webgpu') throws in beforeAll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import { CONFORMANCE_CASES } from '../../src/engine/conformance/index.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend } from '../../src/engine/types.ts';

export function conformanceSuite(where: string): void {
  describe(`webgpu kernels match the cpu reference (${where})`, () => {
    let cpu: Backend;
    let gpu: Backend;
    beforeAll(async () => {
      cpu = await createBackend('cpu', { reference: true }); // the TypeScript reference is the oracle
      gpu = await createBackend('webgpu');
    });
    afterAll(() => gpu?.dispose());

    it('runs on a real adapter', () => {
      expect(gpu.kind).toBe('webgpu');
      expect(gpu.info.adapter.length).toBeGreaterThan(0);
    });

    const kernels = [...new Set(CONFORMANCE_CASES.map((c) => c.kernel))];
    for (const kernel of kernels) {
      describe(kernel, () => {
        CONFORMANCE_CASES.filter((c) => c.kernel === kernel).forEach((c, i) => {
          it(c.name, async () => {
            const r = await c.run(cpu.ops, gpu.ops, new Rng(1000 + i));
            expect(r.pass, r.detail).toBe(true);
          });
        });
      });
    }
  });
}
