import { Rng } from '../rng.ts';
import { mat, rand, runOnBoth, type ConformanceCase } from './harness.ts';

const shapes: [number, number][] = [[1, 1], [3, 7], [17, 33], [64, 256], [5, 70001]];

export const elementwiseCases: ConformanceCase[] = shapes.flatMap(([r, c]): ConformanceCase[] => [
  {
    kernel: 'elementwise',
    name: `add/mul/scale ${r}x${c}`,
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { a: rand(rng, r * c), b: rand(rng, r * c) }, (o, t) => ({
        add: o.add(t.a, t.b),
        mul: o.mul(t.a, t.b),
        scale: o.scale(t.a, -1.75),
      })),
  },
  {
    kernel: 'elementwise',
    name: `addBias ${r}x${c}`,
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { x: mat(rand(rng, r * c), r, c), b: rand(rng, c) }, (o, t) => ({ y: o.addBias(t.x, t.b) })),
  },
  {
    kernel: 'elementwise',
    name: `copyRows ${r}x${c}`,
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(ref, gpu, { dst: mat(rand(rng, (r + 2) * c), r + 2, c), src: mat(rand(rng, r * c), r, c) }, (o, t) => {
        o.copyRows(t.dst, 1, t.src);
        return { dst: t.dst };
      }),
  },
]);
