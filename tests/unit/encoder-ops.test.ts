// What the BERT-style encoder needs from the engine: bidirectional attention with padded keys, row-wise L2
// normalization, mean pooling as a matmul with a host-built matrix, and an InfoNCE loss through the tape
// (nll over scaled similarity logits). Hand values on the reference; the tape end to end on every backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuOps } from '../../src/engine/cpu/ops.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { meanPoolMatrix } from '../../src/engine/pooling.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Tape, type Var } from '../../src/engine/tape.ts';
import type { AttentionSpec, Backend, Ops, Tensor } from '../../src/engine/types.ts';

const ops = createCpuOps();
const t2 = (rows: number[][]): Tensor => ops.tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
const read = async (t: Tensor): Promise<number[]> => Array.from(await ops.readF32(t));

function expectClose(got: ArrayLike<number>, want: number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
}

describe('bidirectional attention with padded keys (reference)', () => {
  const ln3 = Math.log(3);
  // One sequence, two keys with scores [0, ln3] for q = 1: p = [1/4, 3/4].
  const q = t2([[1], [1]]);
  const k = t2([[0], [ln3]]);
  const v = t2([[2], [6]]);

  it('non-causal: every query sees every key; causal: true is the default', async () => {
    const bi = ops.attention(q, k, v, { batch: 1, heads: 1, tq: 2, tk: 2, scale: 1, causal: false });
    expectClose(await read(bi.out), [5, 5]);
    expectClose(await read(bi.lse), [Math.log(4), Math.log(4)]);
    const causal = ops.attention(q, k, v, { batch: 1, heads: 1, tq: 2, tk: 2, scale: 1 });
    const explicit = ops.attention(q, k, v, { batch: 1, heads: 1, tq: 2, tk: 2, scale: 1, causal: true });
    expectClose(await read(causal.out), [2, 5]);
    expect(await read(explicit.out)).toEqual(await read(causal.out));
    expect(await read(explicit.lse)).toEqual(await read(causal.lse));
  });

  it('masks keys past keyLengths; padded queries still attend to the valid keys', async () => {
    // Batch of 2 sequences of 2: entry 0 has one valid key, entry 1 both.
    const q2 = t2([[1], [1], [1], [1]]);
    const k2 = t2([[0], [ln3], [0], [ln3]]);
    const v2 = t2([[2], [6], [2], [6]]);
    const spec: AttentionSpec = { batch: 2, heads: 1, tq: 2, tk: 2, scale: 1, causal: false, keyLengths: Int32Array.of(1, 2) };
    const { out, lse } = ops.attention(q2, k2, v2, spec);
    expectClose(await read(out), [2, 2, 5, 5]);
    expectClose(await read(lse), [0, 0, Math.log(4), Math.log(4)]);
    const { dk, dv } = ops.attentionBackward(t2([[1], [1], [1], [1]]), q2, k2, v2, out, lse, spec);
    const dkv = await read(dk);
    const dvv = await read(dv);
    // Key 1 of entry 0 is masked: zero gradient. Key 0 of entry 0 takes all of both queries' attention.
    expect(dkv[1]).toBe(0);
    expect(dvv[1]).toBe(0);
    expectClose(dvv, [2, 0, 0.5, 1.5]);
  });

  it('causal and keyLengths combine (keys past the length stay masked for late queries)', async () => {
    const q3 = t2([[1], [1], [1]]);
    const k3 = t2([[0], [ln3], [5]]);
    const v3 = t2([[2], [6], [100]]);
    const { out } = ops.attention(q3, k3, v3, { batch: 1, heads: 1, tq: 3, tk: 3, scale: 1, keyLengths: Int32Array.of(2) });
    expectClose(await read(out), [2, 5, 5]);
  });

  it('a padded sequence gives the valid rows of the unpadded one', async () => {
    const rng = new Rng(5);
    const [t, len, heads, d] = [7, 4, 2, 3];
    const w = heads * d;
    const [qd, kd, vd, gd] = [0, 1, 2, 3].map(() => rng.normalArray(t * w));
    const full = (x: Float32Array): Tensor => ops.tensor(x, [t, w]);
    const cut = (x: Float32Array): Tensor => ops.tensor(x.slice(0, len * w), [len, w]);
    const padded: AttentionSpec = { batch: 1, heads, tq: t, tk: t, causal: false, keyLengths: Int32Array.of(len) };
    const short: AttentionSpec = { batch: 1, heads, tq: len, tk: len, causal: false };
    const [fq, fk, fv] = [qd, kd, vd].map(full);
    const [sq, sk, sv] = [qd, kd, vd].map(cut);
    // Output gradients only on valid rows (as mean pooling gives).
    const g = gd.slice();
    g.fill(0, len * w);
    const a = ops.attention(fq, fk, fv, padded);
    const b = ops.attention(sq, sk, sv, short);
    expectClose((await read(a.out)).slice(0, len * w), await read(b.out));
    const ga = ops.attentionBackward(ops.tensor(g, [t, w]), fq, fk, fv, a.out, a.lse, padded);
    const gb = ops.attentionBackward(ops.tensor(g.slice(0, len * w), [len, w]), sq, sk, sv, b.out, b.lse, short);
    for (const [x, y] of [[ga.dq, gb.dq], [ga.dk, gb.dk], [ga.dv, gb.dv]] as const) {
      const xs = await read(x);
      expectClose(xs.slice(0, len * w), await read(y));
      expect(xs.slice(len * w).every((z) => z === 0)).toBe(true);
    }
  });

  it('checks causal and keyLengths', () => {
    const x = ops.zeros([4, 2]);
    const base = { batch: 2, heads: 1, tq: 2, tk: 2 };
    expect(() => ops.attention(x, x, x, { ...base, keyLengths: Int32Array.of(1) })).toThrow(/attention: keyLengths has 1 values, batch is 2/);
    expect(() => ops.attention(x, x, x, { ...base, keyLengths: Int32Array.of(1, 0) })).toThrow(/keyLengths\[1\] = 0 is outside \[1, tk = 2\]/);
    expect(() => ops.attention(x, x, x, { ...base, keyLengths: Int32Array.of(3, 1) })).toThrow(/keyLengths\[0\] = 3/);
    const notInt32 = Float32Array.of(1, 2) as unknown as Int32Array; // a caller's type error, caught at run time
    expect(() => ops.attention(x, x, x, { ...base, keyLengths: notInt32 })).toThrow(/keyLengths must be an Int32Array/);
    const notBool = 0 as unknown as boolean; // likewise
    expect(() => ops.attention(x, x, x, { ...base, causal: notBool })).toThrow(/causal must be a boolean/);
    const { out, lse } = ops.attention(x, x, x, base);
    expect(() => ops.attentionBackward(x, x, x, x, out, lse, { ...base, keyLengths: Int32Array.of(2, 2, 2) })).toThrow(/keyLengths has 3 values/);
  });
});

