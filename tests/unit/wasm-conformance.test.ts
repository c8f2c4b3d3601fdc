// Every conformance case (src/engine/conformance) with the TypeScript reference as the oracle and the fast
// WebAssembly cpu backend as the candidate, on 2 threads and on 1 thread: a cheap way to cover every op.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES } from '../../src/engine/conformance/index.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend } from '../../src/engine/types.ts';

for (const threads of [2, 1] as const) {
  describe(`cpu wasm-simd (${threads} thread${threads > 1 ? 's' : ''}) matches the TypeScript reference`, () => {
    const ref = createCpuReferenceBackend();
    let fast: Backend;
    beforeAll(async () => {
      fast = await createBackend('cpu', { threads });
    });
    afterAll(() => fast?.dispose());

    it('is the wasm backend with the asked thread count', () => {
      expect(fast.kind).toBe('cpu');
      expect(fast.info.adapter).toBe(`CPU wasm-simd, ${threads} thread${threads > 1 ? 's' : ''}`);
      expect(fast.info.fallbackReason).toBe('');
    });

    const kernels = [...new Set(CONFORMANCE_CASES.map((c) => c.kernel))];
    for (const kernel of kernels) {
      describe(kernel, () => {
        CONFORMANCE_CASES.filter((c) => c.kernel === kernel).forEach((c, i) => {
          it(c.name, async () => {
            const r = await c.run(ref.ops, fast.ops, new Rng(1000 + i));
            expect(r.pass, r.detail).toBe(true);
          });
        });
      });
    }
  });
}
