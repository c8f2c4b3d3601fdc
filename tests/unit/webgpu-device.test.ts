// The WebGPU context: arena reuse, pipeline cache, no read-backs inside a step, device loss as an event.
import { describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../../src/engine/webgpu/backend.ts';
import { AdamW } from '../../src/engine/optim.ts';
import { Tape } from '../../src/engine/tape.ts';
import { lmLoss, Transformer } from '../../src/model/transformer.ts';
import { TRAIN_CONFIG } from '../shared/train-suite.ts';
import { patternBatch } from '../shared/pattern.ts';

describe('webgpu context', () => {
  it('recycles buffers through the arena and caches pipelines', async () => {
    const be = await createWebGpuBackend();
    try {
      const { ops, ctx } = be;
      const a = ops.tensor(new Float32Array(1000).fill(1), [1000]);
      for (let i = 0; i < 20; i++) ops.dispose(ops.add(a, a));
      await ops.flush();
      const before = ctx.arena.stats();
      for (let i = 0; i < 20; i++) ops.dispose(ops.add(a, a));
      await ops.flush();
      const after = ctx.arena.stats();
      expect(after.created).toBe(before.created); // no new buffers once warm
      expect(after.reused).toBeGreaterThan(before.reused);
      expect(ctx.pipelines.size).toBe(1);
    } finally {
      be.dispose();
    }
  });

  it('runs a whole training step without reading anything back', async () => {
    const be = await createWebGpuBackend();
    try {
      const { ops, ctx } = be;
      const model = new Transformer(ops, TRAIN_CONFIG, 3);
      const opt = new AdamW(ops, model.params, { lr: 1e-3 });
      const readsBefore = ctx.reads;
      const tape = new Tape(ops);
      const loss = lmLoss(model, tape, patternBatch(2, 8, TRAIN_CONFIG.vocab, 1), 2, 8);
      tape.backward(loss);
      opt.update();
      tape.dispose();
      expect(ctx.reads).toBe(readsBefore);
      await ops.flush();
      expect(ctx.dispatches).toBeGreaterThan(20);
      model.dispose();
      opt.dispose();
    } finally {
      be.dispose();
    }
  });

  it('reports device loss as an event, and reads after it fail instead of hanging', async () => {
    const be = await createWebGpuBackend();
    const lost = new Promise<string>((resolve) => be.on((e) => resolve(`${e.type}:${e.reason}`)));
    const t = be.ops.tensor(new Float32Array([1, 2, 3]), [3]);
    be.ctx.device.destroy();
    expect(await lost).toBe('lost:destroyed');
    const outcome = await Promise.race([
      be.ops.read(t).then(() => 'resolved', () => 'rejected'),
      new Promise((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    expect(outcome).not.toBe('hung');
  });
});
