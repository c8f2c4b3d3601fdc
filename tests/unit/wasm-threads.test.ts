// Determinism of the fast cpu backend: the 2-thread runtime (a helper worker on shared memory) gives the same bits
// as the 1-thread one, whether a kernel is split at its natural size or forced to split at any size; repeated runs
// and repeated training with the same seed give the same bits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import { PARALLEL_MIN, acquireRuntime, releaseRuntime, setParallelMin } from '../../src/engine/cpu/wasm/runtime.ts';
import { AdamW } from '../../src/engine/optim.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Tape } from '../../src/engine/tape.ts';
import type { AttentionSpec, Backend, MatmulOptions, Ops, Tensor } from '../../src/engine/types.ts';
import { lmLoss, Transformer, type TransformerConfig } from '../../src/model/transformer.ts';
import { trainTiny } from '../shared/train-suite.ts';
import { bitsOf } from '../shared/wasm-suite.ts';

type Build = (o: Ops) => Record<string, Tensor>;

interface BitCase {
  name: string;
  build: Build;
}

function inputs(seed: number) {
  const rng = new Rng(seed);
  return {
    f: (n: number, lo = -1, hi = 1) => rng.uniformArray(n, lo, hi),
    i: (n: number, max: number) => rng.intArray(n, max),
  };
}

function matmulBits(m: number, k: number, n: number, opts: MatmulOptions): BitCase {
  const r = inputs(m * 7 + k * 3 + n);
  const a = r.f(m * k);
  const b = r.f(k * n);
  return {
    name: `matmul ${m}x${k}x${n}${opts.transA ? ' transA' : ''}${opts.transB ? ' transB' : ''}`,
    build: (o) => ({
      c: o.matmul(o.tensor(a, opts.transA ? [k, m] : [m, k]), o.tensor(b, opts.transB ? [n, k] : [k, n]), opts),
    }),
  };
}

function attentionBits(spec: AttentionSpec, d: number): BitCase {
  const w = spec.heads * d;
  const r = inputs(spec.tq * 31 + spec.tk + d);
  const [q, k, v, g] = [r.f(spec.batch * spec.tq * w, -2, 2), r.f(spec.batch * spec.tk * w, -2, 2), r.f(spec.batch * spec.tk * w), r.f(spec.batch * spec.tq * w)];
  return {
    name: `attention b${spec.batch} h${spec.heads} tq${spec.tq} tk${spec.tk} d${d}${spec.causal === false ? ' bidir' : ''}${spec.keyLengths ? ` lens ${Array.from(spec.keyLengths).join(',')}` : ''} fwd+bwd`,
    build: (o) => {
      const [tq, tk, tv, tg] = [o.tensor(q, [spec.batch * spec.tq, w]), o.tensor(k, [spec.batch * spec.tk, w]), o.tensor(v, [spec.batch * spec.tk, w]), o.tensor(g, [spec.batch * spec.tq, w])];
      const { out, lse } = o.attention(tq, tk, tv, spec);
      return { out, lse, ...o.attentionBackward(tg, tq, tk, tv, out, lse, spec) };
    },
  };
}

function logprobBits(rows: number, vocab: number): BitCase {
  const r = inputs(rows + vocab);
  const x = r.f(rows * vocab, -8, 8);
  const t = r.i(rows, vocab);
  const w = r.f(rows);
  return {
    name: `logprob ${rows}x${vocab} fwd+bwd`,
    build: (o) => {
      const lt = o.tensor(x, [rows, vocab]);
      const tt = o.tensor(t, [rows]);
      const { logp, lse } = o.logprob(lt, tt);
      return { logp, lse, grad: o.logprobBackward(lt, tt, lse, o.tensor(w, [rows])) };
    },
  };
}

function pointwiseBits(n: number): BitCase {
  const r = inputs(n);
  const [x, g, dy] = [r.f(n, -6, 6), r.f(n), r.f(n)];
  return {
    name: `gelu fwd/bwd + adamw n=${n}`,
    build: (o) => {
      const xt = o.tensor(x, [n]);
      const p = o.tensor(x, [n]);
      const m = o.zeros([n]);
      const v = o.zeros([n]);
      for (let s = 1; s <= 2; s++) o.adamw(p, o.tensor(g, [n]), m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: s });
      return { y: o.gelu(xt), dx: o.geluBackward(o.tensor(dy, [n]), xt), p, m, v };
    },
  };
}

const CASES: BitCase[] = [
  ...([{}, { transA: true }, { transB: true }, { transA: true, transB: true }] as MatmulOptions[]).flatMap((o) => [
    matmulBits(2048, 128, 512, o),
    matmulBits(130, 70, 90, o),
    matmulBits(7, 333, 600, o),
    matmulBits(3, 300, 1001, o),
  ]),
  matmulBits(1, 128, 30011, { transB: true }),
  matmulBits(128, 1024, 512, { transA: true }),
  logprobBits(64, 30011),
  logprobBits(5, 1003),
  attentionBits({ batch: 8, heads: 4, tq: 128, tk: 128 }, 32),
  attentionBits({ batch: 3, heads: 3, tq: 37, tk: 50 }, 5),
  attentionBits({ batch: 2, heads: 4, tq: 1, tk: 300 }, 16),
  attentionBits({ batch: 4, heads: 4, tq: 64, tk: 64, causal: false, keyLengths: Int32Array.of(1, 64, 30, 63) }, 16),
  attentionBits({ batch: 3, heads: 2, tq: 37, tk: 37, causal: false }, 5),
  pointwiseBits((1 << 20) + 3),
  pointwiseBits(1001),
];

