// The fast cpu backend (WebAssembly SIMD kernels) against the TypeScript reference on awkward shapes: sizes that are
// not multiples of the SIMD width or of the gemm tiles (4x8 register tile, 128/256/2048 cache blocks), 1xKxN decode,
// 30011-wide logprob rows, logits of +-1e4 and -Infinity, attention with head dims 1/3/5 and tq < tk. Shared by the
// Node project (1 and 2 threads) and the Chromium project.
import { describe, expect, it } from 'vitest';
import { mat, rand, runOnBoth, type CaseResult, type Tolerance } from '../../src/engine/conformance/harness.ts';
import { Rng } from '../../src/engine/rng.ts';
import { quantizeInt8 } from '../../src/engine/cpu/matmul.ts';
import { cachedAttention } from '../../src/engine/cpu/cached-attention.ts';
import { pickOp } from '../../src/engine/cpu/pick.ts';
import { rowScatter } from '../../src/engine/cpu/row-scatter.ts';
import type { AttentionSpec, MatmulOptions, Ops, Tensor } from '../../src/engine/types.ts';

export interface KernelCase {
  kernel: string;
  name: string;
  run(ref: Ops, fast: Ops, rng: Rng): Promise<CaseResult>;
}

type Shape = [m: number, k: number, n: number];
const TRANS: MatmulOptions[] = [{}, { transA: true }, { transB: true }, { transA: true, transB: true }];
const tname = (o: MatmulOptions): string => `${o.transA ? 'aT' : 'a'}.${o.transB ? 'bT' : 'b'}`;
const matTol = (k: number): Tolerance => ({ rtol: 1e-4, atol: 1e-4 * Math.max(1, Math.sqrt(k) / 4) });

function matmulCase([m, k, n]: Shape, opts: MatmulOptions, note = ''): KernelCase {
  return {
    kernel: 'matmul',
    name: `${m}x${k}x${n} ${tname(opts)}${note ? ` (${note})` : ''}`,
    run: (ref, fast, rng) => {
      const a = opts.transA ? mat(rand(rng, k * m), k, m) : mat(rand(rng, m * k), m, k);
      const b = opts.transB ? mat(rand(rng, n * k), n, k) : mat(rand(rng, k * n), k, n);
      return runOnBoth(ref, fast, { a, b }, (o, t) => ({ c: o.matmul(t.a, t.b, opts) }), matTol(k));
    },
  };
}

const MATMUL_SHAPES: [Shape, string][] = [
  [[1, 1, 1], ''],
  [[7, 33, 5], ''],
  [[13, 129, 65], ''],
  [[1, 128, 512], 'decode'],
  [[1, 257, 45], 'decode, odd'],
  [[3, 300, 37], 'few rows'],
  [[8, 64, 30011], 'wide'],
  [[17, 31, 15], 'just past the rows path'],
  [[37, 70, 19], ''],
  [[5, 513, 3], 'K over two 256 blocks'],
  [[131, 9, 11], 'M over the 128-row block'],
  [[21, 5, 2053], 'N over the 2048-column panel'],
  [[65, 300, 66], ''],
];

const matmulCases: KernelCase[] = [
  ...MATMUL_SHAPES.flatMap(([s, note]) => TRANS.map((o) => matmulCase(s, o, note))),
  matmulCase([5, 0, 7], {}, 'K = 0'),
  matmulCase([40, 0, 33], { transA: true }, 'K = 0'),
  matmulCase([0, 5, 7], {}, 'M = 0'),
  matmulCase([6, 5, 0], { transB: true }, 'N = 0'),
  matmulCase([2, 64, 30011], { transB: true }, 'tied-embedding logits'),
];

type Fill = 'normal' | 'huge' | 'neginf';
function logits(rng: Rng, rows: number, vocab: number, fill: Fill): Float32Array {
  if (fill === 'huge') return rng.uniformArray(rows * vocab, -1e4, 1e4);
  const x = rng.normalArray(rows * vocab, 2);
  if (fill === 'neginf') for (let i = 0; i < x.length; i++) if (i % 3 === 1) x[i] = -Infinity;
  return x;
}
function hostLse(x: Float32Array, rows: number, vocab: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < vocab; c++) m = Math.max(m, x[r * vocab + c]);
    let s = 0;
    for (let c = 0; c < vocab; c++) s += Math.exp(x[r * vocab + c] - m);
    out[r] = m + Math.log(s);
  }
  return out;
}

