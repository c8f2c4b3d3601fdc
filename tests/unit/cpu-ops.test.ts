import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/engine/cpu/backend.ts';
import { quantizeInt8 } from '../../src/engine/cpu/matmul.ts';
import { createCpuOps } from '../../src/engine/cpu/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Int8Weight, Ops, Tensor } from '../../src/engine/types.ts';

const ops = createCpuOps();
const t2 = (rows: number[][]): Tensor => ops.tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
const t1 = (xs: number[]): Tensor => ops.tensor(Float32Array.from(xs), [xs.length]);
const ids = (xs: number[]): Tensor => ops.tensor(Int32Array.from(xs), [xs.length]);
const read = async (t: Tensor): Promise<number[]> => Array.from(await ops.readF32(t));

function expectClose(got: ArrayLike<number>, want: number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
}

describe('cpu memory ops', () => {
  it('copies on tensor() and read()', async () => {
    const src = Float32Array.of(1, 2, 3, 4);
    const t = ops.tensor(src, [2, 2]);
    src[0] = 99;
    const r = await ops.readF32(t);
    r[1] = 99;
    expect(await read(t)).toEqual([1, 2, 3, 4]);
    expect(t).toMatchObject({ shape: [2, 2], dtype: 'f32', size: 4, backend: 'cpu', disposed: false });
  });

  it('zeros, write, copyRows, readI32', async () => {
    const z = ops.zeros([3, 2], 'i32');
    expect(Array.from(await ops.readI32(z))).toEqual([0, 0, 0, 0, 0, 0]);
    ops.copyRows(z, 1, ops.tensor(Int32Array.of(5, 6, 7, 8), [2, 2]));
    expect(Array.from(await ops.read(z))).toEqual([0, 0, 5, 6, 7, 8]);
    ops.write(z, Int32Array.of(1, 2, 3, 4, 5, 6));
    expect(Array.from(await ops.readI32(z))).toEqual([1, 2, 3, 4, 5, 6]);
    await ops.flush();
  });

  it('rejects bad sizes, dtypes and disposed tensors', async () => {
    expect(() => ops.tensor(Float32Array.of(1, 2, 3), [2, 2])).toThrow(/tensor.*\[2, 2\]/);
    const t = ops.zeros([2, 2]);
    expect(() => ops.write(t, Float32Array.of(1))).toThrow(/write/);
    expect(() => ops.write(t, Int32Array.of(1, 2, 3, 4))).toThrow(/write.*i32/);
    expect(() => ops.copyRows(t, 1, ops.zeros([2, 2]))).toThrow(/copyRows/);
    await expect(ops.readI32(t)).rejects.toThrow(/readI32.*i32/);
    ops.dispose(t);
    expect(t.disposed).toBe(true);
    expect(() => ops.add(t, t)).toThrow(/add.*disposed/);
    await expect(ops.read(t)).rejects.toThrow(/disposed/);
  });

  it('rejects tensors from another backend', () => {
    const alien: Tensor = { shape: [1, 1], dtype: 'f32', size: 1, backend: 'webgpu', disposed: false };
    expect(() => ops.matmul(alien, t2([[1]]))).toThrow(/webgpu/);
  });
});

describe('cpu matmul', () => {
  const a = [[1, 2, 3], [4, 5, 6]];
  const b = [[7, 8], [9, 10], [11, 12]];
  const aT = [[1, 4], [2, 5], [3, 6]];
  const bT = [[7, 9, 11], [8, 10, 12]];
  const want = [58, 64, 139, 154];

  it('computes all transposition cases', async () => {
    expect(await read(ops.matmul(t2(a), t2(b)))).toEqual(want);
    expect(await read(ops.matmul(t2(aT), t2(b), { transA: true }))).toEqual(want);
    expect(await read(ops.matmul(t2(a), t2(bT), { transB: true }))).toEqual(want);
    expect(await read(ops.matmul(t2(aT), t2(bT), { transA: true, transB: true }))).toEqual(want);
    expect(ops.matmul(t2(a), t2(b)).shape).toEqual([2, 2]);
  });

  it('names the op and both shapes on mismatch', () => {
    const x = ops.zeros([2, 3]);
    const y = ops.zeros([4, 5]);
    expect(() => ops.matmul(x, y)).toThrow(/matmul.*\[2, 3\].*\[4, 5\]/);
    expect(() => ops.matmul(ops.zeros([2]), y)).toThrow(/matmul.*rank 2/);
  });
});

