// The benchmark's hand-written ONNX encoder: the models it builds load and run in onnxruntime-web's wasm backend
// and give the numbers plain JavaScript gives.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProtoWriter, logprobModel, matmulModel } from '../../src/bench/onnx-model.ts';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

describe('ProtoWriter', () => {
  it('writes varints, negative int64 as 10 bytes, and length-delimited fields', () => {
    expect([...new ProtoWriter().int(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
    expect([...new ProtoWriter().int(3, -1).finish()]).toEqual([0x18, ...Array(9).fill(0xff), 0x01]);
    expect([...new ProtoWriter().string(4, 'ab').finish()]).toEqual([0x22, 2, 0x61, 0x62]);
    expect([...new ProtoWriter().message(7, (w) => w.int(1, 5)).finish()]).toEqual([0x3a, 2, 0x08, 5]);
  });
});

describe('ONNX models built by src/bench/onnx-model.ts', () => {
  it('MatMul matches a plain JS matmul', async () => {
    const [m, k, n] = [5, 7, 3];
    const rnd = lcg(1);
    const a = Float32Array.from({ length: m * k }, rnd);
    const b = Float32Array.from({ length: k * n }, rnd);
    const session = await ort.InferenceSession.create(matmulModel(m, k, n), { executionProviders: ['wasm'] });
    const out = await session.run({ A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) });
    await session.release();
    expect(out.C.dims).toEqual([m, n]);
    const c = out.C.data as Float32Array;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        expect(Math.abs(c[i * n + j] - s)).toBeLessThan(1e-5);
      }
  });

  it('LogSoftmax(axis=-1) + GatherElements(axis=1) matches a plain JS log-probability', async () => {
    const [rows, vocab] = [4, 11];
    const rnd = lcg(2);
    const x = Float32Array.from({ length: rows * vocab }, () => 10 * rnd());
    const targets = [0, 10, 3, 7];
    const session = await ort.InferenceSession.create(logprobModel(rows, vocab), { executionProviders: ['wasm'] });
    const out = await session.run({
      X: new ort.Tensor('float32', x, [rows, vocab]),
      targets: new ort.Tensor('int64', BigInt64Array.from(targets, (t) => BigInt(t)), [rows, 1]),
    });
    await session.release();
    expect(out.logp.dims).toEqual([rows, 1]);
    const logp = out.logp.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * vocab, (r + 1) * vocab));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      expect(Math.abs(logp[r] - (row[targets[r]] - lse))).toBeLessThan(1e-5);
    }
  });
});
