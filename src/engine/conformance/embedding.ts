// Embedding gather and its deterministic scatter-add backward against the cpu reference.
import type { Rng } from '../rng.ts';
import { mat, rand, runOnBoth, type ConformanceCase } from './harness.ts';

type Spec = { vocab: number; dim: number; n: number; name?: string; ids?: (rng: Rng) => Int32Array };

/** Many repeats of a few ids (the case where scatter-add order matters), mixed with random ones. */
const clustered = (n: number, vocab: number) => (rng: Rng): Int32Array => {
  const ids = rng.intArray(n, vocab);
  for (let i = 0; i < n; i += 2) ids[i] = i % 6 === 0 ? 3 % vocab : vocab - 1;
  return ids;
};

const specs: Spec[] = [
  { vocab: 1, dim: 1, n: 1 },
  { vocab: 5, dim: 3, n: 1 },
  { vocab: 50, dim: 33, n: 17 },
  { vocab: 7, dim: 16, n: 40, name: 'repeats' },
  { vocab: 1000, dim: 64, n: 300, name: 'clustered', ids: (rng) => clustered(300, 1000)(rng) },
  { vocab: 257, dim: 129, n: 513, name: 'clustered', ids: (rng) => clustered(513, 257)(rng) },
  { vocab: 30011, dim: 8, n: 64 },
];

const gatherCases = specs.map(
  ({ vocab, dim, n, name, ids }): ConformanceCase => ({
    kernel: 'embedding',
    name: `gather V=${vocab} D=${dim} N=${n}${name ? ` ${name}` : ''}`,
    run: (ref, gpu, rng: Rng) =>
      runOnBoth(
        ref,
        gpu,
        { table: mat(rand(rng, vocab * dim), vocab, dim), ids: ids ? ids(rng) : rng.intArray(n, vocab) },
        (o, t) => ({ y: o.embedding(t.table, t.ids) }),
      ),
  }),
);

const backwardCases = [...specs, { vocab: 9, dim: 5, n: 0, name: 'no tokens' }].map(
  ({ vocab, dim, n, name, ids }: Spec): ConformanceCase => ({
    kernel: 'embedding',
    name: `backward V=${vocab} D=${dim} N=${n}${name ? ` ${name}` : ''}`,
    run: (ref, gpu, rng: Rng) => {
      const idArr = ids ? ids(rng) : rng.intArray(n, vocab);
      return runOnBoth(ref, gpu, { dOut: mat(rand(rng, n * dim), n, dim) }, (o, t) => ({
        dTable: o.embeddingBackward(t.dOut, idArr, vocab),
      }));
    },
  }),
);

export const embeddingCases: ConformanceCase[] = [...gatherCases, ...backwardCases];