describe('cpu int8 matmul', () => {
  // W [5, 2]: column 0 has max |w| = 127 (scale 1, 2.5 rounds away from zero); column 1 is all zero.
  const w = Float32Array.from([127, 0, -127, 0, 3, 0, -1, 0, 2.5, 0]);

  it('quantizes and packs per output column', () => {
    const { q, scales } = quantizeInt8(w, 5, 2);
    expect(Array.from(scales)).toEqual([1, 1]);
    expect(Array.from(q)).toEqual([0xff03817f, 0x00000003, 0, 0]);
    const s = quantizeInt8(Float32Array.of(-0.5, 0.26), 2, 1);
    expect(s.scales[0]).toBe(Math.fround(0.5 / 127));
    expect(s.q[0]).toBe(0x4281); // bytes [-127, 66]
  });

  it('multiplies by the dequantized weight', async () => {
    const { q, scales } = quantizeInt8(w, 5, 2);
    const W: Int8Weight = { q: ops.tensor(q, [2, 2]), scales: ops.tensor(scales, [2]), k: 5, n: 2 };
    expect(await read(ops.matmulInt8(t2([[1, 1, 1, 1, 1], [0, 0, 0, 0, 2]]), W))).toEqual([5, 0, 6, 0]);
    expect(() => ops.matmulInt8(ops.zeros([1, 4]), W)).toThrow(/matmulInt8.*\[1, 4\]/);
  });

  it('matches float matmul within quantization error', async () => {
    const rng = new Rng(3);
    const [m, k, n] = [3, 9, 4];
    const a = rng.uniformArray(m * k);
    const wf = rng.uniformArray(k * n);
    const { q, scales } = quantizeInt8(wf, k, n);
    const W: Int8Weight = { q: ops.tensor(q, [n, 3]), scales: ops.tensor(scales, [n]), k, n };
    const got = await read(ops.matmulInt8(ops.tensor(a, [m, k]), W));
    const want = await read(ops.matmul(ops.tensor(a, [m, k]), ops.tensor(wf, [k, n])));
    expectClose(got, want, 0.05);
  });
});

describe('cpu elementwise and reductions', () => {
  it('add, mul, scale, addBias', async () => {
    expect(await read(ops.add(t2([[1, 2]]), t2([[3, 5]])))).toEqual([4, 7]);
    expect(await read(ops.mul(t2([[1, 2]]), t2([[3, 5]])))).toEqual([3, 10]);
    expect(await read(ops.scale(t2([[1, -2]]), 1.5))).toEqual([1.5, -3]);
    expect(await read(ops.addBias(t2([[1, 2], [3, 4]]), t1([10, 20])))).toEqual([11, 22, 13, 24]);
  });

  it('sum and sumRows', async () => {
    const x = t2([[1, 2, 3], [4, 5, 6]]);
    const s = ops.sum(x);
    expect(s.shape).toEqual([1]);
    expect(await read(s)).toEqual([21]);
    expect(await read(ops.sumRows(x))).toEqual([5, 7, 9]);
  });

  it('names the op and shapes on mismatch', () => {
    expect(() => ops.add(ops.zeros([2, 3]), ops.zeros([3, 2]))).toThrow(/add.*\[2, 3\].*\[3, 2\]/);
    expect(() => ops.mul(ops.zeros([2]), ops.zeros([2], 'i32'))).toThrow(/mul.*f32/);
    expect(() => ops.addBias(ops.zeros([2, 3]), ops.zeros([2]))).toThrow(/addBias.*bias.*3.*\[2\]/);
    expect(() => ops.sumRows(ops.zeros([6]))).toThrow(/sumRows.*rank 2/);
  });
});

describe('cpu embedding', () => {
  it('gathers and scatter-adds', async () => {
    const table = t2([[1, 2], [3, 4], [5, 6]]);
    expect(await read(ops.embedding(table, ids([2, 0, 2])))).toEqual([5, 6, 1, 2, 5, 6]);
    const d = ops.embeddingBackward(t2([[1, 1], [2, 2], [3, 3]]), Int32Array.of(2, 0, 2), 3);
    expect(d.shape).toEqual([3, 2]);
    expect(await read(d)).toEqual([2, 2, 0, 0, 4, 4]);
  });

  it('rejects bad ids', () => {
    const table = t2([[1, 2], [3, 4]]);
    expect(() => ops.embedding(table, ids([0, 2]))).toThrow(/embedding.*ids\[1\] = 2/);
    expect(() => ops.embedding(table, t1([0]))).toThrow(/embedding.*i32/);
    expect(() => ops.embeddingBackward(t2([[1, 1]]), Int32Array.of(0, 1), 2)).toThrow(/embeddingBackward.*rows/);
  });
});