const LP_SHAPES: [number, number, Fill][] = [
  [1, 1, 'normal'],
  [3, 7, 'normal'],
  [5, 9, 'normal'],
  [4, 30011, 'normal'],
  [3, 30011, 'huge'],
  [2, 1001, 'huge'],
  [3, 1003, 'neginf'],
];
const logprobCases: KernelCase[] = LP_SHAPES.flatMap(([rows, vocab, fill]): KernelCase[] => [
  {
    kernel: 'logprob',
    name: `forward ${rows}x${vocab} ${fill}`,
    run: (ref, fast, rng) => {
      const x = logits(rng, rows, vocab, fill);
      const targets = rng.intArray(rows, vocab);
      if (fill === 'neginf') targets[0] = 2; // a finite entry (index 1 is -Infinity)
      const tol = { atol: 1e-4, rtol: fill === 'huge' ? 1e-6 : 1e-5 };
      return runOnBoth(ref, fast, { x: mat(x, rows, vocab), targets }, (o, t) => o.logprob(t.x, t.targets), tol);
    },
  },
  {
    kernel: 'logprob',
    name: `backward ${rows}x${vocab} ${fill}`,
    run: (ref, fast, rng) => {
      const x = logits(rng, rows, vocab, fill);
      const targets = rng.intArray(rows, vocab);
      if (fill === 'neginf') targets[0] = 2;
      const weight = rng.uniformArray(rows, -2, 2);
      return runOnBoth(
        ref,
        fast,
        { x: mat(x, rows, vocab), targets, weight, lse: hostLse(x, rows, vocab) },
        (o, t) => ({ grad: o.logprobBackward(t.x, t.targets, t.lse, t.weight) }),
        { atol: 2e-7, rtol: 1e-4 },
      );
    },
  },
]);

const ATT: [AttentionSpec, number, string][] = [
  [{ batch: 1, heads: 1, tq: 1, tk: 1 }, 1, 'single'],
  [{ batch: 2, heads: 3, tq: 7, tk: 7 }, 1, 'd1'],
  [{ batch: 2, heads: 2, tq: 9, tk: 9 }, 3, 'd3'],
  [{ batch: 3, heads: 2, tq: 5, tk: 13 }, 3, 'prefix, d3'],
  [{ batch: 1, heads: 3, tq: 6, tk: 11 }, 5, 'prefix, d5'],
  [{ batch: 2, heads: 4, tq: 1, tk: 37 }, 8, 'decode'],
  [{ batch: 3, heads: 2, tq: 1, tk: 70 }, 33, 'decode, d33'],
  [{ batch: 5, heads: 4, tq: 1, tk: 64, keyLengths: Int32Array.of(1, 64, 17, 3, 40) }, 32, 'decode, KV caches'],
  [{ batch: 3, heads: 3, tq: 1, tk: 29, causal: false, keyLengths: Int32Array.of(29, 2, 11) }, 7, 'decode bidir, d7'],
  [{ batch: 2, heads: 2, tq: 40, tk: 40, scale: 0.3 }, 32, 'train, scale 0.3'],
  [{ batch: 1, heads: 2, tq: 70, tk: 133 }, 17, 'long prefix'],
  [{ batch: 2, heads: 3, tq: 9, tk: 9, causal: false }, 5, 'bidir, d5'],
  [{ batch: 3, heads: 2, tq: 41, tk: 41, causal: false, keyLengths: Int32Array.of(1, 41, 39) }, 33, 'bidir padded, d33'],
  [{ batch: 2, heads: 2, tq: 6, tk: 17, causal: false, keyLengths: Int32Array.of(9, 17) }, 3, 'bidir padded prefix'],
  [{ batch: 3, heads: 1, tq: 12, tk: 12, keyLengths: Int32Array.of(1, 12, 5) }, 4, 'causal padded'],
];
const attentionCases: KernelCase[] = ATT.map(([spec, d, label]): KernelCase => ({
  kernel: 'attention',
  name: `${label}: b${spec.batch} h${spec.heads} tq${spec.tq} tk${spec.tk} d${d} fwd+bwd`,
  run: (ref, fast, rng) => {
    const w = spec.heads * d;
    const qr = spec.batch * spec.tq;
    const kr = spec.batch * spec.tk;
    return runOnBoth(
      ref,
      fast,
      {
        q: mat(rng.normalArray(qr * w), qr, w),
        k: mat(rng.normalArray(kr * w), kr, w),
        v: mat(rng.normalArray(kr * w), kr, w),
        dOut: mat(rng.normalArray(qr * w), qr, w),
      },
      (o, t) => {
        const { out, lse } = o.attention(t.q, t.k, t.v, spec);
        const { dq, dk, dv } = o.attentionBackward(t.dOut, t.q, t.k, t.v, out, lse, spec);
        return { out, lse, dq, dk, dv };
      },
      { atol: 2e-4, rtol: 2e-4 },
    );
  },
}));

