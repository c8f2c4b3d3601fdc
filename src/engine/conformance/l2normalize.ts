// Row-wise L2 normalization forward (y, norm) and backward (dx) against the cpu reference: embedding-sized rows,
// odd widths, a single column, and rows clamped by eps (zero rows, and tiny rows with a large eps).
import type { Rng } from '../rng.ts';
import { mat, rand, runOnBoth, type ConformanceCase } from './harness.ts';

type Fill = 'uniform' | 'clamped';

/** `clamped`: row 0 all zeros, odd rows scaled to norms far below eps = 1 (the others far above). */
function fill(rng: Rng, m: number, n: number, how: Fill): Float32Array {
  const x = rand(rng, m * n);
  if (how === 'clamped')
    for (let i = 0; i < m; i++) {
      const k = i === 0 ? 0 : i % 2 === 1 ? 1e-3 : 4;
      for (let j = 0; j < n; j++) x[i * n + j] *= k;
    }
  return x;
}

// [rows, n, eps, fill]
const shapes: [number, number, number, Fill][] = [
  [1, 1, 1e-12, 'uniform'],
  [3, 1, 1e-12, 'uniform'],
  [5, 7, 1e-12, 'uniform'],
  [16, 384, 1e-12, 'uniform'],
  [9, 257, 1e-12, 'uniform'],
  [2, 1001, 1e-12, 'uniform'],
  [6, 33, 1, 'clamped'],
];

export const l2normalizeCases: ConformanceCase[] = shapes.map(
  ([m, n, eps, how]): ConformanceCase => ({
    kernel: 'l2normalize',
    name: `fwd+bwd ${m}x${n} eps ${eps}${how === 'clamped' ? ' clamped rows' : ''}`,
    run: (ref, gpu, rng) =>
      runOnBoth(
        ref,
        gpu,
        { x: mat(fill(rng, m, n, how), m, n), dy: mat(rand(rng, m * n), m, n) },
        (o, t) => {
          const { y, norm } = o.l2normalize(t.x, eps);
          const dx = o.l2normalizeBackward(t.dy, y, norm, eps);
          return { y, norm, dx };
        },
        { atol: 1e-5, rtol: 1e-4 },
      ),
  }),
);
