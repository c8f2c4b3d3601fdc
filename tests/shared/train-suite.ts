// A 1-layer transformer trained for a few steps must lower its loss: exercises every forward and backward op,
// the tape and AdamW together, on whichever backend the caller names.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import { AdamW } from '../../src/engine/optim.ts';
import { Tape } from '../../src/engine/tape.ts';
import type { BackendKind, Ops } from '../../src/engine/types.ts';
import { lmLoss, Transformer, type TransformerConfig } from '../../src/model/transformer.ts';
import { patternBatch } from './pattern.ts';

export const TRAIN_CONFIG: TransformerConfig = { vocab: 32, dim: 32, heads: 2, layers: 1, context: 16, mlpRatio: 2 };

/** Trains `steps` AdamW steps; returns the loss before each step and the final parameters. */
export async function trainTiny(ops: Ops, steps: number, seed = 7): Promise<{ losses: number[]; params: Float32Array[] }> {
  const model = new Transformer(ops, TRAIN_CONFIG, seed);
  const opt = new AdamW(ops, model.params, { lr: 1e-2 });
  const losses: number[] = [];
  const batch = 4;
  const t = 12;
  for (let s = 0; s < steps; s++) {
    const ids = patternBatch(batch, t, TRAIN_CONFIG.vocab, seed * 1000 + s);
    const tape = new Tape(ops);
    const loss = lmLoss(model, tape, ids, batch, t);
    losses.push((await ops.readF32(loss.value))[0]);
    tape.backward(loss);
    tape.dispose();
    opt.update();
  }
  const params = await Promise.all(model.params.map((p) => ops.readF32(p.value)));
  opt.dispose();
  model.dispose();
  return { losses, params };
}

export function trainSuite(kinds: BackendKind[], where: string): void {
  describe(`a 1-layer transformer learns (${where})`, () => {
    for (const kind of kinds) {
      it(`lowers its loss in a few steps on ${kind}`, async () => {
        const backend = await createBackend(kind);
        try {
          const { losses } = await trainTiny(backend.ops, 12);
          expect(losses[0]).toBeGreaterThan(Math.log(TRAIN_CONFIG.vocab) * 0.9);
          expect(losses.at(-1)).toBeLessThan(losses[0] * 0.7);
        } finally {
          backend.dispose();
        }
      });
    }
  });
}
