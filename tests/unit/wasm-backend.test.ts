// The fast cpu backend as a Backend: it is the default `cpu` backend, the reference is one flag away, tensors live in
// WebAssembly memory (reads are copies, memory is reused and survives growth), and misuse fails like the reference.
import { describe, expect, it } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { acquireRuntime, releaseRuntime } from '../../src/engine/cpu/wasm/runtime.ts';
import { ShapeError } from '../../src/engine/errors.ts';
import { Rng } from '../../src/engine/rng.ts';

describe('memory stats of the cpu backend', () => {
  it('count live blocks: up on alloc, down on release; a freed block is reused', async () => {
    const be = await createBackend('cpu', { threads: 1 });
    try {
      const m0 = be.memory?.();
      if (!m0) throw new Error('the wasm cpu backend reports its memory');
      const t = be.ops.tensor(new Float32Array(5000), [5000]); // 20000 bytes: a block of 5 x 4096
      const m1 = be.memory?.() as typeof m0;
      expect(m1.liveBytes - m0.liveBytes).toBe(20480);
      expect(m1.heapBytes).toBeGreaterThanOrEqual(m0.heapBytes);
      expect(m1.memoryBytes).toBeGreaterThanOrEqual(m1.heapBytes);
      be.ops.dispose(t);
      const m2 = be.memory?.() as typeof m0;
      expect(m2.liveBytes).toBe(m0.liveBytes);
      expect(m2.heapBytes).toBeLessThanOrEqual(m1.heapBytes);
      // A freed region serves the next request of that size: live again, the heap does not grow.
      const u = be.ops.tensor(new Float32Array(5100), [5100]);
      expect((be.memory?.() as typeof m0).heapBytes).toBeLessThanOrEqual(m1.heapBytes);
      expect((be.memory?.() as typeof m0).liveBytes).toBe(m1.liveBytes);
      be.ops.dispose(u);
    } finally {
      be.dispose();
    }
    const plain = createCpuReferenceBackend();
    expect(plain.memory).toBeUndefined();
    plain.dispose();
  });
});

describe('createBackend("cpu")', () => {
  it('is the wasm-simd backend on 2 threads in Node', async () => {
    const be = await createBackend('cpu');
    try {
      expect(be.kind).toBe('cpu');
      expect(be.info).toEqual({ kind: 'cpu', adapter: 'CPU wasm-simd, 2 threads', fallbackReason: '' });
    } finally {
      be.dispose();
    }
  });

  it('gives the TypeScript reference with { reference: true } and from createCpuReferenceBackend()', async () => {
    const a = await createBackend('cpu', { reference: true });
    const b = createCpuReferenceBackend();
    expect(a.info.adapter).toBe('CPU reference (TypeScript)');
    expect(b.info.adapter).toBe('CPU reference (TypeScript)');
  });

  it('takes a thread count and rejects a bad one', async () => {
    const be = await createBackend('cpu', { threads: 1 });
    expect(be.info.adapter).toBe('CPU wasm-simd, 1 thread');
    be.dispose();
    await expect(createBackend('cpu', { threads: 3 as 2 })).rejects.toThrow(/threads must be 1 or 2/);
  });

  it('keeps the one-argument public contract: matmul and logprob on plain arrays', async () => {
    const be = await createBackend('cpu');
    try {
      expect(Array.from(await be.matmul(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2, 2, 2))).toEqual([19, 22, 43, 50]);
      const lp = await be.logprob(Float32Array.of(0, 0, 0, 0), Int32Array.of(3), 1, 4);
      expect(lp[0]).toBeCloseTo(-Math.log(4), 6);
      await expect(be.matmul(new Float32Array(6), new Float32Array(6), 2, 3, 3)).rejects.toThrow(/matmul.*b.*6.*9/);
    } finally {
      be.dispose();
    }
  });
});