const layernormCases: KernelCase[] = ([[1, 1], [2, 3], [3, 5], [4, 130], [9, 129], [2, 1025]] as const).map(([m, n]) => ({
  kernel: 'layernorm',
  name: `fwd+bwd ${m}x${n}`,
  run: (ref: Ops, fast: Ops, rng: Rng) =>
    runOnBoth(
      ref,
      fast,
      { x: mat(rand(rng, m * n, 2), m, n), dy: mat(rand(rng, m * n), m, n), g: rng.uniformArray(n, 0.5, 1.5), b: rand(rng, n) },
      (o, t) => {
        const { y, mean, rstd } = o.layernorm(t.x, t.g, t.b, 1e-5);
        const { dx, dgamma, dbeta } = o.layernormBackward(t.dy, t.x, t.g, mean, rstd);
        return { y, mean, rstd, dx, dgamma, dbeta };
      },
      { atol: 1e-4, rtol: 1e-4 },
    ),
}));

const SPECIAL = [0, -0, 1e-7, -1e-7, 0.5, -0.5, 3, -3, 5.5, -5.5, 9, -9, 20, -20, 1e4, -1e4, 3e9, -3e9];
const geluCases: KernelCase[] = [1, 3, 5, 18, 4099].map((n) => ({
  kernel: 'gelu',
  name: `fwd+bwd n=${n}`,
  run: (ref: Ops, fast: Ops, rng: Rng) => {
    const x = rand(rng, n, 6);
    x.set(SPECIAL.slice(0, Math.min(n, SPECIAL.length)));
    return runOnBoth(ref, fast, { x, dy: rand(rng, n, 2) }, (o, t) => ({ y: o.gelu(t.x), dx: o.geluBackward(t.dy, t.x) }));
  },
}));

const adamwCases: KernelCase[] = [1, 3, 7, 1001].map((n) => ({
  kernel: 'adamw',
  name: `3 steps n=${n}`,
  run: (ref: Ops, fast: Ops, rng: Rng) =>
    runOnBoth(ref, fast, { p: rand(rng, n), g0: rand(rng, n), g1: rand(rng, n, 1e-3), g2: rand(rng, n, 5) }, (o, t) => {
      const m = o.zeros([n]);
      const v = o.zeros([n]);
      for (let s = 0; s < 3; s++) o.adamw(t.p, t[`g${s}`], m, v, { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: s + 1 });
      return { p: t.p, m, v };
    }, { atol: 0, rtol: 0 }), // float64 lanes in the reference's operation order: the same bits
}));

const elementwiseCases: KernelCase[] = ([[1, 1], [3, 5], [7, 33], [2, 1027]] as const).map(([m, n]) => ({
  kernel: 'elementwise',
  name: `add/mul/scale/addBias/sumRows/embedding ${m}x${n}`,
  run: (ref: Ops, fast: Ops, rng: Rng) =>
    runOnBoth(
      ref,
      fast,
      { a: mat(rand(rng, m * n), m, n), b: mat(rand(rng, m * n), m, n), bias: rand(rng, n), ids: rng.intArray(5, m) },
      (o, t) => ({
        add: o.add(t.a, t.b),
        mul: o.mul(t.a, t.b),
        scale: o.scale(t.a, 0.3),
        addBias: o.addBias(t.a, t.bias),
        sumRows: o.sumRows(t.a),
        emb: o.embedding(t.a, t.ids),
      }),
      { atol: 0, rtol: 0 }, // single f32 operations and float64 sums in the same order: the same bits
    ),
}));

