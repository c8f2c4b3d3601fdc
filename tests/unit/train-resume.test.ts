// Checkpoint and resume on the cpu backend: 2 steps straight == 1 step + save + load (into a fresh trainer) + 1
// step, bit for bit (metrics, weights, optimizer moments); and a state saved mid-step is refused.
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { createPolicy } from '../../src/model/policy.ts';
import { presetConfig } from '../../src/rl/presets.ts';
import { MemoryRunStore, parseRunState, restoreRunState, saveRunState } from '../../src/rl/run-state.ts';
import { createTrainer } from '../../src/rl/trainer-setup.ts';
import { tinyWorld } from './rl-fixture.ts';

const backends: Backend[] = [];
afterAll(() => backends.forEach((b) => b.dispose()));

const config = presetConfig('search-r1', 'tiny', { questionsPerStep: 2, groupSize: 3, maxTurnTokens: 24, lr: 3e-3, klBeta: 0.5, seeds: { init: 1, data: 2, sampling: 3 } });

async function fresh() {
  const backend = await createBackend('cpu');
  backends.push(backend);
  const r = createTrainer({ config, backend, world: tinyWorld(), checkpoint: null });
  // A random policy earns no reward (zero advantages); a reference that differs from it gives the KL term a
  // gradient, so the weights and the optimizer moments move every step.
  const other = createPolicy(backend.ops, 'tiny', r.models.tokenizer.size, 99);
  for (const [i, p] of r.trainer.reference.params.entries()) backend.ops.write(p.value, await backend.ops.readF32(other.params[i].value));
  other.dispose();
  return r;
}

async function weights(t: Awaited<ReturnType<typeof fresh>>['trainer']): Promise<Float32Array[]> {
  return Promise.all(t.policy.params.map((p) => t.backend.ops.readF32(p.value)));
}

describe('resume', () => {
  it('2 steps straight == 1 step, save, load, 1 step', async () => {
    const a = await fresh();
    await a.trainer.step();
    await a.trainer.step();
    const wa = await weights(a.trainer);

    const b = await fresh();
    await b.trainer.step();
    const store = new MemoryRunStore();
    const saved = await saveRunState(b.trainer, { id: 'run1', name: 'test', binding: b.models.binding });
    await store.save(saved.ref, saved.bytes);
    b.trainer.dispose();

    const c = await fresh();
    const loaded = await store.load('run1');
    await restoreRunState(c.trainer, parseRunState(loaded.bytes, 'memory:run1'), c.models.binding);
    expect(c.trainer.stepsDone).toBe(1);
    await c.trainer.step();
    const wc = await weights(c.trainer);

    expect(c.trainer.metrics.map((m) => ({ ...m, seconds: 0, phaseSeconds: {} }))).toEqual(
      a.trainer.metrics.map((m) => ({ ...m, seconds: 0, phaseSeconds: {} })),
    );
    wa.forEach((w, i) => expect(Buffer.from(wc[i].buffer).equals(Buffer.from(w.buffer))).toBe(true));
    // The run moved: the weights differ from the warm start.
    const w0 = await weights((await fresh()).trainer);
    expect(wa.some((w, i) => !Buffer.from(w.buffer).equals(Buffer.from(w0[i].buffer)))).toBe(true);
  });

  it('refuses to save in the middle of a step', async () => {
    const a = await fresh();
    await a.trainer.runPhase();
    await expect(saveRunState(a.trainer, { id: 'x', name: 'x', binding: a.models.binding })).rejects.toThrow(/middle of step 1/);
  });
});
