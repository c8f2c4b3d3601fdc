// layernorm forward (y, mean, rstd) and backward (dx, dgamma, dbeta) against the cpu reference.
import { mat, rand, runOnBoth, type ConformanceCase } from './harness.ts';

// [rows, n, offset]: offset is added to x to check the two-pass variance on rows with a large mean.
const shapes: [number, number, number][] = [
  [1, 1, 0],
  [3, 1, 0],
  [5, 7, 0],
  [4, 33, 3],
  [8, 768, 0],
  [3, 768, 100],
  [2, 1001, 0],
];

export const layernormCases: ConformanceCase[] = shapes.flatMap(([m, n, offset]): ConformanceCase[] => [
  {
    kernel: 'layernorm',
    name: `forward ${m}x${n}${offset ? ` mean ${offset}` : ''}`,
    run: (ref, gpu, rng) => {
      const x = rand(rng, m * n).map((v) => v + offset);
      return runOnBoth(
        ref,
        gpu,
        { x: mat(x, m, n), gamma: rng.uniformArray(n, 0.5, 1.5), beta: rand(rng, n, 0.5) },
        (o, t) => o.layernorm(t.x, t.gamma, t.beta, 1e-5),
        // rstd reaches 1/sqrt(eps) ~ 316 when n = 1; the large-mean rows lose ~|mean| * 2^-24 in x itself.
        offset >= 100 ? { atol: 1e-3, rtol: 1e-4 } : { atol: 1e-4, rtol: 1e-4 },
      );
    },
  },
  {
    kernel: 'layernorm',
    name: `backward ${m}x${n}${offset ? ` mean ${offset}` : ''}`,
    run: (ref, gpu, rng) => {
      const x = rand(rng, m * n).map((v) => v + offset);
      return runOnBoth(
        ref,
        gpu,
        {
          x: mat(x, m, n),
          dy: mat(rand(rng, m * n), m, n),
          gamma: rng.uniformArray(n, 0.5, 1.5),
          beta: rand(rng, n, 0.5),
        },
        (o, t) => {
          const { mean, rstd } = o.layernorm(t.x, t.gamma, t.beta, 1e-5);
          const g = o.layernormBackward(t.dy, t.x, t.gamma, mean, rstd);
          return { dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta, mean, rstd };
        },
        offset >= 100 ? { atol: 1e-3, rtol: 1e-4 } : { atol: 1e-4, rtol: 1e-4 },
      );
    },
  },
]);