describe('cpu layernorm', () => {
  const r = 1 / Math.sqrt(1.25); // x = [1, 2, 3, 4]: mean 2.5, variance 1.25

  it('normalizes rows', async () => {
    const { y, mean, rstd } = ops.layernorm(t2([[1, 2, 3, 4]]), t1([1, 2, 1, 1]), t1([0, 0, 1, 0]), 0);
    expectClose(await read(y), [-1.5 * r, -0.5 * r * 2, 0.5 * r + 1, 1.5 * r]);
    expectClose(await read(mean), [2.5]);
    expectClose(await read(rstd), [r]);
  });

  it('backward by hand', async () => {
    const x = t2([[1, 2, 3, 4]]);
    const gamma = t1([1, 1, 1, 1]);
    const { mean, rstd } = ops.layernorm(x, gamma, t1([0, 0, 0, 0]), 0);
    const { dx, dgamma, dbeta } = ops.layernormBackward(t2([[1, 0, 0, 0]]), x, gamma, mean, rstd);
    // dx_j = r (g_j - mean(g) - xhat_j mean(g xhat)), with xhat = [-1.5, -0.5, 0.5, 1.5] r.
    expectClose(await read(dx), [0.3 * r, -0.4 * r, -0.1 * r, 0.2 * r]);
    expectClose(await read(dgamma), [-1.5 * r, 0, 0, 0]);
    expectClose(await read(dbeta), [1, 0, 0, 0]);
  });

  it('checks gamma and beta sizes', () => {
    expect(() => ops.layernorm(ops.zeros([2, 4]), ops.zeros([3]), ops.zeros([4]), 1e-5)).toThrow(/layernorm.*gamma.*4.*\[3\]/);
  });
});

describe('cpu gelu', () => {
  it('forward and backward', async () => {
    expectClose(await read(ops.gelu(t1([0, 1, -1, 3]))), [0, 0.8411920, -0.1588080, 2.9963627]);
    const g = await read(ops.geluBackward(t1([1, 2]), t1([0, 0])));
    expectClose(g, [0.5, 1]);
  });
});

describe('cpu attention', () => {
  const ln3 = Math.log(3);

  it('is causal and keeps lse per (batch, head, row)', async () => {
    // Head 0: row 1 scores [0, ln3] -> p = [1/4, 3/4]. Head 1: scores [0, 0] -> p = [1/2, 1/2].
    const q = t2([[1, 1], [1, 1]]);
    const k = t2([[0, 0], [ln3, 0]]);
    const v = t2([[2, 1], [6, 3]]);
    const { out, lse } = ops.attention(q, k, v, { batch: 1, heads: 2, tq: 2, tk: 2, scale: 1 });
    expectClose(await read(out), [2, 1, 5, 2]);
    expectClose(await read(lse), [0, Math.log(4), 0, Math.log(2)]);
  });

  it('decodes with a key offset (tq < tk)', async () => {
    const { out, lse } = ops.attention(t2([[1]]), t2([[0], [ln3]]), t2([[2], [6]]), { batch: 1, heads: 1, tq: 1, tk: 2 });
    expectClose(await read(out), [5]);
    expectClose(await read(lse), [Math.log(4)]);
  });

  it('backward by hand: dv = P^T dO', async () => {
    const spec = { batch: 1, heads: 1, tq: 1, tk: 2 };
    const q = t2([[1]]);
    const k = t2([[0], [ln3]]);
    const v = t2([[2], [6]]);
    const { out, lse } = ops.attention(q, k, v, spec);
    const { dq, dk, dv } = ops.attentionBackward(t2([[1]]), q, k, v, out, lse, spec);
    expectClose(await read(dv), [0.25, 0.75]);
    // D = 5, dS = P (v - D) = [-0.75, 0.75]; dq = dS k = 0.75 ln3; dk = dS q.
    expectClose(await read(dq), [0.75 * ln3]);
    expectClose(await read(dk), [-0.75, 0.75]);
  });

  it('checks shapes', () => {
    const x = ops.zeros([2, 4]);
    expect(() => ops.attention(x, x, x, { batch: 1, heads: 2, tq: 3, tk: 2 })).toThrow(/attention.*tq/);
    expect(() => ops.attention(x, ops.zeros([2, 6]), x, { batch: 1, heads: 2, tq: 2, tk: 2 })).toThrow(/attention.*widths/);
    const { out, lse } = ops.attention(x, x, x, { batch: 1, heads: 2, tq: 2, tk: 2 });
    expect(() => ops.attentionBackward(x, x, x, x, out, ops.zeros([3]), { batch: 1, heads: 2, tq: 2, tk: 2 })).toThrow(/attentionBackward.*lse/);
    expect(lse.size).toBe(4);
  });
});

