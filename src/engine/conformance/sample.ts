// Nucleus sampling against the cpu reference: token ids must match exactly. Uniforms are plain random draws
// (plus the extremes 0 and 1 - 2^-24), not nudged away from bucket boundaries; a case reports how many rows differ
// and passes only with zero mismatches.
import type { Rng } from '../rng.ts';
import type { SampleOptions } from '../types.ts';
import type { CaseResult, ConformanceCase } from './harness.ts';

type Fill = 'normal' | 'ties';

function logits(rng: Rng, rows: number, vocab: number, fill: Fill): Float32Array {
  if (fill === 'normal') return rng.normalArray(rows * vocab, 2);
  // Small integers: many exact ties, including at the nucleus threshold.
  const x = new Float32Array(rows * vocab);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(4);
  return x;
}

function uniforms(rng: Rng, rows: number): Float32Array {
  const u = new Float32Array(rows);
  for (let r = 0; r < rows; r++) u[r] = rng.nextF32();
  if (rows >= 4) {
    u[0] = 0;
    u[1] = 1 - 2 ** -24;
  }
  return u;
}

const configs: [number, number, SampleOptions, Fill][] = [];
for (const [vocab, rows] of [[5, 32], [5003, 8]] as const)
  for (const temperature of [0.7, 1, 1.5])
    for (const topP of [0.9, 1]) configs.push([vocab, rows, { temperature, topP }, 'normal']);
configs.push([5, 32, { temperature: 1, topP: 0.6 }, 'ties'], [5003, 8, { temperature: 0.7, topP: 0.9 }, 'ties']);
configs.push([5003, 8, { temperature: 1, topP: 0.5 }, 'normal'], [1, 4, { temperature: 1, topP: 0.9 }, 'normal']);

export const sampleCases: ConformanceCase[] = configs.map(
  ([vocab, rows, opts, fill]): ConformanceCase => ({
    kernel: 'sample',
    name: `${rows}x${vocab} T=${opts.temperature} topP=${opts.topP}${fill === 'ties' ? ' ties' : ''}`,
    run: async (ref, gpu, rng): Promise<CaseResult> => {
      const x = logits(rng, rows, vocab, fill);
      const u = uniforms(rng, rows);
      const exec = async (ops: typeof ref): Promise<Int32Array> => {
        const lt = ops.tensor(x, [rows, vocab]);
        const ut = ops.tensor(u, [rows]);
        const ids = ops.sample(lt, ut, opts);
        const res = await ops.readI32(ids);
        for (const t of [lt, ut, ids]) ops.dispose(t);
        return res;
      };
      const want = await exec(ref);
      const got = await exec(gpu);
      const bad: number[] = [];
      for (let r = 0; r < rows; r++) if (got[r] !== want[r]) bad.push(r);
      const detail =
        bad.length === 0
          ? `ids: ${rows} rows match`
          : `ids: ${bad.length}/${rows} rows differ; first row ${bad[0]}: got ${got[bad[0]]}, want ${want[bad[0]]} (u = ${u[bad[0]]})`;
      return { pass: bad.length === 0, maxAbsErr: bad.length, elements: rows, detail };
    },
  }),
);
