// The GRPO loss (src/rl/grpo.ts): hand-computed clipped surrogate, k3 KL (and its clamp), masks, the three aggregations, role
// groups, and a finite-difference check of the coefficients (dLoss/dNewLogprob).
import { describe, expect, it } from 'vitest';
import { aggregationWeights, DEFAULT_GRPO, type GrpoConfig, grpoLoss, type GrpoSequence } from '../../src/rl/grpo.ts';
import { Rng } from '../../src/engine/rng.ts';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const u8 = (xs: number[]): Uint8Array => Uint8Array.from(xs);

/** A sequence whose ratios exp(new - old) are `ratios` (old = -1) and ref = new (no KL) unless given. */
function seq(ratios: number[], mask: number[], advantage: number, refMinusNew?: number[]): GrpoSequence {
  const newLp = ratios.map((r) => Math.log(r) - 1);
  const n = f32(newLp);
  return {
    newLogprobs: n,
    oldLogprobs: f32(ratios.map((r, t) => n[t] - Math.log(r))),
    refLogprobs: f32(newLp.map((x, t) => x + (refMinusNew?.[t] ?? 0))),
    mask: u8(mask),
    advantage,
  };
}

const cfg0: GrpoConfig = { ...DEFAULT_GRPO, klBeta: 0 };

describe('grpoLoss: clipped surrogate', () => {
  it('positive advantage: ratio above 1 + eps is clipped (no gradient), inside it is -A r', () => {
    const r = grpoLoss([seq([1.5, 0.9, 3], [1, 1, 0], 1)], cfg0);
    // token 0: max(-1.5, -1.2) = -1.2 clipped; token 1: -0.9; token 2 masked. token-mean over 2 tokens.
    expect(r.loss).toBeCloseTo(-1.05, 6);
    expect(r.policyLoss).toBeCloseTo(-1.05, 6);
    expect(r.klLoss).toBe(0);
    expect(r.tokens).toBe(2);
    expect(r.clipFraction).toBeCloseTo(0.5, 12);
    expect(Array.from(r.coefficients[0])).toEqual([0, expect.closeTo(-0.45, 6), 0]);
    expect(Array.from(r.tokenLoss[0])).toEqual([expect.closeTo(-0.6, 6), expect.closeTo(-0.45, 6), 0]);
  });

  it('negative advantage: ratio below 1 - eps is clipped, above 1 + eps is not (pessimistic bound)', () => {
    const r = grpoLoss([seq([1.5, 0.5, 1], [1, 1, 1], -2)], cfg0);
    // token 0: max(3, 2.4) = 3 unclipped, dL/dnew = -A r = 3; token 1: max(1, 1.6) = 1.6 clipped; token 2: 2.
    expect(r.loss).toBeCloseTo((3 + 1.6 + 2) / 3, 6);
    expect(r.clipFraction).toBeCloseTo(1 / 3, 12);
    expect(Array.from(r.coefficients[0]).map((x) => +x.toFixed(6))).toEqual([1, 0, +(2 / 3).toFixed(6)]);
  });

  it('clip-higher: clipHigh 0.28 lets a ratio of 1.25 through', () => {
    const a = grpoLoss([seq([1.25], [1], 1)], cfg0);
    const b = grpoLoss([seq([1.25], [1], 1)], { ...cfg0, clipHigh: 0.28 });
    expect(a.loss).toBeCloseTo(-1.2, 6);
    expect(a.coefficients[0][0]).toBe(0);
    expect(b.loss).toBeCloseTo(-1.25, 6);
    expect(b.coefficients[0][0]).toBeCloseTo(-1.25, 6);
  });

  it('zero advantage, ratio 1: zero loss and gradient', () => {
    const r = grpoLoss([seq([1, 1], [1, 1], 0)], cfg0);
    expect(r.loss).toBe(0);
    expect(Array.from(r.coefficients[0])).toEqual([0, 0]);
  });
});

describe('grpoLoss: k3 KL', () => {
  it('k3 = exp(ref - new) - (ref - new) - 1, gradient beta * (1 - exp(ref - new))', () => {
    const cfg: GrpoConfig = { ...DEFAULT_GRPO, klBeta: 0.5 };
    const r = grpoLoss([seq([1, 1], [1, 1], 0, [Math.log(2), 0])], cfg);
    const k3 = 1 - Math.log(2);
    expect(r.kl).toBeCloseTo(k3 / 2, 6);
    expect(r.klLoss).toBeCloseTo((0.5 * k3) / 2, 6);
    expect(r.policyLoss).toBe(0);
    expect(r.coefficients[0][0]).toBeCloseTo((0.5 * (1 - 2)) / 2, 6);
    expect(r.coefficients[0][1]).toBeCloseTo(0, 7);
    // KL is nonnegative for either sign of ref - new.
    expect(grpoLoss([seq([1], [1], 0, [-1.5])], cfg).kl).toBeCloseTo(Math.exp(-1.5) + 1.5 - 1, 6);
  });

  it('is clamped at 10 as verl clamps it (flat there: no KL gradient); just below the clamp it is not', () => {
    const cfg: GrpoConfig = { ...DEFAULT_GRPO, klBeta: 0.5 };
    // ref - new = 3: exp(3) - 3 - 1 = 16.09 -> 10; ref - new = -12: exp(-12) + 12 - 1 = 11.000006 -> 10.
    for (const d of [3, -12]) {
      const r = grpoLoss([seq([1], [1], 0, [d])], cfg);
      expect(r.kl).toBe(10);
      expect(r.klLoss).toBeCloseTo(5, 6);
      expect(r.coefficients[0][0]).toBe(0);
    }
    // ref - new = 2.5: exp(2.5) - 3.5 = 8.68, inside: value and gradient beta * (1 - exp(2.5)).
    const r = grpoLoss([seq([1], [1], 0, [2.5])], cfg);
    expect(r.kl).toBeCloseTo(Math.exp(2.5) - 3.5, 5);
    expect(r.coefficients[0][0]).toBeCloseTo(0.5 * (1 - Math.exp(2.5)), 5);
  });
});