describe('l2normalize (reference)', () => {
  it('forward and backward by hand, zero rows clamped by eps', async () => {
    const { y, norm } = ops.l2normalize(t2([[3, 4], [0, 0]]), 1e-12);
    expectClose(await read(y), [0.6, 0.8, 0, 0]);
    expectClose(await read(norm), [5, 0]);
    const dx = await read(ops.l2normalizeBackward(t2([[1, 0], [1, 2]]), y, norm, 1e-12));
    // Row 0: (dy - y (y . dy)) / norm = ([1, 0] - 0.6 [0.6, 0.8]) / 5. Row 1 is clamped: dy / eps.
    expectClose(dx.slice(0, 2), [0.128, -0.096]);
    expect(dx[2] / 1e12).toBeCloseTo(1, 5);
    expect(dx[3] / 1e12).toBeCloseTo(2, 5);
  });

  it('rows below eps are divided by eps', async () => {
    const { y, norm } = ops.l2normalize(t2([[0.3, 0.4], [30, 40]]), 1);
    expectClose(await read(y), [0.3, 0.4, 0.6, 0.8]);
    expectClose(await read(norm), [0.5, 50], 1e-4);
    expectClose(await read(ops.l2normalizeBackward(t2([[1, 2], [0, 0]]), y, norm, 1)), [1, 2, 0, 0]);
  });

  it('checks shapes', () => {
    const x = ops.zeros([2, 3]);
    expect(() => ops.l2normalize(ops.zeros([6]), 1e-12)).toThrow(/l2normalize: x must have rank 2/);
    expect(() => ops.l2normalize(x, -1)).toThrow(/l2normalize: eps must be/);
    expect(() => ops.l2normalizeBackward(ops.zeros([3, 2]), x, ops.zeros([2]), 1e-12)).toThrow(/l2normalizeBackward: shapes differ/);
    expect(() => ops.l2normalizeBackward(x, x, ops.zeros([3]), 1e-12)).toThrow(/l2normalizeBackward: norm must have 2 elements/);
  });
});

