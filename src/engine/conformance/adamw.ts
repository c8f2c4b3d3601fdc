// AdamW (in place on param, m, v) against the cpu reference over several consecutive steps.
import type { Rng } from '../rng.ts';
import type { AdamWOptions } from '../types.ts';
import { rand, runOnBoth, type ConformanceCase } from './harness.ts';

type Spec = { n: number; steps: number; opts: Omit<AdamWOptions, 'step'>; firstStep?: number };

const base = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
const specs: Spec[] = [
  { n: 1, steps: 1, opts: base },
  { n: 1000, steps: 3, opts: base },
  { n: 70_001, steps: 2, opts: { ...base, weightDecay: 0 } },
  { n: 4097, steps: 2, opts: { lr: 3e-2, beta1: 0.5, beta2: 0.9, eps: 1e-6, weightDecay: 0.1 }, firstStep: 1000 },
];

export const adamwCases: ConformanceCase[] = specs.map(
  ({ n, steps, opts, firstStep = 1 }): ConformanceCase => ({
    kernel: 'adamw',
    name: `adamw n=${n} steps ${firstStep}..${firstStep + steps - 1} wd=${opts.weightDecay}`,
    run: (ref, gpu, rng: Rng) => {
      const inputs: Record<string, Float32Array> = {
        p: rand(rng, n),
        m: firstStep > 1 ? rand(rng, n, 0.1) : new Float32Array(n),
        v: firstStep > 1 ? rng.uniformArray(n, 0, 0.01) : new Float32Array(n),
      };
      for (let s = 0; s < steps; s++) inputs[`g${s}`] = rand(rng, n, s === 1 ? 1e-3 : 1);
      return runOnBoth(ref, gpu, inputs, (o, t) => {
        for (let s = 0; s < steps; s++) o.adamw(t.p, t[`g${s}`], t.m, t.v, { ...opts, step: firstStep + s });
        return { p: t.p, m: t.m, v: t.v };
      });
    },
  }),
);
