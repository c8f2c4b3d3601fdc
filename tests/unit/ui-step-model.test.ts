import { describe, expect, it } from 'vitest';
import { PHASES } from '../../src/rl/events.ts';
import { applyEvent, emptyStep, fromRecord, groupModel, isHybrid, judgeOf, nextPhaseOf, probeOf, refinerSummary, regenerationOf, rewardFormula, stepOfToken, tokenTip, tokenValues, trimOf } from '../../src/ui/step-model.ts';
import { stepFixture } from '../e2e/fixtures/step-fixture.ts';

describe('step view model', () => {
  const rec = stepFixture();
  it('indexes a whole step', () => {
    const m = fromRecord(rec);
    expect(m.done).toEqual([...PHASES]);
    expect(nextPhaseOf(m)).toBeNull();
    const g = groupModel(m, 0);
    expect(g?.slots.map((s) => s.chain.map((t) => t.id))).toEqual([['hotpotqa-dev-17#0'], ['hotpotqa-dev-17#1', 'hotpotqa-dev-17#1r1'], ['hotpotqa-dev-17#2']]);
    expect(g?.slots[1].final.id).toBe('hotpotqa-dev-17#1r1');
    expect(judgeOf(m, 'hotpotqa-dev-17#1')?.accept).toBe(false);
    expect(trimOf(m, 'hotpotqa-dev-17#1')?.cut).toBe(0);
    expect(regenerationOf(m, 'hotpotqa-dev-17#1')?.regeneratedId).toBe('hotpotqa-dev-17#1r1');
    expect(probeOf(m, 'hotpotqa-dev-17#1')?.gains).toHaveLength(3);
    expect(groupModel(m, 1)).toBeNull();
    expect(refinerSummary(m)).toBe('Discriminator judged 3 trajectories, rejected 1; 1 regenerated');
    expect(isHybrid(m)).toBe(true);
  });

  it('builds phase by phase, idempotently, and restarts on a new step', () => {
    let m = emptyStep(0);
    for (const e of rec.events.slice(0, 2)) m = applyEvent(m, e);
    expect(m.done).toEqual(['rollout', 'judge']);
    expect(nextPhaseOf(m)).toBe('trim');
    expect(groupModel(m, 0)?.slots[1].final.id).toBe('hotpotqa-dev-17#1');
    m = applyEvent(m, rec.events[1]);
    expect(m.judge).toHaveLength(3);
    const next = stepFixture({ step: 2 });
    m = applyEvent(m, next.events[0]);
    expect(m.step).toBe(2);
    expect(m.done).toEqual(['rollout']);
    expect(m.judge).toHaveLength(0);
  });

  it('explains numbers: reward formula, token provenance, values', () => {
    const m = fromRecord(rec);
    const r = m.rewards.get('hotpotqa-dev-17#0');
    expect(r && rewardFormula(r, true)).toBe('process = useful / searches = 2 / 2 = 1.00\nR = EM × (1 + process) = 1 × (1 + 1.00) = 2.00');
    const t = m.trajectories.get('hotpotqa-dev-17#2');
    if (!t) throw new Error('missing');
    const g = groupModel(m, 0)?.group ?? null;
    const tip = tokenTip(t, 0, m, g, 'advantage');
    expect(tip).toContain('trajectory hotpotqa-dev-17#2 · step 1 · token 0');
    expect(tip).toContain('A = (R − mean) / (std + 1e-6) = (0.000 − 1.333) / (1.155 + 1e-6) = −1.155');
    const obs = t.tokens.findIndex((k) => k.policy === 0);
    expect(tokenTip(t, obs, m, g, 'advantage')).toContain('masked out of the loss');
    const vals = tokenValues(m, t, 'loss');
    expect(vals[obs]).toBe(0);
    expect(vals[0]).toBeGreaterThan(0);
    expect(stepOfToken(t, t.tokens.length - 1)).toBe(2);
  });
});