describe('meanPoolMatrix', () => {
  it('averages the first lengths[b] rows of each sequence', () => {
    const p = meanPoolMatrix(Int32Array.of(2, 3), 3);
    expectClose(p, [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 1 / 3, 1 / 3, 1 / 3]);
    expect(Array.from(meanPoolMatrix(Int32Array.of(1), 1))).toEqual([1]);
    expect(meanPoolMatrix(new Int32Array(0), 4)).toHaveLength(0);
  });

  it('pools through matmul', async () => {
    const h = t2([[1, 10], [3, 30], [100, 100], [5, 6], [7, 8], [9, 10]]);
    const p = ops.tensor(meanPoolMatrix(Int32Array.of(2, 3), 3), [2, 6]);
    expectClose(await read(ops.matmul(p, h)), [2, 20, 7, 8]);
  });

  it('rejects bad lengths', () => {
    expect(() => meanPoolMatrix(Int32Array.of(0), 3)).toThrow(/lengths\[0\] = 0 is outside \[1, t = 3\]/);
    expect(() => meanPoolMatrix(Int32Array.of(2, 4), 3)).toThrow(/lengths\[1\] = 4/);
    expect(() => meanPoolMatrix(Int32Array.of(1), 0)).toThrow(/t must be a positive integer/);
    expect(() => meanPoolMatrix([1] as unknown as Int32Array, 2)).toThrow(/Int32Array/); // a caller's type error
  });
});

// ---- InfoNCE through the tape, on every backend ---------------------------------------------------------------

const B = 3;
const T = 5;
const HEADS = 2;
const D = 6;
const TAU = 0.5;
const LENS_Q = Int32Array.of(2, 5, 3);
const LENS_P = Int32Array.of(5, 1, 4);

/** One tower: bidirectional padded self-attention, masked mean pooling (matmul), L2 normalization. */
function tower(tape: Tape, x: Var, lens: Int32Array): Var {
  const spec: AttentionSpec = { batch: B, heads: HEADS, tq: T, tk: T, causal: false, keyLengths: lens };
  const h = tape.attention(x, x, x, spec);
  const p = tape.ops.tensor(meanPoolMatrix(lens, T), [B, B * T]);
  tape.adopt(p);
  return tape.l2normalize(tape.matmul(tape.input(p), h));
}

/** InfoNCE with in-batch negatives: nll of the diagonal of (q p^T) / tau, averaged over the batch. */
function infoNce(tape: Tape, xq: Var, xp: Var): Var {
  const o = tape.ops;
  const logits = tape.scale(tape.matmul(tower(tape, xq, LENS_Q), tower(tape, xp, LENS_P), { transB: true }), 1 / TAU);
  const targets = o.tensor(Int32Array.from({ length: B }, (_, i) => i), [B]);
  const weights = o.tensor(new Float32Array(B).fill(1 / B), [B]);
  tape.adopt(targets, weights);
  return tape.nll(logits, targets, weights);
}

async function lossOf(o: Ops, q: Float32Array, p: Float32Array): Promise<number> {
  const tq = o.tensor(q, [B * T, D]);
  const tp = o.tensor(p, [B * T, D]);
  const tape = new Tape(o);
  const loss = infoNce(tape, tape.input(tq), tape.input(tp));
  const v = (await o.readF32(loss.value))[0];
  tape.dispose();
  o.dispose(tq);
  o.dispose(tp);
  return v;
}

async function gradsOf(o: Ops, q: Float32Array, p: Float32Array): Promise<{ loss: number; gq: Float32Array; gp: Float32Array }> {
  const tq = o.tensor(q, [B * T, D]);
  const tp = o.tensor(p, [B * T, D]);
  const tape = new Tape(o);
  const vq = tape.param(tq, 'q');
  const vp = tape.param(tp, 'p');
  const loss = infoNce(tape, vq, vp);
  const value = (await o.readF32(loss.value))[0];
  tape.backward(loss);
  tape.dispose();
  if (!vq.grad || !vp.grad) throw new Error('no gradient');
  const gq = await o.readF32(vq.grad);
  const gp = await o.readF32(vp.grad);
  for (const t of [vq.grad, vp.grad, tq, tp]) o.dispose(t);
  return { loss: value, gq, gp };
}