async function run(o: Ops, c: BitCase): Promise<Record<string, Uint32Array>> {
  const outs = c.build(o);
  const res: Record<string, Uint32Array> = {};
  for (const [k, t] of Object.entries(outs)) res[k] = bitsOf((await o.read(t)) as Float32Array).slice();
  return res;
}

function expectSameBits(a: Record<string, Uint32Array>, b: Record<string, Uint32Array>, what: string): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    expect(y.length, `${what}: ${k} length`).toBe(x.length);
    let first = -1;
    for (let i = 0; i < x.length && first < 0; i++) if (x[i] !== y[i]) first = i;
    expect(first, `${what}: ${k} differs first at [${first}]`).toBe(-1);
  }
}

describe('cpu wasm-simd: 2 threads give the same bits as 1 thread', () => {
  let one: Backend;
  let two: Backend;
  beforeAll(async () => {
    one = await createBackend('cpu', { threads: 1 });
    two = await createBackend('cpu', { threads: 2 });
  });
  afterAll(() => {
    one?.dispose();
    two?.dispose();
  });

  it('reports the thread counts', () => {
    expect(one.info.adapter).toBe('CPU wasm-simd, 1 thread');
    expect(two.info.adapter).toBe('CPU wasm-simd, 2 threads');
  });

  for (const c of CASES) {
    it(`${c.name} (natural split, then every kernel split)`, async () => {
      const rt = await acquireRuntime(2);
      try {
        const single = await run(one.ops, c);
        const jobs0 = rt.helperJobs;
        expectSameBits(single, await run(two.ops, c), 'natural split');
        const saved = setParallelMin({ gemm: 1, attention: 1, elements: 1 });
        try {
          const jobs1 = rt.helperJobs;
          expectSameBits(single, await run(two.ops, c), 'forced split');
          expect(rt.helperJobs, 'the helper thread ran part of the work').toBeGreaterThan(jobs1);
        } finally {
          setParallelMin(saved);
        }
        expectSameBits(single, await run(one.ops, c), 'repeat on 1 thread');
        expect(rt.helperJobs).toBeGreaterThanOrEqual(jobs0);
      } finally {
        releaseRuntime(rt, 2);
      }
    });
  }

  it('large matmuls and attention split at their natural size', async () => {
    const rt = await acquireRuntime(2);
    try {
      const before = rt.helperJobs;
      await run(two.ops, CASES[0]);
      expect(rt.helperJobs).toBeGreaterThan(before);
      expect(PARALLEL_MIN.gemm).toBeLessThanOrEqual(2048 * 128 * 512);
    } finally {
      releaseRuntime(rt, 2);
    }
  });
});

const POLICY: TransformerConfig = { vocab: 512, dim: 128, heads: 4, layers: 2, context: 64, mlpRatio: 4 };

/** Two AdamW steps of a 2-layer policy on one batch of 8 x 64 tokens; the losses and every parameter after them. */
async function trainPolicy(ops: Ops, seed: number): Promise<{ losses: number[]; params: Float32Array[] }> {
  const model = new Transformer(ops, POLICY, seed);
  const opt = new AdamW(ops, model.params, { lr: 1e-3, weightDecay: 0.01 });
  const losses: number[] = [];
  const ids = new Rng(seed * 100).intArray(8 * 64, POLICY.vocab);
  for (let s = 0; s < 2; s++) {
    const tape = new Tape(ops);
    const loss = lmLoss(model, tape, ids, 8, 64);
    losses.push((await ops.readF32(loss.value))[0]);
    tape.backward(loss);
    tape.dispose();
    opt.update();
  }
  const params = await Promise.all(model.params.map((p) => ops.readF32(p.value)));
  opt.dispose();
  model.dispose();
  return { losses, params };
}

describe('cpu wasm-simd training is reproducible', () => {
  it('same seed, same bits: 1 thread, 2 threads, and 2 threads with every kernel split', async () => {
    const one = await createBackend('cpu', { threads: 1 });
    const two = await createBackend('cpu', { threads: 2 });
    try {
      const a = await trainPolicy(one.ops, 3);
      const b = await trainPolicy(two.ops, 3);
      const saved = setParallelMin({ gemm: 1, attention: 1, elements: 1 });
      let c: { losses: number[]; params: Float32Array[] };
      try {
        c = await trainPolicy(two.ops, 3);
      } finally {
        setParallelMin(saved);
      }
      const d = await trainPolicy(two.ops, 3);
      expect(a.losses[1]).toBeLessThan(a.losses[0]);
      for (const other of [b, c, d]) {
        expect(other.losses).toEqual(a.losses);
        a.params.forEach((p, i) => expect(bitsOf(other.params[i]), `param ${i}`).toEqual(bitsOf(p)));
      }
      const e = await trainPolicy(two.ops, 4);
      expect(e.losses[0]).not.toEqual(a.losses[0]);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('the tiny training run of the reference suite: same seed same bits, and close to the reference', async () => {
    const fast = await createBackend('cpu');
    const ref = await createBackend('cpu', { reference: true });
    try {
      const a = await trainTiny(fast.ops, 3, 11);
      const b = await trainTiny(fast.ops, 3, 11);
      expect(b.losses).toEqual(a.losses);
      a.params.forEach((p, i) => expect(bitsOf(b.params[i])).toEqual(bitsOf(p)));
      const r = await trainTiny(ref.ops, 3, 11);
      for (let i = 0; i < 3; i++) expect(Math.abs(a.losses[i] - r.losses[i])).toBeLessThan(1e-4);
    } finally {
      fast.dispose();
      ref.dispose();
    }
  });
});
