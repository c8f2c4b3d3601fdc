// Finite-difference gradient checks for any Ops implementation (CPU reference today, WebGPU later).
// For a case with differentiable f32 inputs x and output y = f(x), the loss is L = sum(R * y) with a fixed random
// R. The analytic gradient comes from the case's backward (given dOut = R); the numeric one from central
// differences on float32-perturbed inputs with L evaluated in float64 on the host.
import { Rng } from '../../src/engine/rng.ts';
import type { AttentionSpec, MatmulOptions, Ops, Tensor } from '../../src/engine/types.ts';

export interface GradInput {
  name: string;
  data: Float32Array;
  shape: number[];
}

export interface GradCase {
  name: string;
  inputs: GradInput[];
  /** y = f(xs). Must dispose its own intermediates; the returned tensor is disposed by the checker. */
  forward(ops: Ops, xs: Tensor[]): Tensor;
  /** dL/dx for every input, given dOut = dL/dy. The checker disposes the returned tensors. */
  backward(ops: Ops, xs: Tensor[], dOut: Tensor): Tensor[];
}

export interface GradResult {
  name: string;
  /** max |numeric - analytic| / max |analytic| over the checked points. */
  relErr: number;
  maxAbsErr: number;
  maxAbsGrad: number;
  points: number;
}

export interface GradCheckOptions {
  /** Perturbation size (default 1e-2). */
  eps?: number;
  /** At most this many elements per input are checked, chosen at random (default all). */
  maxPoints?: number;
  seed?: number;
}

async function loss(ops: Ops, c: GradCase, xs: Tensor[], r: Float32Array): Promise<number> {
  const y = c.forward(ops, xs);
  const yv = await ops.readF32(y);
  ops.dispose(y);
  let s = 0;
  for (let i = 0; i < yv.length; i++) s += r[i] * yv[i];
  return s;
}

function pickPoints(n: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, max).sort((a, b) => a - b);
}

/** Runs one case; returns one result per input, named `case/input`. */
export async function gradCheck(ops: Ops, c: GradCase, opts: GradCheckOptions = {}): Promise<GradResult[]> {
  const eps = opts.eps ?? 1e-2;
  const rng = new Rng(opts.seed ?? 1234);
  const xs = c.inputs.map((x) => ops.tensor(x.data, x.shape));
  try {
    const y0 = c.forward(ops, xs);
    const r = rng.uniformArray(y0.size);
    const dOut = ops.tensor(r, y0.shape);
    ops.dispose(y0);
    const grads = c.backward(ops, xs, dOut);
    const analytic = await Promise.all(grads.map((g) => ops.readF32(g)));
    for (const g of [dOut, ...grads]) ops.dispose(g);

    const results: GradResult[] = [];
    for (let k = 0; k < xs.length; k++) {
      const base = c.inputs[k].data;
      const work = base.slice();
      let maxAbsErr = 0;
      let maxAbsGrad = 0;
      const points = pickPoints(base.length, opts.maxPoints ?? Infinity, rng);
      for (const i of points) {
        const hi = (work[i] = Math.fround(base[i] + eps));
        ops.write(xs[k], work);
        const lp = await loss(ops, c, xs, r);
        const lo = (work[i] = Math.fround(base[i] - eps));
        ops.write(xs[k], work);
        const lm = await loss(ops, c, xs, r);
        work[i] = base[i];
        const numeric = (lp - lm) / (hi - lo);
        maxAbsErr = Math.max(maxAbsErr, Math.abs(numeric - analytic[k][i]));
        maxAbsGrad = Math.max(maxAbsGrad, Math.abs(analytic[k][i]));
      }
      ops.write(xs[k], base);
      const relErr = maxAbsErr / Math.max(maxAbsGrad, 1e-6);
      results.push({ name: `${c.name}/${c.inputs[k].name}`, relErr, maxAbsErr, maxAbsGrad, points: points.length });
    }
    return results;
  } finally {
    for (const x of xs) ops.dispose(x);
  }
}

// ---- the standard cases: one per backward op ------------------------------------------------------------

const copyOf = (ops: Ops, t: Tensor): Tensor => ops.scale(t, 1);

function input(rng: Rng, name: string, shape: number[], lo = -1, hi = 1): GradInput {
  return { name, shape, data: rng.uniformArray(shape.reduce((a, b) => a * b, 1), lo, hi) };
}

