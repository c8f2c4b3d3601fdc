// The WASM int8-weight matmul beyond matching the reference (tests/shared/wasm-suite.ts): every output row has the
// same bits whatever else is in the call (batched decoding equals one sequence at a time), however the columns are
// split between the threads, whether it takes the int8 kernel (< 16 rows) or the fp32 gemm on the exact f32 copy
// (16+ rows), and the cached copies of a weight follow writes to its q tensor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeInt8 } from '../../src/engine/cpu/matmul.ts';
import { PARALLEL_MIN, setParallelMin } from '../../src/engine/cpu/wasm/runtime.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend, Int8Weight, Ops } from '../../src/engine/types.ts';
import { bitsOf } from '../shared/wasm-suite.ts';

function weight(ops: Ops, rng: Rng, k: number, n: number): { w: Int8Weight; q: Uint32Array; scales: Float32Array } {
  const { q, scales } = quantizeInt8(rng.uniformArray(k * n, -1, 1), k, n);
  return { w: { q: ops.tensor(q, [n, Math.ceil(k / 4)]), scales: ops.tensor(scales, [n]), k, n }, q, scales };
}

async function mm(ops: Ops, a: Float32Array, m: number, w: Int8Weight): Promise<Float32Array> {
  const at = ops.tensor(a, [m, w.k]);
  const c = ops.matmulInt8(at, w);
  const out = await ops.readF32(c);
  ops.dispose(at);
  ops.dispose(c);
  return out;
}

describe('cpu wasm-simd int8 matmul', () => {
  let two: Backend;
  let one: Backend;
  beforeAll(async () => {
    two = await createBackend('cpu', { threads: 2 });
    one = await createBackend('cpu', { threads: 1 });
  });
  afterAll(() => {
    two?.dispose();
    one?.dispose();
  });

  it('gives each row the same bits alone as in a batch (all row counts, odd shapes)', async () => {
    const rng = new Rng(3);
    for (const [k, n] of [[128, 8000], [33, 13], [129, 512]] as const) {
      const { w } = weight(two.ops, rng, k, n);
      const m = 41;
      const a = rng.uniformArray(m * k, -2, 2);
      const all = await mm(two.ops, a, m, w);
      for (const i of [0, 3, 4, 17, 40]) {
        const row = await mm(two.ops, a.subarray(i * k, (i + 1) * k), 1, w);
        expect(bitsOf(row)).toEqual(bitsOf(all.subarray(i * n, (i + 1) * n)));
      }
      const five = await mm(two.ops, a.subarray(0, 5 * k), 5, w);
      expect(bitsOf(five)).toEqual(bitsOf(all.subarray(0, 5 * n)));
      two.ops.dispose(w.q);
      two.ops.dispose(w.scales);
    }
  });

  it('gives the same bits on 1 thread and on 2 threads with every call split', async () => {
    const rng = new Rng(4);
    const [m, k, n] = [9, 70, 1003];
    const a = rng.uniformArray(m * k, -1, 1);
    const { q, scales } = quantizeInt8(rng.uniformArray(k * n, -1, 1), k, n);
    const run = async (be: Backend): Promise<Float32Array> => {
      const w = { q: be.ops.tensor(q, [n, Math.ceil(k / 4)]), scales: be.ops.tensor(scales, [n]), k, n };
      const out = await mm(be.ops, a, m, w);
      be.ops.dispose(w.q);
      be.ops.dispose(w.scales);
      return out;
    };
    const single = await run(one);
    const saved = setParallelMin({ gemm: 1 });
    let split: Float32Array;
    try {
      split = await run(two);
    } finally {
      setParallelMin(saved);
    }
    expect(PARALLEL_MIN.gemm).toBe(saved.gemm);
    expect(bitsOf(split)).toEqual(bitsOf(single));
  });

  it.each([3, 20])('follows writes to the q tensor (the cached copies are rebuilt), %i rows', async (m) => {
    const ref = createCpuReferenceBackend();
    const rng = new Rng(5);
    const [k, n] = [20, 11];
    const a = rng.uniformArray(m * k, -1, 1);
    const first = weight(two.ops, rng, k, n);
    await mm(two.ops, a, m, first.w);
    const next = quantizeInt8(rng.uniformArray(k * n, -1, 1), k, n);
    two.ops.write(first.w.q, next.q);
    two.ops.write(first.w.scales, next.scales);
    const got = await mm(two.ops, a, m, first.w);
    const rw = { q: ref.ops.tensor(next.q, [n, Math.ceil(k / 4)]), scales: ref.ops.tensor(next.scales, [n]), k, n };
    const want = await mm(ref.ops, a, m, rw);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * (1 + Math.abs(want[i])));
  });
});
