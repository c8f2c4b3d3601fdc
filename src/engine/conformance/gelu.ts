// GELU (tanh approximation) forward and backward against the cpu reference, including |x| up to 20 and beyond
// (where a naive tanh overflows) and the cancellation-prone negative tail.
import type { Rng } from '../rng.ts';
import { mat, rand, runOnBoth, type ConformanceCase } from './harness.ts';

const SPECIAL = [0, 1e-6, -1e-6, 0.5, -0.5, 1, -1, 3, -3, 5, -5, 8, -8, 10, -10, 15, -15, 20, -20, 1e4, -1e4];

function inputs(rng: Rng, r: number, c: number, range: number): Float32Array {
  const x = rand(rng, r * c, range);
  if (r * c >= SPECIAL.length) x.set(SPECIAL);
  return x;
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 7, 4],
  [7, 33, 20],
  [64, 256, 6],
  [5, 20001, 20],
];

export const geluCases: ConformanceCase[] = shapes.flatMap(([r, c, range]): ConformanceCase[] => [
  {
    kernel: 'gelu',
    name: `forward ${r}x${c} |x| <= ${range}`,
    run: (ref, gpu, rng) => runOnBoth(ref, gpu, { x: mat(inputs(rng, r, c, range), r, c) }, (o, t) => ({ y: o.gelu(t.x) })),
  },
  {
    kernel: 'gelu',
    name: `backward ${r}x${c} |x| <= ${range}`,
    run: (ref, gpu, rng) =>
      runOnBoth(ref, gpu, { x: mat(inputs(rng, r, c, range), r, c), dy: mat(rand(rng, r * c, 2), r, c) }, (o, t) => ({
        dx: o.geluBackward(t.dy, t.x),
      })),
  },
]);
