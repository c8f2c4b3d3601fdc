// Top-k: the host reference against a plain sort, and the WGSL kernel (Dawn on SwiftShader) against the
// reference through the conformance cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topkCases } from '../../src/engine/conformance/topk.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend } from '../../src/engine/types.ts';
import { orderKey, topkCpu } from '../../src/retrieval/topk-cpu.ts';
import { topk, topkToHost } from '../../src/retrieval/topk.ts';

function bruteForce(x: Float32Array, rows: number, n: number, k: number): { values: number[]; indices: number[] } {
  const values: number[] = [];
  const indices: number[] = [];
  for (let r = 0; r < rows; r++) {
    const cols = [...Array(n).keys()];
    const key = (c: number): number => {
      const v = x[r * n + c];
      return Number.isNaN(v) ? -Infinity : v;
    };
    cols.sort((a, b) => {
      const va = x[r * n + a];
      const vb = x[r * n + b];
      if (Number.isNaN(va) !== Number.isNaN(vb)) return Number.isNaN(va) ? 1 : -1; // NaN last
      return key(b) - key(a) || a - b;
    });
    for (const c of cols.slice(0, k)) {
      indices.push(c);
      values.push(x[r * n + c]);
    }
  }
  return { values, indices };
}

describe('topk on the host', () => {
  it('matches a full sort, ties to the lower index', () => {
    const rng = new Rng(5);
    for (const [rows, n, k] of [[1, 1, 1], [4, 9, 3], [3, 100, 16], [2, 7, 7]] as const) {
      for (const ties of [false, true]) {
        const x = ties ? Float32Array.from({ length: rows * n }, () => rng.int(3)) : rng.normalArray(rows * n);
        const got = topkCpu(x, rows, n, k);
        const want = bruteForce(x, rows, n, k);
        expect([...got.indices]).toEqual(want.indices);
        expect([...got.values]).toEqual(want.values);
      }
    }
  });

  it('orders -0 with +0, NaN below -Infinity', () => {
    const x = new Float32Array([NaN, -Infinity, -0, 0, 1, NaN]);
    const r = topkCpu(x, 1, 6, 6);
    expect([...r.indices]).toEqual([4, 2, 3, 1, 0, 5]);
    expect(orderKey(0x80000000)).toBe(orderKey(0));
    expect(orderKey(0x7fc00000)).toBe(0);
    expect(orderKey(0xff800000)).toBeGreaterThan(0);
  });

  it('refuses bad shapes with clear messages', () => {
    expect(() => topkCpu(new Float32Array(5), 1, 5, 6)).toThrow('topk: k = 6 is larger than the row length n = 5');
    expect(() => topkCpu(new Float32Array(5), 1, 5, 0)).toThrow('topk: k must be a positive integer, got 0');
    expect(() => topkCpu(new Float32Array(4), 1, 5, 1)).toThrow('topk: scores has 4 elements, expected 5 for [1, 5]');
  });

  it('works through a cpu backend, and refuses k > 16 like the GPU does', async () => {
    const be = createCpuReferenceBackend();
    const x = new Rng(3).normalArray(2 * 40);
    const t = be.ops.tensor(x, [2, 40]);
    const r = await topk(be.ops, t, 4);
    expect(r.values.shape).toEqual([2, 4]);
    expect(r.indices.dtype).toBe('i32');
    expect([...(await be.ops.readI32(r.indices))]).toEqual([...topkCpu(x, 2, 40, 4).indices]);
    await expect(topkToHost(be.ops, t, 17)).rejects.toThrow('topk: k = 17 exceeds the supported maximum 16');
  });
});

describe('topk kernel on webgpu (Dawn)', () => {
  let gpu: Backend;
  const ref = createCpuReferenceBackend();
  beforeAll(async () => {
    gpu = await createBackend('webgpu');
  });
  afterAll(() => gpu?.dispose());

  topkCases.forEach((c, i) => {
    it(c.name, async () => {
      const r = await c.run(ref.ops, gpu.ops, new Rng(2000 + i));
      expect(r.pass, r.detail).toBe(true);
    });
  });

  it('leaves the result on the GPU until read', async () => {
    const x = new Rng(9).normalArray(3 * 500);
    const t = gpu.ops.tensor(x, [3, 500]);
    const r = await topk(gpu.ops, t, 3);
    expect(r.values.backend).toBe('webgpu');
    expect([...(await gpu.ops.readI32(r.indices))]).toEqual([...topkCpu(x, 3, 500, 3).indices]);
    for (const u of [t, r.values, r.indices]) gpu.ops.dispose(u);
  });
});