describe('cpu logprob', () => {
  const ln3 = Math.log(3);

  it('fused and unfused agree with the hand value', async () => {
    const logits = t2([[0, ln3], [0, ln3]]);
    const targets = ids([1, 0]);
    const { logp, lse } = ops.logprob(logits, targets);
    expectClose(await read(logp), [Math.log(0.75), Math.log(0.25)]);
    expectClose(await read(lse), [Math.log(4), Math.log(4)]);
    expectClose(await read(ops.logprobUnfused(logits, targets)), [Math.log(0.75), Math.log(0.25)]);
  });

  it('ignores -Infinity logits', async () => {
    const { logp } = ops.logprob(t2([[-Infinity, 0, 0]]), ids([1]));
    expectClose(await read(logp), [Math.log(0.5)]);
  });

  it('backward writes (softmax - onehot) * weight in place', async () => {
    const logits = t2([[0, ln3]]);
    const targets = ids([1]);
    const { lse } = ops.logprob(logits, targets);
    const g = ops.logprobBackward(logits, targets, lse, t1([2]));
    expect(g).toBe(logits);
    expectClose(await read(logits), [0.5, -0.5]);
  });

  it('checks targets', () => {
    expect(() => ops.logprob(ops.zeros([2, 3]), ids([0]))).toThrow(/logprob.*targets.*2/);
    expect(() => ops.logprob(ops.zeros([1, 3]), ids([3]))).toThrow(/logprob.*targets\[0\] = 3/);
    expect(() => ops.logprobBackward(ops.zeros([1, 3]), ids([0]), ops.zeros([2]), ops.zeros([1]))).toThrow(/logprobBackward.*lse/);
  });
});

describe('cpu sample', () => {
  const logp = (ps: number[]): number[] => ps.map(Math.log);
  const draw = async (logits: number[][], us: number[], temperature: number, topP: number): Promise<number[]> =>
    Array.from(await ops.readI32(ops.sample(t2(logits), t1(us), { temperature, topP })));

  it('draws by running mass in index order', async () => {
    const l = logp([0.1, 0.2, 0.3, 0.4]);
    expect(await draw([l, l, l, l], [0, 0.05, 0.25, 0.999], 1, 1)).toEqual([0, 0, 1, 3]);
  });

  it('restricts to the nucleus', async () => {
    // topP 0.5: sorted mass 0.4, 0.7 -> kept {2, 3}, K = 0.7.
    const l = logp([0.1, 0.2, 0.3, 0.4]);
    expect(await draw([l, l, l], [0, 0.4, 0.5], 1, 0.5)).toEqual([2, 2, 3]);
    expect(await draw([l, l], [0, 0.99], 1, 0.1)).toEqual([3, 3]);
  });

  it('keeps ties at the threshold', async () => {
    // p = [e, e, e, 1] / (3e + 1) ~ 0.297 each for the tied tokens; topP 0.4 is reached at the second one.
    expect(await draw([[1, 1, 1, 0], [1, 1, 1, 0]], [0.99, 0.5], 1, 0.4)).toEqual([2, 1]);
  });

  it('applies temperature', async () => {
    // temperature 0.5 squares the odds: p = [0.1, 0.9].
    const l = [0, Math.log(3)];
    expect(await draw([l, l], [0.09, 0.11], 0.5, 1)).toEqual([0, 1]);
  });

  it('checks options', () => {
    expect(() => ops.sample(ops.zeros([1, 3]), ops.zeros([1]), { temperature: 0, topP: 1 })).toThrow(/sample.*temperature/);
    expect(() => ops.sample(ops.zeros([1, 3]), ops.zeros([1]), { temperature: 1, topP: 0 })).toThrow(/sample.*topP/);
    expect(() => ops.sample(ops.zeros([2, 3]), ops.zeros([1]), { temperature: 1, topP: 1 })).toThrow(/sample.*uniforms/);
  });
});

