// Top-k (src/retrieval/topk.ts): the candidate backend's top-k (the WGSL kernel on webgpu) against the host
// reference src/retrieval/topk-cpu.ts. Indices must match exactly and values bit for bit (ties go to the lower
// index; -0 ties +0; NaN ranks last). The "k > n" case passes when both sides refuse.
import type { Rng } from '../rng.ts';
import type { Ops } from '../types.ts';
import { topkToHost } from '../../retrieval/topk.ts';
import { topkCpu } from '../../retrieval/topk-cpu.ts';
import { type CaseResult, compareArrays, type ConformanceCase, mergeResults } from './harness.ts';

type Fill = 'normal' | 'ties' | 'special';

function fill(rng: Rng, rows: number, n: number, how: Fill): Float32Array {
  if (how === 'normal') return rng.normalArray(rows * n, 1);
  const x = new Float32Array(rows * n);
  if (how === 'ties') {
    for (let i = 0; i < x.length; i++) x[i] = rng.int(3); // few distinct values: ties everywhere, at every rank
    return x;
  }
  const special = [0, -0, Infinity, -Infinity, NaN, 1, -1, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45];
  for (let i = 0; i < x.length; i++) x[i] = special[rng.int(special.length)];
  return x;
}

async function compare(ref: Ops, cand: Ops, x: Float32Array, rows: number, n: number, k: number): Promise<CaseResult> {
  void ref; // the oracle is the host reference itself
  const want = topkCpu(x, rows, n, k);
  const t = cand.tensor(x, [rows, n]);
  try {
    const got = await topkToHost(cand, t, k);
    const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
    return mergeResults([
      compareArrays('indices', got.indices, want.indices, { atol: 0, rtol: 0 }),
      compareArrays('value bits', bits(got.values), bits(want.values), { atol: 0, rtol: 0 }),
    ]);
  } finally {
    cand.dispose(t);
  }
}

const shapes: [rows: number, n: number, k: number, how: Fill][] = [
  [3, 1, 1, 'normal'],
  [7, 33, 5, 'normal'],
  [5, 1001, 16, 'normal'],
  [2, 16, 16, 'normal'],
  [100, 50, 3, 'normal'],
  [3, 30011, 3, 'normal'],
  [2, 30011, 16, 'normal'],
  [8, 257, 16, 'ties'],
  [4, 30011, 3, 'ties'],
  [6, 40, 16, 'special'],
];

export const topkCases: ConformanceCase[] = [
  ...shapes.map(
    ([rows, n, k, how]): ConformanceCase => ({
      kernel: 'topk',
      name: `${rows}x${n} k=${k}${how === 'normal' ? '' : ` ${how}`}`,
      run: (ref, cand, rng) => compare(ref, cand, fill(rng, rows, n, how), rows, n, k),
    }),
  ),
  {
    kernel: 'topk',
    name: 'k > n is refused',
    run: async (_ref, cand, rng): Promise<CaseResult> => {
      const x = fill(rng, 2, 5, 'normal');
      const refusal = async (f: () => Promise<unknown>): Promise<string | null> => {
        try {
          await f();
          return null;
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      };
      const want = await refusal(async () => topkCpu(x, 2, 5, 6));
      const t = cand.tensor(x, [2, 5]);
      const got = await refusal(() => topkToHost(cand, t, 6));
      cand.dispose(t);
      const pass = want !== null && got !== null && /k = 6 is larger than the row length n = 5/.test(got);
      return { pass, maxAbsErr: 0, elements: 1, detail: `reference: ${want ?? 'accepted'}; candidate: ${got ?? 'accepted'}` };
    },
  },
];
