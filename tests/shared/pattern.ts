import { Rng } from '../../src/engine/rng.ts';

/** Sequences of a fixed pattern (each token determines the next), so a model can learn them quickly. */
export function patternBatch(batch: number, t: number, vocab: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const ids = new Int32Array(batch * t);
  for (let b = 0; b < batch; b++) {
    let x = rng.int(vocab);
    for (let i = 0; i < t; i++) {
      ids[b * t + i] = x;
      x = (x * 5 + 3) % vocab;
    }
  }
  return ids;
}

