// GPU-only properties of the matmul / reduce / embedding kernels that the cpu-vs-gpu conformance cases cannot
// express: the dispatch rule, refusals of forced variants, out-of-range ids, determinism, the host CSR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/engine/webgpu/device.ts';
import { GpuContext } from '../../src/engine/webgpu/context.ts';
import type { GpuTensor } from '../../src/engine/webgpu/tensor.ts';
import {
  chooseMatmulInt8Variant, chooseMatmulVariant, matmulWith, vec4Aligned, type MatmulVariant,
} from '../../src/engine/webgpu/kernels/matmul.ts';
import { sum, sumRows } from '../../src/engine/webgpu/kernels/reduce.ts';
import { buildCsr, embedding, embeddingBackward } from '../../src/engine/webgpu/kernels/embedding.ts';
import { Rng } from '../../src/engine/rng.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = new GpuContext((await acquireDevice()).device);
});
afterAll(() => ctx?.destroy());

const f32 = (data: Float32Array, shape: number[]): GpuTensor => ctx.upload(data, shape, 'f32');
const read = async (t: GpuTensor): Promise<Float32Array> => new Float32Array(await ctx.read(t));

describe('matmul dispatch rule', () => {
  it('picks gemv for m <= 8, vec4 for big aligned shapes, tiled otherwise', () => {
    expect(chooseMatmulVariant(1, 64, 30011, { transB: true })).toBe('gemv');
    expect(chooseMatmulVariant(8, 3, 5)).toBe('gemv');
    expect(chooseMatmulVariant(9, 64, 64)).toBe('tiled');
    expect(chooseMatmulVariant(64, 64, 64)).toBe('vec4');
    expect(chooseMatmulVariant(256, 64, 30011, { transB: true })).toBe('vec4'); // odd N is fine: scalar stores
    expect(chooseMatmulVariant(256, 64, 30011)).toBe('tiled'); // b [K, N] with N % 4 != 0
    expect(chooseMatmulVariant(65, 33, 66)).toBe('tiled');
    // Software adapters: barrier-free naive, except vec4 on large aligned shapes.
    expect(chooseMatmulVariant(1, 128, 512, {}, true)).toBe('naive');
    expect(chooseMatmulVariant(256, 256, 256, {}, true)).toBe('naive');
    expect(chooseMatmulVariant(2048, 128, 512, {}, true)).toBe('vec4');
    expect(chooseMatmulVariant(2048, 128, 4095, {}, true)).toBe('naive');
    expect(vec4Aligned(5, 8, 12)).toBe(true);
    expect(vec4Aligned(5, 8, 12, { transA: true })).toBe(false);
    expect(chooseMatmulInt8Variant(8)).toBe('gemv');
    expect(chooseMatmulInt8Variant(9)).toBe('tiled');
    expect(chooseMatmulInt8Variant(1, true)).toBe('naive');
    expect(chooseMatmulInt8Variant(300, true)).toBe('naive');
  });

  it('refuses forced variants that cannot run the shape', () => {
    const a = f32(new Float32Array(9 * 6), [9, 6]);
    const b = f32(new Float32Array(6 * 5), [6, 5]);
    expect(() => matmulWith('vec4', ctx, a, b, 9, 6, 5)).toThrow(/multiples of 4/);
    expect(() => matmulWith('gemv', ctx, a, b, 9, 6, 5)).toThrow(/at most 8/);
  });

  it('every variant gives the same result on one shape, and the same bits on a rerun', async () => {
    const rng = new Rng(7);
    const [m, k, n] = [8, 68, 36];
    const a = f32(rng.uniformArray(m * k), [m, k]);
    const b = f32(rng.uniformArray(k * n), [k, n]);
    const results: Float32Array[] = [];
    for (const v of ['naive', 'tiled', 'vec4', 'gemv'] as MatmulVariant[]) {
      const first = await read(matmulWith(v, ctx, a, b, m, k, n));
      const again = await read(matmulWith(v, ctx, a, b, m, k, n));
      expect(again).toEqual(first);
      results.push(first);
    }
    for (const r of results.slice(1)) for (let i = 0; i < r.length; i++) expect(r[i]).toBeCloseTo(results[0][i], 4);
  });
});

describe('reductions', () => {
  it('are bitwise deterministic across runs', async () => {
    const rng = new Rng(3);
    const x = f32(rng.uniformArray(300_001), [300_001]);
    const s1 = await read(sum(ctx, x));
    const s2 = await read(sum(ctx, x));
    expect(s2).toEqual(s1);
    const y = f32(rng.uniformArray(70_000 * 3), [70_000, 3]);
    expect(await read(sumRows(ctx, y, 70_000, 3))).toEqual(await read(sumRows(ctx, y, 70_000, 3)));
  });

  it('sum of an empty tensor is 0; sumRows of 0 rows is zeros', async () => {
    expect(Array.from(await read(sum(ctx, f32(new Float32Array(0), [0]))))).toEqual([0]);
    expect(Array.from(await read(sumRows(ctx, f32(new Float32Array(0), [0, 3]), 0, 3)))).toEqual([0, 0, 0]);
  });
});

describe('embedding', () => {
  it('gives zero rows for out-of-range ids instead of reading out of bounds', async () => {
    const [vocab, dim] = [4, 3];
    const table = f32(Float32Array.from({ length: vocab * dim }, (_, i) => i + 1), [vocab, dim]);
    const ids = Int32Array.of(2, -1, 4, 0, 1 << 30, -(1 << 30), 3);
    const out = await read(embedding(ctx, table, ctx.upload(ids, [ids.length], 'i32'), ids.length, vocab, dim));
    const want = Array.from(ids).flatMap((id) => (id >= 0 && id < vocab ? [0, 1, 2].map((d) => id * dim + d + 1) : [0, 0, 0]));
    expect(Array.from(out)).toEqual(want);
  });

  it('builds a stable CSR and a deterministic backward', async () => {
    const ids = Int32Array.of(2, 0, 2, 2, 1, 0);
    const { rowStart, positions } = buildCsr(ids, 4);
    expect(Array.from(rowStart)).toEqual([0, 2, 3, 6, 6]);
    expect(Array.from(positions)).toEqual([1, 5, 4, 0, 2, 3]);
    expect(() => buildCsr(Int32Array.of(4), 4)).toThrow(/outside/);

    const rng = new Rng(11);
    const n = 2000;
    const many = rng.intArray(n, 5);
    const dOut = f32(rng.uniformArray(n * 16), [n, 16]);
    const g1 = await read(embeddingBackward(ctx, dOut, many, 9, 16));
    const g2 = await read(embeddingBackward(ctx, dOut, many, 9, 16));
    expect(g2).toEqual(g1);
    expect(Array.from(g1.subarray(5 * 16))).toEqual(new Array(4 * 16).fill(0)); // ids 5..8 never occur
  });
});
