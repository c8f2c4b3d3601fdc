// logprob (fused log-softmax + gather), its in-place backward and the unfused anchor, against the cpu reference.
import type { Rng } from '../rng.ts';
import { mat, runOnBoth, type ConformanceCase, type Tolerance } from './harness.ts';

type Fill = 'normal' | 'huge' | 'masked';

/** Logits of one kind: N(0, 2); uniform +-1e4; or N(0, 2) with about 1/5 of the entries at -1e30 or -3e38. */
function logits(rng: Rng, rows: number, vocab: number, fill: Fill): Float32Array {
  if (fill === 'huge') return rng.uniformArray(rows * vocab, -1e4, 1e4);
  const x = rng.normalArray(rows * vocab, 2);
  if (fill === 'masked')
    for (let i = 0; i < x.length; i++) {
      const u = rng.next();
      if (u < 0.1) x[i] = -1e30;
      else if (u < 0.2) x[i] = -3e38;
    }
  return x;
}

/** Host log-sum-exp per row in float64, rounded to f32 (fed to both backends in the large-magnitude cases). */
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

// logp values reach -2e4 in the large-magnitude cases: tolerance relative to the data's scale.
const TOL: Record<Fill, Tolerance> = {
  normal: { atol: 1e-4, rtol: 1e-5 },
  huge: { atol: 1e-4, rtol: 1e-6 },
  masked: { atol: 1e-4, rtol: 1e-5 },
};
// Gradient entries are ~1/vocab: a tight absolute tolerance keeps the comparison meaningful at 30k columns.
const GRAD_TOL: Tolerance = { atol: 2e-7, rtol: 1e-4 };

const shapes: [number, number, Fill][] = [
  [1, 1, 'normal'],
  [1, 7, 'normal'],
  [3, 7, 'normal'],
  [5, 1000, 'normal'],
  [2, 30011, 'normal'],
  [4, 1000, 'huge'],
  [3, 30011, 'huge'],
  [4, 1000, 'masked'],
  [2, 30011, 'masked'],
];

export const logprobCases: ConformanceCase[] = shapes.flatMap(([rows, vocab, fill]): ConformanceCase[] => [
  {
    kernel: 'logprob',
    name: `fused + unfused ${rows}x${vocab} ${fill}`,
    run: (ref, gpu, rng) => {
      const x = logits(rng, rows, vocab, fill);
      const targets = rng.intArray(rows, vocab);
      // Make one target a masked (-1e30 / -3e38) entry when there is one.
      if (fill === 'masked') for (let c = 0; c < vocab; c++) if (x[c] < -1e29) targets[0] = c;
      const tol = TOL[fill];
      return runOnBoth(
        ref,
        gpu,
        { logits: mat(x, rows, vocab), targets },
        (o, t) => {
          const { logp, lse } = o.logprob(t.logits, t.targets);
          return { logp, lse, unfused: o.logprobUnfused(t.logits, t.targets) };
        },
        { logp: tol, lse: tol, unfused: tol },
      );
    },
  },
  {
    kernel: 'logprob',
    name: `backward ${rows}x${vocab} ${fill}`,
    run: (ref, gpu, rng) => {
      const x = logits(rng, rows, vocab, fill);
      const targets = rng.intArray(rows, vocab);
      const weight = rng.uniformArray(rows, -2, 2);
      // Normal data: chain each backend's own lse. Large magnitudes: one ulp of lse (1e-3 at 1e4) would move
      // exp(x - lse) by 1e-3 relative, so both backends get the same host lse.
      const chain = fill === 'normal';
      return runOnBoth(
        ref,
        gpu,
        { logits: mat(x, rows, vocab), targets, weight, lse: hostLse(x, rows, vocab) },
        (o, t) => {
          const lse = chain ? o.logprob(t.logits, t.targets).lse : t.lse;
          return { grad: o.logprobBackward(t.logits, t.targets, lse, t.weight), lse };
        },
        { grad: GRAD_TOL, lse: TOL[fill] },
      );
    },
  },
]);
