// sum and sumRows against the cpu reference (float64 accumulation) on sizes from one element to multi-pass.
import type { Rng } from '../rng.ts';
import { mat, rand, runOnBoth, type ConformanceCase, type Tolerance } from './harness.ts';

/** f32 tree sums of n values of magnitude <= 1. */
const tolFor = (n: number): Tolerance => ({ rtol: 1e-4, atol: 1e-4 * Math.max(1, Math.sqrt(n) / 16) });

const sumSizes = [1, 2, 7, 256, 257, 4096, 4097, 100_003, 300_001];
const sumCases: ConformanceCase[] = [
  ...sumSizes.map(
    (n): ConformanceCase => ({
      kernel: 'reduce',
      name: `sum ${n}`,
      run: (ref, gpu, rng: Rng) => runOnBoth(ref, gpu, { x: rand(rng, n) }, (o, t) => ({ s: o.sum(t.x) }), tolFor(n)),
    }),
  ),
  {
    kernel: 'reduce',
    name: 'sum 100003 positive (no cancellation)',
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { x: rng.uniformArray(100_003, 0, 1) }, (o, t) => ({ s: o.sum(t.x) }), tolFor(100_003)),
  },
  {
    kernel: 'reduce',
    name: 'sum 2-D 37x29',
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { x: mat(rand(rng, 37 * 29), 37, 29) }, (o, t) => ({ s: o.sum(t.x) }), tolFor(37 * 29)),
  },
];

const rowShapes: [number, number][] = [
  [1, 1],
  [1, 7],
  [1, 300],
  [7, 1],
  [17, 33],
  [256, 64],
  [257, 65],
  [1000, 37], // 4 row chunks: two passes
  [70_000, 3], // three passes
  [3, 30011],
];
const sumRowsCases: ConformanceCase[] = rowShapes.map(
  ([m, n]): ConformanceCase => ({
    kernel: 'reduce',
    name: `sumRows ${m}x${n}`,
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { x: mat(rand(rng, m * n), m, n) }, (o, t) => ({ s: o.sumRows(t.x) }), tolFor(m)),
  }),
);

export const reduceCases: ConformanceCase[] = [...sumCases, ...sumRowsCases];