describe('cpu wasm-simd tensors', () => {
  it('read() returns copies; write, copyRows, zeros and int tensors work', async () => {
    const be = await createBackend('cpu');
    const { ops } = be;
    try {
      const t = ops.tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
      const r = await ops.readF32(t);
      r[0] = 99;
      expect(Array.from(await ops.readF32(t))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(r.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      ops.write(t, Float32Array.of(6, 5, 4, 3, 2, 1));
      ops.copyRows(t, 1, ops.tensor(Float32Array.of(7, 8), [1, 2]));
      expect(Array.from(await ops.readF32(t))).toEqual([6, 5, 7, 8, 2, 1]);
      const z = ops.zeros([2, 3], 'i32');
      expect(Array.from(await ops.readI32(z))).toEqual([0, 0, 0, 0, 0, 0]);
      const u = ops.tensor(Uint32Array.of(1, 0xffffffff), [2]);
      expect(Array.from((await ops.read(u)) as Uint32Array)).toEqual([1, 0xffffffff]);
      const e = ops.tensor(new Float32Array(0), [0, 5]);
      expect((await ops.readF32(e)).length).toBe(0);
      await expect(ops.readI32(t)).rejects.toThrow(ShapeError);
    } finally {
      be.dispose();
    }
  });

  it('fails like the reference on disposed, foreign and mis-shaped tensors', async () => {
    const be = await createBackend('cpu');
    const ref = createCpuReferenceBackend();
    const { ops } = be;
    try {
      const a = ops.tensor(new Float32Array(6), [2, 3]);
      const b = ops.tensor(new Float32Array(8), [4, 2]);
      expect(() => ops.matmul(a, b)).toThrow(/matmul.*\[2, 3\].*\[4, 2\]/);
      const foreign = ref.ops.tensor(new Float32Array(6), [3, 2]);
      expect(() => ops.matmul(a, foreign)).toThrow(/belongs to the cpu reference backend/);
      const t = ops.tensor(Int32Array.of(0, 5), [2]);
      expect(() => ops.logprob(ops.tensor(new Float32Array(10), [2, 5]), t)).toThrow(/logprob: targets\[1\] = 5 is outside \[0, 5\)/);
      expect(() => ops.attention(a, a, a, { batch: 1, heads: 1, tq: 3, tk: 2 })).toThrow(/tq \(3\) must not exceed tk \(2\)/);
      ops.dispose(a);
      ops.dispose(a);
      expect(a.disposed).toBe(true);
      expect(() => ops.matmul(a, b)).toThrow(/already disposed/);
      await expect(ops.read(a)).rejects.toThrow(/already disposed/);
    } finally {
      be.dispose();
    }
  });

  it('reuses freed memory: a training-like loop of allocations does not grow the heap', async () => {
    const be = await createBackend('cpu');
    const rt = await acquireRuntime(2);
    const { ops } = be;
    try {
      const x = ops.tensor(new Rng(1).uniformArray(256 * 64), [256, 64]);
      const w = ops.tensor(new Rng(2).uniformArray(64 * 96), [64, 96]);
      const step = (): void => {
        const h = ops.matmul(x, w);
        const g = ops.gelu(h);
        const s = ops.sumRows(g);
        for (const t of [h, g, s]) ops.dispose(t);
      };
      step();
      const high = rt.highWater;
      for (let i = 0; i < 50; i++) step();
      expect(rt.highWater).toBe(high);
    } finally {
      releaseRuntime(rt, 2);
      be.dispose();
    }
  });

  it('keeps data across memory growth', async () => {
    const be = await createBackend('cpu', { threads: 1 });
    const { ops } = be;
    try {
      const data = new Rng(3).uniformArray(1000);
      const a = ops.tensor(data, [1000]);
      const big: ReturnType<typeof ops.zeros>[] = [];
      for (let i = 0; i < 4; i++) big.push(ops.zeros([8 << 20])); // 4 x 32 MiB
      expect(Array.from(await ops.readF32(a))).toEqual(Array.from(data));
      const c = ops.matmul(ops.tensor(Float32Array.of(1, 2), [1, 2]), ops.tensor(Float32Array.of(3, 4), [2, 1]));
      expect(Array.from(await ops.readF32(c))).toEqual([11]);
      for (const t of big) ops.dispose(t);
    } finally {
      be.dispose();
    }
  });

  it('closes its runtime (and helper thread) with the last backend; a new backend starts a fresh one', async () => {
    const a = await createBackend('cpu');
    const rt = await acquireRuntime(2);
    releaseRuntime(rt, 2);
    const b = await createBackend('cpu');
    a.dispose();
    expect(rt.isClosed).toBe(false);
    b.dispose();
    b.dispose();
    expect(rt.isClosed).toBe(true);
    const c = await createBackend('cpu');
    try {
      expect(c.info.adapter).toBe('CPU wasm-simd, 2 threads');
      expect(Array.from(await c.matmul(Float32Array.of(2), Float32Array.of(3), 1, 1, 1))).toEqual([6]);
    } finally {
      c.dispose();
    }
  });
});
