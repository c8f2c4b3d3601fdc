import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import { trainSuite, trainTiny } from '../shared/train-suite.ts';

trainSuite(['cpu', 'webgpu'], 'node');

describe('reproducibility', () => {
  it('the same seed gives the same bits on the cpu backend', async () => {
    const a = await trainTiny((await createBackend('cpu')).ops, 3, 11);
    const b = await trainTiny((await createBackend('cpu')).ops, 3, 11);
    expect(a.losses).toEqual(b.losses);
    a.params.forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(b.params[i].buffer))).toBe(true));
  });

  it('a different seed gives different weights', async () => {
    const a = await trainTiny((await createBackend('cpu')).ops, 1, 11);
    const b = await trainTiny((await createBackend('cpu')).ops, 1, 12);
    expect(a.losses[0]).not.toEqual(b.losses[0]);
  });

  it('cpu and webgpu agree on the first training steps', async () => {
    const gpu = await createBackend('webgpu');
    try {
      const a = await trainTiny((await createBackend('cpu')).ops, 3, 5);
      const b = await trainTiny(gpu.ops, 3, 5);
      for (let i = 0; i < 3; i++) expect(Math.abs(a.losses[i] - b.losses[i])).toBeLessThan(1e-3);
    } finally {
      gpu.dispose();
    }
  });
});
