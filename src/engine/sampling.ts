// Sampling driven by a seeded generator: the host draws one uniform per row, the backend's sample kernel does
// the rest, so the same seed gives the same tokens on the same backend.
import type { Rng } from './rng.ts';
import type { Ops, SampleOptions, Tensor } from './types.ts';

/** Samples one token per row of logits [rows, vocab]; returns the ids (read back: tokens are host data). */
export async function sampleTokens(ops: Ops, logits: Tensor, rng: Rng, opts: SampleOptions): Promise<Int32Array> {
  const rows = logits.shape[0];
  const u = new Float32Array(rows);
  for (let i = 0; i < rows; i++) u[i] = rng.nextF32();
  const ut = ops.tensor(u, [rows]);
  const ids = ops.sample(logits, ut, opts);
  try {
    return await ops.readI32(ids);
  } finally {
    ops.dispose(ut);
    ops.dispose(ids);
  }
}