function matmulCase(rng: Rng, opts: MatmulOptions): GradCase {
  const [m, k, n] = [3, 4, 5];
  const a = input(rng, 'a', opts.transA ? [k, m] : [m, k]);
  const b = input(rng, 'b', opts.transB ? [n, k] : [k, n]);
  const tag = `${opts.transA ? 'aT' : 'a'}x${opts.transB ? 'bT' : 'b'}`;
  return {
    name: `matmul ${tag}`,
    inputs: [a, b],
    forward: (ops, [x, y]) => ops.matmul(x, y, opts),
    backward(ops, [x, y], d) {
      const { transA: ta = false, transB: tb = false } = opts;
      if (!ta && !tb) return [ops.matmul(d, y, { transB: true }), ops.matmul(x, d, { transA: true })];
      if (ta && !tb) return [ops.matmul(y, d, { transB: true }), ops.matmul(x, d)];
      if (!ta && tb) return [ops.matmul(d, y), ops.matmul(d, x, { transA: true })];
      return [ops.matmul(y, d, { transA: true, transB: true }), ops.matmul(d, x, { transA: true, transB: true })];
    },
  };
}

function attentionCase(rng: Rng, spec: AttentionSpec, headDim: number): GradCase {
  const w = spec.heads * headDim;
  const mask = `${spec.causal === false ? ' bidir' : ''}${spec.keyLengths ? ` lens${Array.from(spec.keyLengths).join(',')}` : ''}`;
  return {
    name: `attention b${spec.batch} h${spec.heads} tq${spec.tq} tk${spec.tk} d${headDim}${spec.scale ? ` scale${spec.scale}` : ''}${mask}`,
    inputs: [input(rng, 'q', [spec.batch * spec.tq, w], -2, 2), input(rng, 'k', [spec.batch * spec.tk, w], -2, 2), input(rng, 'v', [spec.batch * spec.tk, w])],
    forward(ops, [q, k, v]) {
      const { out, lse } = ops.attention(q, k, v, spec);
      ops.dispose(lse);
      return out;
    },
    backward(ops, [q, k, v], d) {
      const { out, lse } = ops.attention(q, k, v, spec);
      const { dq, dk, dv } = ops.attentionBackward(d, q, k, v, out, lse, spec);
      ops.dispose(out);
      ops.dispose(lse);
      return [dq, dk, dv];
    },
  };
}

