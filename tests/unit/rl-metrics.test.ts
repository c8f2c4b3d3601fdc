// Step metrics (DESIGN 4.5) on hand-computed values.
import { describe, expect, it } from 'vitest';
import { covariance, meanCi, selectionStats, stepMetrics, trimStats } from '../../src/rl/metrics.ts';

describe('covariance', () => {
  it('is the population covariance', () => {
    // x mean 2, y mean 4: ((-1)(-2) + 0*0 + 1*2) / 3 = 4/3
    expect(covariance([1, 2, 3], [2, 4, 6])).toBeCloseTo(4 / 3, 12);
    expect(covariance([1], [5])).toBe(0);
    expect(() => covariance([1, 2], [1])).toThrow(/2 and 1/);
  });
});

describe('selection', () => {
  it('intervention volume, covariance with low reward, precision and recall', () => {
    // rewards 0, 0, 1, 2; rejected: first, third. wrong (em 0): first, second.
    const s = selectionStats([
      { reward: 0, em: 0, rejected: true },
      { reward: 0, em: 0, rejected: false },
      { reward: 1, em: 1, rejected: true },
      { reward: 2, em: 1, rejected: false },
    ]);
    expect(s.refineRate).toBe(0.5);
    // z = 1,0,1,0 (mean .5); -R = 0,0,-1,-2 (mean -.75); cov = mean((z-.5)(-R+.75)) = (.5*.75 - .5*.75 + .5*-.25 - .5*-1.25)/4 = .125
    expect(s.selectionCov).toBeCloseTo(0.125, 12);
    expect(s.selectionPrecision).toBe(0.5); // 1 of 2 rejected is wrong
    expect(s.selectionRecall).toBe(0.5); // 1 of 2 wrong is rejected
  });
  it('null precision without rejections, null recall without wrong ones', () => {
    const s = selectionStats([{ reward: 1, em: 1, rejected: false }]);
    expect(s.selectionPrecision).toBeNull();
    expect(s.selectionRecall).toBeNull();
    expect(s.refineRate).toBe(0);
  });
});

describe('trimming', () => {
  it('covariance between cut and gain, mean gain', () => {
    // cuts 0,1,2 gains 1,0,-1: cov = ((-1)(1) + 0 + (1)(-1)) / 3 = -2/3
    const t = trimStats([{ cut: 0, gain: 1 }, { cut: 1, gain: 0 }, { cut: 2, gain: -1 }]);
    expect(t.trimCov).toBeCloseTo(-2 / 3, 12);
    expect(t.meanGain).toBe(0);
    expect(trimStats([]).meanGain).toBeNull();
  });
});

describe('stepMetrics', () => {
  it('counts trajectories, revisions and averages over finals', () => {
    const m = stepMetrics({
      step: 3,
      preset: 'search-r2',
      originals: [{ reward: 0, em: 0, rejected: true }, { reward: 2, em: 1, rejected: false }],
      revisions: [{ cut: 1, gain: 1 }],
      finals: [
        { em: 1, f1: 1, reward: 1, searches: 2, valid: true },
        { em: 1, f1: 0.5, reward: 2, searches: 1, valid: false },
      ],
      tokensGenerated: 123,
      update: { kl: 0.01, entropy: 2, clipFraction: 0.1, policyLoss: -0.5 },
      seconds: 4,
      phaseSeconds: { rollout: 3, update: 1 },
    });
    expect(m.trajectories).toBe(3);
    expect(m.revisions).toBe(1);
    expect(m.em).toBe(1);
    expect(m.f1).toBe(0.75);
    expect(m.reward).toBe(1.5);
    expect(m.searchesPerTrajectory).toBe(1.5);
    expect(m.formatValid).toBe(0.5);
    expect(m.refineRate).toBe(0.5);
    expect(m.meanGain).toBe(1);
    expect(m.tokensGenerated).toBe(123);
  });
});

describe('meanCi', () => {
  it('t interval over seeds', () => {
    // 1, 2, 3: mean 2, sd 1, t(2) = 4.303: 4.303 / sqrt(3)
    const r = meanCi([1, 2, 3]);
    expect(r.mean).toBe(2);
    expect(r.ci95).toBeCloseTo(4.303 / Math.sqrt(3), 10);
    expect(meanCi([5]).ci95).toBeNull();
  });
});