describe('grpoLoss: aggregation', () => {
  // Sequence a: 2 unmasked tokens with surrogate -1 each (A = 1, r = 1); b: 1 token with surrogate 2 (A = -2).
  const a = seq([1, 1, 1, 1], [1, 1, 0, 0], 1);
  const b = seq([1, 1], [0, 1], -2);

  it('token-mean: sum over all unmasked tokens / their count', () => {
    const r = grpoLoss([a, b], cfg0);
    expect(r.loss).toBeCloseTo((-1 - 1 + 2) / 3, 6);
    expect(aggregationWeights([a, b], cfg0)).toEqual([1 / 3, 1 / 3]);
  });

  it('seq-mean-token-mean: mean over sequences of each token mean', () => {
    const cfg = { ...cfg0, aggregation: 'seq-mean-token-mean' as const };
    expect(grpoLoss([a, b], cfg).loss).toBeCloseTo((-1 + 2) / 2, 6);
    // A sequence with no unmasked token does not count.
    const empty = seq([1], [0], 5);
    expect(grpoLoss([a, b, empty], cfg).loss).toBeCloseTo((-1 + 2) / 2, 6);
  });

  it('dr-grpo: sum / (sequences * maxResponseTokens); default horizon = the longest mask', () => {
    const cfg = { ...cfg0, aggregation: 'dr-grpo' as const };
    expect(grpoLoss([a, b], { ...cfg, maxResponseTokens: 10 }).loss).toBeCloseTo(0 / 20, 6);
    const c = seq([1, 1, 1, 1], [1, 1, 1, 0], 1);
    expect(grpoLoss([c, b], { ...cfg, maxResponseTokens: 10 }).loss).toBeCloseTo((-3 + 2) / 20, 6);
    expect(grpoLoss([c, b], cfg).loss).toBeCloseTo((-3 + 2) / 8, 6);
  });

  it('roles aggregate separately and sum with role weights; sequence weights multiply', () => {
    const judge: GrpoSequence = { ...seq([1], [1], -3), role: 'judge' };
    const r = grpoLoss([a, b, judge], { ...cfg0, roleWeights: { judge: 0.5 } });
    // actor: token-mean over its 3 tokens = 0; judge: its one token = 3, weighted 0.5.
    expect(r.loss).toBeCloseTo(1.5, 6);
    expect(r.byRole.actor?.policyLoss).toBeCloseTo(0, 6);
    expect(r.byRole.judge?.policyLoss).toBeCloseTo(3, 6);
    expect(r.byRole.judge?.tokens).toBe(1);
    expect(r.coefficients[2][0]).toBeCloseTo(0.5 * 3, 6);
    const w = grpoLoss([{ ...a, weight: 2 }, b], cfg0);
    expect(w.loss).toBeCloseTo((2 * -2 + 2) / 3, 6);
  });

  it('rejects bad configs and shapes', () => {
    expect(() => grpoLoss([a], { ...cfg0, clipLow: 1 })).toThrow(/clipLow/);
    expect(() => grpoLoss([a], { ...cfg0, aggregation: 'mean' as never })).toThrow(/aggregation/);
    expect(() => grpoLoss([{ ...a, mask: u8([1]) }], cfg0)).toThrow(/match the mask/);
  });
});

describe('grpoLoss: coefficients are dLoss/dNew (finite differences)', () => {
  it.each(['token-mean', 'seq-mean-token-mean', 'dr-grpo'] as const)('%s', (aggregation) => {
    const rng = new Rng(7);
    const cfg: GrpoConfig = { clipLow: 0.2, clipHigh: 0.28, klBeta: 0.3, aggregation };
    const seqs: GrpoSequence[] = [5, 3, 7].map((n, i) => {
      const old = rng.uniformArray(n, -4, -0.5);
      return {
        oldLogprobs: old,
        newLogprobs: old.map((x) => x + 0.5 * rng.normal()),
        refLogprobs: old.map((x) => x + 0.3 * rng.normal()),
        mask: Uint8Array.from({ length: n }, () => (rng.next() < 0.75 ? 1 : 0)),
        advantage: [1.3, -0.7, 0.4][i],
        ...(i === 1 ? { role: 'trim' as const } : {}),
      };
    });
    const base = grpoLoss(seqs, cfg);
    let checked = 0;
    seqs.forEach((s, i) =>
      s.mask.forEach((m, t) => {
        const at = (delta: number): number => {
          const copy = seqs.map((x) => ({ ...x, newLogprobs: Float32Array.from(x.newLogprobs) }));
          copy[i].newLogprobs[t] += delta;
          return grpoLoss(copy, cfg).loss;
        };
        const x0 = s.newLogprobs[t];
        const h = Math.fround(x0 + 1e-3) - x0;
        const fd = (at(h) - at(-h)) / (2 * h);
        if (!m) {
          expect(base.coefficients[i][t]).toBe(0);
          expect(fd).toBe(0);
          return;
        }
        // Skip the kink of the clip (|r - bound| tiny); none is expected with these draws.
        expect(base.coefficients[i][t]).toBeCloseTo(fd, 4);
        checked++;
      }),
    );
    expect(checked).toBeGreaterThan(8);
    // tokenLoss sums to the loss.
    expect(base.tokenLoss.reduce((a, x) => a + x.reduce((p, q) => p + q, 0), 0)).toBeCloseTo(base.loss, 6);
  });
});