export function standardGradCases(seed = 7): GradCase[] {
  const rng = new Rng(seed);
  const ids = Int32Array.of(0, 3, 3, 5, 1, 3);
  const targets = Int32Array.of(2, 0, 6, 2);
  const cases: GradCase[] = [
    matmulCase(rng, {}),
    matmulCase(rng, { transA: true }),
    matmulCase(rng, { transB: true }),
    matmulCase(rng, { transA: true, transB: true }),
    {
      name: 'add',
      inputs: [input(rng, 'a', [3, 4]), input(rng, 'b', [3, 4])],
      forward: (ops, [a, b]) => ops.add(a, b),
      backward: (ops, _xs, d) => [copyOf(ops, d), copyOf(ops, d)],
    },
    {
      name: 'mul',
      inputs: [input(rng, 'a', [3, 4]), input(rng, 'b', [3, 4])],
      forward: (ops, [a, b]) => ops.mul(a, b),
      backward: (ops, [a, b], d) => [ops.mul(d, b), ops.mul(d, a)],
    },
    {
      name: 'scale',
      inputs: [input(rng, 'x', [2, 5])],
      forward: (ops, [x]) => ops.scale(x, -0.75),
      backward: (ops, _xs, d) => [ops.scale(d, -0.75)],
    },
    {
      name: 'addBias',
      inputs: [input(rng, 'x', [3, 4]), input(rng, 'bias', [4])],
      forward: (ops, [x, b]) => ops.addBias(x, b),
      backward: (ops, _xs, d) => [copyOf(ops, d), ops.sumRows(d)],
    },
    {
      name: 'sumRows',
      inputs: [input(rng, 'x', [3, 4])],
      forward: (ops, [x]) => ops.sumRows(x),
      backward(ops, _xs, d) {
        const z = ops.zeros([3, 4]);
        const dx = ops.addBias(z, d);
        ops.dispose(z);
        return [dx];
      },
    },
    {
      name: 'embedding',
      inputs: [input(rng, 'table', [6, 4])],
      forward(ops, [table]) {
        const t = ops.tensor(ids, [ids.length]);
        const y = ops.embedding(table, t);
        ops.dispose(t);
        return y;
      },
      backward: (ops, _xs, d) => [ops.embeddingBackward(d, ids, 6)],
    },
    {
      name: 'layernorm',
      inputs: [input(rng, 'x', [3, 5], -2, 2), input(rng, 'gamma', [5], 0.5, 1.5), input(rng, 'beta', [5])],
      forward(ops, [x, g, b]) {
        const { y, mean, rstd } = ops.layernorm(x, g, b, 1e-5);
        ops.dispose(mean);
        ops.dispose(rstd);
        return y;
      },
      backward(ops, [x, g, b], d) {
        const { y, mean, rstd } = ops.layernorm(x, g, b, 1e-5);
        const { dx, dgamma, dbeta } = ops.layernormBackward(d, x, g, mean, rstd);
        for (const t of [y, mean, rstd]) ops.dispose(t);
        return [dx, dgamma, dbeta];
      },
    },
    {
      name: 'gelu',
      inputs: [input(rng, 'x', [3, 5], -3, 3)],
      forward: (ops, [x]) => ops.gelu(x),
      backward: (ops, [x], d) => [ops.geluBackward(d, x)],
    },
    attentionCase(rng, { batch: 2, heads: 2, tq: 4, tk: 4 }, 3),
    attentionCase(rng, { batch: 2, heads: 2, tq: 2, tk: 5 }, 3),
    attentionCase(rng, { batch: 1, heads: 3, tq: 1, tk: 4 }, 4),
    attentionCase(rng, { batch: 2, heads: 1, tq: 3, tk: 3, scale: 0.8 }, 5),
    attentionCase(rng, { batch: 2, heads: 2, tq: 4, tk: 4, causal: false }, 3),
    attentionCase(rng, { batch: 3, heads: 2, tq: 5, tk: 5, causal: false, keyLengths: Int32Array.of(1, 5, 3) }, 3),
    attentionCase(rng, { batch: 2, heads: 1, tq: 2, tk: 5, causal: false, keyLengths: Int32Array.of(3, 5), scale: 0.9 }, 5),
    attentionCase(rng, { batch: 3, heads: 2, tq: 4, tk: 4, keyLengths: Int32Array.of(1, 4, 2) }, 3),
    {
      name: 'l2normalize',
      inputs: [input(rng, 'x', [3, 5], -2, 2)],
      forward(ops, [x]) {
        const { y, norm } = ops.l2normalize(x, 1e-12);
        ops.dispose(norm);
        return y;
      },
      backward(ops, [x], d) {
        const { y, norm } = ops.l2normalize(x, 1e-12);
        const dx = ops.l2normalizeBackward(d, y, norm, 1e-12);
        ops.dispose(y);
        ops.dispose(norm);
        return [dx];
      },
    },
    {
      // eps = 1: rows 0 and 2 (norms ~0.1) are clamped (y = x / eps), row 1 (norm ~4) is not.
      name: 'l2normalize clamped rows',
      inputs: [{ name: 'x', shape: [3, 4], data: rng.uniformArray(12, -1, 1).map((v, i) => (i >= 4 && i < 8 ? 2 + v : 0.05 * v)) }],
      forward(ops, [x]) {
        const { y, norm } = ops.l2normalize(x, 1);
        ops.dispose(norm);
        return y;
      },
      backward(ops, [x], d) {
        const { y, norm } = ops.l2normalize(x, 1);
        const dx = ops.l2normalizeBackward(d, y, norm, 1);
        ops.dispose(y);
        ops.dispose(norm);
        return [dx];
      },
    },
    {
      // logprobBackward writes (softmax - onehot) * weight = d(-sum(weight * logp))/dlogits, so weight = -R.
      name: 'logprob',
      inputs: [input(rng, 'logits', [4, 7], -3, 3)],
      forward(ops, [x]) {
        const t = ops.tensor(targets, [4]);
        const { logp, lse } = ops.logprob(x, t);
        ops.dispose(t);
        ops.dispose(lse);
        return logp;
      },
      backward(ops, [x], d) {
        const t = ops.tensor(targets, [4]);
        const { logp, lse } = ops.logprob(x, t);
        const w = ops.scale(d, -1);
        const g = ops.logprobBackward(copyOf(ops, x), t, lse, w);
        for (const u of [t, logp, lse, w]) ops.dispose(u);
        return [g];
      },
    },
  ];
  return cases;
}