// Int8-weight matmul: f32 accumulation in ascending k against the reference's float64 sum (one rounding), then the
// per-column scale. Shapes: single rows (decode GEMV), odd K (a partial last packed word), N not a multiple of the
// 8-column panel, M not a multiple of the 4-row tile, zero columns (scale 1), K = 0, M = 0.
function int8Case([m, k, n]: Shape, note = '', zeroCols = false): KernelCase {
  return {
    kernel: 'matmulInt8',
    name: `${m}x${k}x${n}${note ? ` (${note})` : ''}`,
    run: (ref, fast, rng) => {
      const w = rand(rng, k * n);
      if (zeroCols) for (let p = 0; p < k; p++) for (let c = 0; c < n; c += 3) w[p * n + c] = 0;
      const { q, scales } = quantizeInt8(w, k, n);
      const words = Math.ceil(k / 4);
      return runOnBoth(
        ref,
        fast,
        { a: mat(rand(rng, m * k), m, k), q: { data: q, shape: [n, words] }, scales },
        (o, t) => ({ c: o.matmulInt8(t.a, { q: t.q, scales: t.scales, k, n }) }),
        matTol(k),
      );
    },
  };
}

const int8Cases: KernelCase[] = [
  int8Case([1, 1, 1]),
  int8Case([1, 128, 128], 'decode'),
  int8Case([1, 128, 8003], 'decode, LM head, partial panel'),
  int8Case([1, 513, 45], 'decode, odd K'),
  int8Case([40, 128, 512], 'batched decode'),
  int8Case([7, 33, 5], 'odd'),
  int8Case([13, 129, 65], 'odd'),
  int8Case([3, 2, 9], 'K of 2'),
  int8Case([5, 3, 17], 'K of 3, partial word'),
  int8Case([41, 512, 130], 'M past the 4-row tile'),
  int8Case([9, 70, 24], 'zero columns', true),
  int8Case([4, 0, 9], 'K = 0'),
  int8Case([0, 8, 9], 'M = 0'),
];

// Sampling with top-p = 1 against the reference (float64 softmax): the same tokens (they could differ only where
// u * Z falls within float32 rounding of a cumulative boundary, which these seeded uniforms do not hit; with top-p
// < 1 also where the nucleus mass lies within rounding of topP).
function sampleCase(rows: number, vocab: number, temperature: number, topP: number, fill: Fill = 'normal'): KernelCase {
  return {
    kernel: 'sample',
    name: `${rows}x${vocab} T=${temperature} top-p=${topP}${fill === 'normal' ? '' : ` (${fill})`}`,
    run: (ref, fast, rng) => {
      const x = logits(rng, rows, vocab, fill);
      if (fill === 'normal') for (let i = 0; i < x.length; i++) x[i] *= 4;
      const u = rng.uniformArray(rows, 0, 1);
      if (rows > 2) u[0] = 0; // the first token with nonzero mass
      return runOnBoth(ref, fast, { x: mat(x, rows, vocab), u }, (o, t) => ({ tok: o.sample(t.x, t.u, { temperature, topP }) }), { atol: 0, rtol: 0 });
    },
  };
}

const sampleCases: KernelCase[] = [
  sampleCase(1, 1, 1, 1),
  sampleCase(3, 7, 1, 1),
  sampleCase(40, 8000, 1, 1),
  sampleCase(17, 1031, 0.7, 1),
  sampleCase(5, 30011, 1.3, 1),
  sampleCase(6, 515, 1, 1, 'neginf'),
  sampleCase(9, 300, 1, 0.9),
  sampleCase(40, 8000, 1, 0.9),
  sampleCase(13, 1031, 0.7, 0.5),
  sampleCase(7, 8003, 1.2, 0.999),
  sampleCase(5, 515, 1, 0.3, 'neginf'),
  sampleCase(4, 64, 1, 0.01),
];

// pick (the decoder's fused next-token choice): the same tokens as the reference, log-probabilities within f32
// exp/sum rounding. Greedy rows with ties pick the first maximum.
function pickCase(rows: number, vocab: number, temperature: number, topP: number, fill: Fill = 'normal'): KernelCase {
  return {
    kernel: 'pick',
    name: `${rows}x${vocab} ${temperature === 0 ? 'greedy' : `T=${temperature} top-p=${topP}`}${fill === 'normal' ? '' : ` (${fill})`}`,
    run: (ref, fast, rng) => {
      const x = logits(rng, rows, vocab, fill);
      if (fill === 'normal') for (let i = 0; i < x.length; i++) x[i] *= 4;
      if (temperature === 0 && vocab > 5) x[3] = x[5] = 1e3; // a tie for the maximum in row 0
      const u = rng.uniformArray(rows, 0, 1);
      return runOnBoth(ref, fast, { x: mat(x, rows, vocab), u }, (o, t) => {
        const p = pickOp(o);
        if (!p) throw new Error('no pick on this backend');
        const r = p(t.x, t.u, { temperature, topP });
        return { tok: r.tokens, logp: r.logprobs };
      }, { tok: { atol: 0, rtol: 0 }, logp: { atol: 1e-4, rtol: 1e-5 } });
    },
  };
}