const inputsRng = new Rng(11);
const XQ = inputsRng.uniformArray(B * T * D, -1.5, 1.5);
const XP = inputsRng.uniformArray(B * T * D, -1.5, 1.5);

/** Rows of the packed [B*T, D] input that are padding. */
const paddedRows = (lens: Int32Array): number[] =>
  Array.from({ length: B * T }, (_, r) => r).filter((r) => r % T >= lens[Math.floor(r / T)]);

for (const which of ['cpu reference', 'cpu wasm-simd', 'webgpu'] as const) {
  describe(`InfoNCE through the tape on ${which}`, () => {
    let be: Backend;
    beforeAll(async () => {
      be = which === 'cpu reference' ? createCpuReferenceBackend() : await createBackend(which === 'webgpu' ? 'webgpu' : 'cpu', { threads: 1 });
    });
    afterAll(() => be?.dispose());

    it('matches finite differences; padded tokens get zero gradient and do not change the loss', async () => {
      const o = be.ops;
      const { loss, gq, gp } = await gradsOf(o, XQ, XP);
      expect(loss).toBeGreaterThan(0);
      expect(Number.isFinite(loss)).toBe(true);

      for (const [g, lens] of [[gq, LENS_Q], [gp, LENS_P]] as const)
        for (const r of paddedRows(lens)) for (let c = 0; c < D; c++) expect(g[r * D + c], `padded row ${r}`).toBe(0);

      // Padding values are irrelevant.
      const scrambled = XQ.slice();
      for (const r of paddedRows(LENS_Q)) for (let c = 0; c < D; c++) scrambled[r * D + c] = 7 * Math.sin(r + c);
      const l2 = await lossOf(o, scrambled, XP);
      expect(Math.abs(l2 - loss)).toBeLessThanOrEqual(which === 'cpu reference' ? 0 : 1e-6);

      // Central differences on a sample of valid points of both inputs.
      const rng = new Rng(3);
      const eps = 1e-2;
      let maxErr = 0;
      let maxGrad = 0;
      for (const [x, g, lens, side] of [[XQ, gq, LENS_Q, 'q'], [XP, gp, LENS_P, 'p']] as const) {
        const valid = Array.from({ length: B * T }, (_, r) => r).filter((r) => !paddedRows(lens).includes(r));
        for (let s = 0; s < 8; s++) {
          const i = valid[rng.int(valid.length)] * D + rng.int(D);
          const hi = x.slice();
          const lo = x.slice();
          hi[i] = Math.fround(x[i] + eps);
          lo[i] = Math.fround(x[i] - eps);
          const [lp, lm] = side === 'q'
            ? [await lossOf(o, hi, XP), await lossOf(o, lo, XP)]
            : [await lossOf(o, XQ, hi), await lossOf(o, XQ, lo)];
          const numeric = (lp - lm) / (hi[i] - lo[i]);
          maxErr = Math.max(maxErr, Math.abs(numeric - g[i]));
          maxGrad = Math.max(maxGrad, Math.abs(g[i]));
        }
      }
      expect(maxGrad).toBeGreaterThan(1e-3);
      expect(maxErr / maxGrad, `max abs err ${maxErr} vs max grad ${maxGrad}`).toBeLessThan(3e-2);
    });

    it('tape.scale scales the value and the gradient', async () => {
      const o = be.ops;
      const tape = new Tape(o);
      const x = o.tensor(Float32Array.of(1, -2, 3, 0.5), [2, 2]);
      const vx = tape.param(x);
      const logits = tape.scale(vx, 2);
      expect(Array.from(await o.readF32(logits.value))).toEqual([2, -4, 6, 1]);
      const targets = o.tensor(Int32Array.of(0, 1), [2]);
      const weights = o.tensor(Float32Array.of(1, 1), [2]);
      tape.adopt(targets, weights);
      const loss = tape.nll(logits, targets, weights);
      tape.backward(loss);
      const g = await o.readF32(vx.grad as Tensor);
      // d/dx of -log softmax(2x)[t] = 2 (softmax(2x) - onehot(t)).
      const sm = (a: number, b: number): number => 1 / (1 + Math.exp(b - a));
      expectClose(g, [2 * (sm(2, -4) - 1), 2 * sm(-4, 2), 2 * sm(6, 1), 2 * (sm(1, 6) - 1)], 1e-5);
      tape.dispose();
      o.dispose(vx.grad as Tensor);
      o.dispose(x);
    });
  });
}