describe('cpu adamw', () => {
  it('two steps by hand', async () => {
    const [p, g, m, v] = [t1([1]), t1([0.5]), t1([0]), t1([0])];
    const opts = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    // Step 1: mhat = 0.5, vhat = 0.25 -> p = 1 - 0.1 (1 + 0.01).
    ops.adamw(p, g, m, v, opts);
    expectClose(await read(p), [0.899]);
    expectClose(await read(m), [0.05]);
    expectClose(await read(v), [0.00025], 1e-9);
    // Step 2: bias correction keeps mhat = 0.5, vhat = 0.25 -> p = 0.899 - 0.1 (1 + 0.00899).
    ops.adamw(p, g, m, v, { ...opts, step: 2 });
    expectClose(await read(p), [0.798101]);
  });

  it('checks shapes', () => {
    const x = ops.zeros([2]);
    expect(() => ops.adamw(x, ops.zeros([3]), x, x, { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1 })).toThrow(/adamw.*\[2\].*\[3\]/);
    expect(() => ops.adamw(x, x, x, x, { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 0 })).toThrow(/adamw.*step/);
  });
});

describe('cpu backend', () => {
  it('wraps the ops with array-level matmul and logprob', async () => {
    const be = createCpuBackend();
    expect(be.info).toEqual({ kind: 'cpu', adapter: 'CPU reference (TypeScript)', fallbackReason: '' });
    expect(Array.from(await be.matmul(Float32Array.of(1, 2), Float32Array.of(3, 4), 1, 2, 1))).toEqual([11]);
    expectClose(await be.logprob(Float32Array.of(0, Math.log(3)), Int32Array.of(1), 1, 2), [Math.log(0.75)]);
    be.dispose();
  });
});

/** A fixed sequence of forward and backward ops; returns every result's bits. */
async function pipeline(o: Ops, seed: number): Promise<Uint32Array[]> {
  const rng = new Rng(seed);
  const [n, d, vocab] = [6, 8, 11];
  const x = o.tensor(rng.normalArray(n * d), [n, d]);
  const w = o.tensor(rng.normalArray(d * d, 0.3), [d, d]);
  const { y } = o.layernorm(x, o.tensor(rng.uniformArray(d, 0.5, 1.5), [d]), o.zeros([d]), 1e-5);
  const h = o.gelu(o.matmul(y, w));
  const spec = { batch: 2, heads: 2, tq: 3, tk: 3 };
  const { out, lse } = o.attention(h, h, h, spec);
  const grads = o.attentionBackward(o.scale(out, 0.5), h, h, h, out, lse, spec);
  const logits = o.matmul(out, o.tensor(rng.normalArray(d * vocab), [d, vocab]));
  const targets = o.tensor(rng.intArray(n, vocab), [n]);
  const lp = o.logprob(logits, targets);
  const tok = o.sample(logits, o.tensor(rng.uniformArray(n, 0, 1), [n]), { temperature: 0.8, topP: 0.9 });
  const dl = o.logprobBackward(o.scale(logits, 1), targets, lp.lse, o.tensor(rng.normalArray(n), [n]));
  const [m, v] = [o.zeros([d, d]), o.zeros([d, d])];
  o.adamw(w, o.matmul(h, grads.dq, { transA: true }), m, v, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1 });
  const all = [y, h, out, lse, grads.dq, grads.dk, grads.dv, lp.logp, lp.lse, tok, dl, w, m, v];
  return Promise.all(all.map(async (t) => new Uint32Array((await o.read(t)).buffer)));
}

describe('cpu determinism', () => {
  it('same seed gives identical bits', async () => {
    const a = await pipeline(createCpuOps(), 42);
    const b = await pipeline(createCpuOps(), 42);
    expect(b).toEqual(a);
    const c = await pipeline(createCpuOps(), 43);
    expect(c).not.toEqual(a);
  });
});