const pickCases: KernelCase[] = [
  pickCase(1, 1, 0, 1),
  pickCase(40, 8000, 0, 1),
  pickCase(3, 1031, 0, 1, 'neginf'),
  pickCase(40, 8000, 1, 1),
  pickCase(17, 1031, 0.7, 1),
  pickCase(9, 3001, 1.3, 0.9),
  pickCase(5, 515, 1, 0.5, 'neginf'),
];

// attentionCached (query rows straight against per-sequence KV cache blocks): rows of different blocks, key counts
// from 1 to the whole block, skipped rows (0 keys), head sizes 32 / 5 / 1.
const cachedCases: KernelCase[] = ([[4, 32, 3, 16, 9], [2, 5, 4, 7, 13], [3, 1, 2, 5, 6], [4, 32, 40, 64, 40]] as const).map(
  ([heads, d, blocks, blockRows, rows]): KernelCase => ({
    kernel: 'attentionCached',
    name: `${rows} rows, ${heads} heads of ${d}, ${blocks} blocks of ${blockRows}`,
    run: (ref: Ops, fast: Ops, rng: Rng) => {
      const w = heads * d;
      const slots = Int32Array.from({ length: rows }, (_, r) => (r * 5 + 1) % blocks);
      const lengths = Int32Array.from({ length: rows }, (_, r) => (r === 2 ? 0 : 1 + ((r * 7) % blockRows)));
      return runOnBoth(
        ref,
        fast,
        { q: mat(rand(rng, rows * w, 2), rows, w), k: mat(rand(rng, blocks * blockRows * w, 2), blocks * blockRows, w), v: mat(rand(rng, blocks * blockRows * w), blocks * blockRows, w) },
        (o, t) => {
          const att = cachedAttention(o);
          if (!att) throw new Error('no attentionCached on this backend');
          return { out: att(t.q, t.k, t.v, { heads, blockRows, slots, lengths }) };
        },
        { atol: 2e-5, rtol: 1e-4 },
      );
    },
  }),
);

// scatterRows (the decoder's KV-cache writes): rows of src to given rows of dst, the rest of dst untouched.
const scatterCases: KernelCase[] = [[7, 5, 3], [40, 128, 40], [9, 1, 9]].map(([R, C, n]) => ({
  kernel: 'scatterRows',
  name: `${n} rows of ${C} into ${R}`,
  run: (ref: Ops, fast: Ops, rng: Rng) => {
    const rows = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % R);
    return runOnBoth(ref, fast, { dst: mat(rand(rng, R * C), R, C), src: mat(rand(rng, n * C), n, C) }, (o, t) => {
      const scatter = rowScatter(o);
      if (!scatter) throw new Error('no scatterRows on this backend');
      scatter(t.dst, rows, t.src);
      return { dst: t.dst };
    }, { atol: 0, rtol: 0 });
  },
}));

export const WASM_KERNEL_CASES: readonly KernelCase[] = [
  ...cachedCases,
  ...scatterCases,
  ...pickCases,
  ...int8Cases,
  ...sampleCases,
  ...matmulCases,
  ...logprobCases,
  ...attentionCases,
  ...layernormCases,
  ...geluCases,
  ...adamwCases,
  ...elementwiseCases,
];

/** One test per case: the candidate `fast()` against the reference `ref()` (both resolved lazily in beforeAll). */
export function wasmKernelSuite(ref: () => Ops, fast: () => Ops): void {
  const kernels = [...new Set(WASM_KERNEL_CASES.map((c) => c.kernel))];
  for (const kernel of kernels)
    describe(kernel, () => {
      WASM_KERNEL_CASES.filter((c) => c.kernel === kernel).forEach((c, i) => {
        it(c.name, async () => {
          const r = await c.run(ref(), fast(), new Rng(500 + i));
          expect(r.pass, r.detail).toBe(true);
        });
      });
    });
}

/** Raw bits of a float array (to compare results bit for bit, NaN payloads and -0 included). */
export function bitsOf(t: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number }): Uint32Array {
  return new Uint32Array(t.buffer, t.byteOffset, t.length);
}

/** Reads every tensor of a record. */
export async function readAll(ops: Ops, ts: Record<string, Tensor>): Promise<Record<string, Float32Array | Int32Array | Uint32Array>> {
  const out: Record<string, Float32Array | Int32Array | Uint32Array> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = await ops.read(t);
  return out;
}
