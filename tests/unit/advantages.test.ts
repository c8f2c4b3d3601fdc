import { describe, expect, it } from 'vitest';
import { grpoAdvantages } from '../../src/rl/advantages.ts';

/** Reference: (r - mean) / (unbiased std + eps) per consecutive group. */
function reference(rewards: number[], g: number, eps = 1e-6, scale = true): number[] {
  const out: number[] = [];
  for (let s = 0; s < rewards.length; s += g) {
    const grp = rewards.slice(s, s + g);
    const mean = grp.reduce((a, b) => a + b, 0) / g;
    const std = Math.sqrt(grp.reduce((a, r) => a + (r - mean) ** 2, 0) / (g - 1));
    for (const r of grp) out.push(scale ? (r - mean) / (std + eps) : r - mean);
  }
  return out;
}

describe('grpoAdvantages', () => {
  it('[1,0,0,0,0] with G = 5: mean 0.2, unbiased std sqrt(0.2)', () => {
    const a = grpoAdvantages([1, 0, 0, 0, 0], 5);
    const std = Math.sqrt(0.2); // sum of squares 0.8, / (5 - 1)
    expect(a).toHaveLength(5);
    expect(a[0]).toBeCloseTo((1 - 0.2) / (std + 1e-6), 12);
    for (let i = 1; i < 5; i++) expect(a[i]).toBeCloseTo(-0.2 / (std + 1e-6), 12);
    expect(a[0]).toBeCloseTo(1.7888504, 6);
    expect(a[1]).toBeCloseTo(-0.4472126, 6);
  });

  it('advantages of a group sum to zero', () => {
    const a = grpoAdvantages([2, 1.5, 0, 1, 0.25], 5);
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(0, 12);
  });

  it('gives exactly 0 for groups with equal rewards', () => {
    expect(grpoAdvantages([1, 1, 1, 1, 1], 5)).toEqual([0, 0, 0, 0, 0]);
    expect(grpoAdvantages([0, 0, 0], 3)).toEqual([0, 0, 0]);
    const a = grpoAdvantages([0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 1.3, 1.3, 1.3], 3);
    for (const v of a) expect(v).toBe(0);
    for (const v of grpoAdvantages([0.3, 0.3, 0.3], 3, { scaleByStd: false })) expect(v).toBe(0);
  });

  it('handles several consecutive groups independently', () => {
    const rewards = [1, 0, 1, 0, 2, 2, 0, 0.5];
    const a = grpoAdvantages(rewards, 4);
    const exp = reference(rewards, 4);
    for (let i = 0; i < rewards.length; i++) expect(a[i]).toBeCloseTo(exp[i] ?? NaN, 12);
    // group 1: [1,0,1,0] mean 0.5, unbiased std sqrt(1/3)
    expect(a[0]).toBeCloseTo(0.5 / (Math.sqrt(1 / 3) + 1e-6), 12);
    expect(a[1]).toBeCloseTo(-0.5 / (Math.sqrt(1 / 3) + 1e-6), 12);
  });

  it('G = 2: +-1/sqrt(2) scaled for different rewards', () => {
    // [1, 0]: mean 0.5, unbiased std sqrt(0.5)
    const a = grpoAdvantages([1, 0], 2);
    expect(a[0]).toBeCloseTo(0.5 / (Math.sqrt(0.5) + 1e-6), 12);
    expect(a[1]).toBeCloseTo(-0.5 / (Math.sqrt(0.5) + 1e-6), 12);
  });

  it('scaleByStd false is r - mean (Dr. GRPO)', () => {
    expect(grpoAdvantages([1, 0, 0, 0, 0], 5, { scaleByStd: false }).map((v) => +v.toFixed(12))).toEqual([
      0.8, -0.2, -0.2, -0.2, -0.2,
    ]);
    const a = grpoAdvantages([2, 0, 1, 3], 2, { scaleByStd: false });
    expect(a).toEqual([1, -1, -1, 1]);
  });

  it('respects a custom eps', () => {
    const a = grpoAdvantages([1, 0], 2, { eps: 0.5 });
    expect(a[0]).toBeCloseTo(0.5 / (Math.sqrt(0.5) + 0.5), 12);
    const b = grpoAdvantages([1, 0], 2, { eps: 0 });
    expect(b[0]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('uses verl\'s convention for groups of size 1: mean 0, std 1', () => {
    expect(grpoAdvantages([0.7, 0, 2], 1)).toEqual([0.7 / (1 + 1e-6), 0, 2 / (1 + 1e-6)]);
    expect(grpoAdvantages([0.7, 0, 2], 1, { scaleByStd: false })).toEqual([0.7, 0, 2]);
  });

  it('returns an empty array for no rewards', () => {
    expect(grpoAdvantages([], 5)).toEqual([]);
  });

  it('does not modify its input', () => {
    const rewards = [1, 0, 0, 1];
    grpoAdvantages(rewards, 2);
    expect(rewards).toEqual([1, 0, 0, 1]);
  });

  it('throws when rewards.length is not a multiple of groupSize, naming both', () => {
    expect(() => grpoAdvantages([1, 0, 0], 2)).toThrow(/3.*2/);
    expect(() => grpoAdvantages([1, 0, 0, 0, 0, 1], 5)).toThrow(/6.*5/);
  });

  it('throws on a group size that is not a positive integer', () => {
    expect(() => grpoAdvantages([1, 0], 0)).toThrow(/groupSize/);
    expect(() => grpoAdvantages([1, 0], -2)).toThrow(/groupSize/);
    expect(() => grpoAdvantages([1, 0], 1.5)).toThrow(/groupSize/);
    expect(() => grpoAdvantages([1, 0], Number.NaN)).toThrow(/groupSize/);
  });
});
