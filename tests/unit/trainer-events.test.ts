// The trainer's phase events on the tiny world: order (with revision rounds), completeness, snapshots (an event
// shows what its phase produced), the refiner phases skipped without a refiner, and presets / config validation.
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import type { PhaseEvent } from '../../src/rl/events.ts';
import { PRESET_NAMES, presetConfig } from '../../src/rl/presets.ts';
import { createTrainer } from '../../src/rl/trainer-setup.ts';
import { tinyWorld } from './rl-fixture.ts';

const backends: Backend[] = [];
afterAll(() => backends.forEach((b) => b.dispose()));

async function run(preset: string, overrides = {}) {
  const backend = await createBackend('cpu');
  backends.push(backend);
  const config = presetConfig(preset, 'tiny', { questionsPerStep: 2, groupSize: 3, maxTurnTokens: 16, seeds: { init: 2, data: 2, sampling: 2 }, ...overrides });
  const { trainer } = createTrainer({ config, backend, world: tinyWorld(), checkpoint: null });
  return trainer.step();
}

const of = <P extends PhaseEvent['phase']>(events: PhaseEvent[], p: P) => events.filter((e): e is Extract<PhaseEvent, { phase: P }> => e.phase === p);

describe('trainer events', () => {
  it('search-r2 with revision limit 2: phases, rounds, lineage and snapshots', async () => {
    const rec = await run('search-r2-rev2');
    const phases = rec.events.map((e) => e.phase);
    expect(phases.slice(0, 4)).toEqual(['rollout', 'judge', 'trim', 'regenerate']);
    expect(phases.slice(-3)).toEqual(['reward', 'advantage', 'update']);
    const rollout = of(rec.events, 'rollout')[0];
    expect(rollout.questions).toHaveLength(2);
    expect(rollout.trajectories).toHaveLength(6);
    // Snapshot: process labels are filled in the reward phase, not in the rollout event.
    for (const t of rollout.trajectories) for (const s of t.steps) expect(s.label).toBeNull();
    const judges = of(rec.events, 'judge');
    judges.forEach((j, i) => j.decisions.forEach((d) => expect(d.round).toBe(i + 1)));
    expect(judges.length).toBeLessThanOrEqual(2);
    const rejected = judges[0].decisions.filter((d) => !d.accept).map((d) => d.trajectoryId);
    expect(rejected.length).toBeGreaterThan(0); // seed 2: the random warm start rejects some
    const regens = of(rec.events, 'regenerate');
    expect(regens[0].regenerations.map((r) => r.originalId).sort()).toEqual([...rejected].sort());
    for (const r of regens[0].trajectories) {
      expect(r.revision).toBe(1);
      expect(r.parentId).not.toBeNull();
      expect(r.id).toMatch(/r1$/);
    }
    // Round 2 judges exactly the round-1 regenerations.
    if (judges[1]) expect(judges[1].decisions.map((d) => d.trajectoryId).sort()).toEqual(regens[0].trajectories.map((t) => t.id).sort());
    const reward = of(rec.events, 'reward')[0];
    expect(reward.rewards.length).toBe(6 + regens.reduce((a, r) => a + r.trajectories.length, 0));
    const adv = of(rec.events, 'advantage')[0];
    expect(adv.groups).toHaveLength(2);
    for (const g of adv.groups) expect(g.finalIds).toHaveLength(3);
    for (const a of adv.advantages) expect(a.tokenLoss).toEqual([]);
    const upd = of(rec.events, 'update')[0];
    for (const a of upd.advantages) expect(a.tokenLoss.length).toBe(a.tokenAdvantages.length);
    expect(upd.stats.judgeLoss).not.toBeNull();
    // KL per role: the Actor's tokens and the Discriminator's decisions, each a mean of non-negative k3; the metrics
    // carry the same values.
    const byRole = upd.stats.klByRole ?? {};
    expect(Object.keys(byRole).sort()).toEqual(expect.arrayContaining(['actor', 'judge']));
    for (const v of Object.values(byRole)) expect(v).toBeGreaterThanOrEqual(0);
    expect(rec.metrics.klByRole).toEqual(byRole);
    expect(rec.metrics.revisions).toBe(regens.reduce((a, r) => a + r.regenerations.length, 0));
    expect(rec.metrics.trajectories).toBe(6 + rec.metrics.revisions);
    expect(JSON.parse(JSON.stringify(rec))).toEqual(rec); // plain data
  });

  it('search-r1 skips the refiner phases', async () => {
    const rec = await run('search-r1');
    expect(rec.events.map((e) => e.phase)).toEqual(['rollout', 'judge', 'trim', 'regenerate', 'reward', 'advantage', 'update']);
    expect(of(rec.events, 'judge')[0].skipped).toBe(true);
    expect(of(rec.events, 'regenerate')[0].skipped).toBe(true);
    expect(rec.metrics.refineRate).toBe(0);
    expect(of(rec.events, 'update')[0].stats.judgeLoss).toBeNull();
    expect(Object.keys(rec.metrics.klByRole ?? {})).toEqual(['actor']);
  });
});

describe('relation-balanced questions (questionBalance)', () => {
  const trainerWith = async (questionBalance?: number, data = 2) => {
    const backend = await createBackend('cpu');
    backends.push(backend);
    const config = presetConfig('search-r1', 'tiny', { questionsPerStep: 4, groupSize: 2, seeds: { init: 2, data, sampling: 2 }, ...(questionBalance !== undefined ? { questionBalance } : {}) });
    return createTrainer({ config, backend, world: tinyWorld(), checkpoint: null }).trainer;
  };
  const chainOf = (q: { split: string; relations: string[] }): string => `${q.split}:${q.relations.join('/')}`;

  it('0 draws every chain alike, 1 in proportion to its questions; a function of the step and data seed; out of range refused', async () => {
    const plain = await trainerWith();
    expect(plain.chains).toBeNull();
    const even = await trainerWith(0);
    const chains = even.chains!;
    expect(chains.keys.length).toBeGreaterThan(2);
    expect(chains.groups.reduce((a, g) => a + g.length, 0)).toBe(plain.pool.length);
    for (const [i, k] of chains.keys.entries()) for (const q of chains.groups[i]) expect(chainOf(q)).toBe(k);
    const counts = new Map<string, number>();
    for (let s = 1; s <= 500; s++) for (const q of even.questionsOf(s)) counts.set(chainOf(q), (counts.get(chainOf(q)) ?? 0) + 1);
    const expected = 2000 / chains.keys.length;
    for (const k of chains.keys) expect(Math.abs((counts.get(k) ?? 0) - expected), k).toBeLessThan(5 * Math.sqrt(expected));
    // alpha 1: each chain's share is its share of the pool.
    const prop = (await trainerWith(1)).chains!;
    prop.keys.forEach((_k, i) => {
      const share = prop.cumulative[i] - (i > 0 ? prop.cumulative[i - 1] : 0);
      expect(share).toBeCloseTo(prop.groups[i].length / plain.pool.length, 12);
    });
    // Same step and data seed: the same questions (a resumed run draws what the uninterrupted one drew).
    const again = await trainerWith(0);
    expect(again.questionsOf(7).map((q) => q.id)).toEqual(even.questionsOf(7).map((q) => q.id));
    expect((await trainerWith(0, 3)).questionsOf(7).map((q) => q.id)).not.toEqual(even.questionsOf(7).map((q) => q.id));
    expect(() => presetConfig('search-r1', 'tiny', { questionBalance: 1.5 })).toThrow(/questionBalance.*1.5 is not a number in \[0, 1\]/);
  });
});

describe('periodic evaluation', () => {
  it('evalEvery puts dev EM per split in the step metrics and emits eval events', async () => {
    const backend = await createBackend('cpu');
    backends.push(backend);
    const events: { split: string; n: number }[] = [];
    const config = presetConfig('search-r1', 'tiny', { questionsPerStep: 1, groupSize: 2, maxTurnTokens: 12, evalEvery: 1, evalLimit: 1 });
    const { trainer } = createTrainer({ config, backend, world: tinyWorld(), checkpoint: null, onEvent: (e) => void (e.type === 'eval' && events.push(e)) });
    const rec = await trainer.step();
    expect(Object.keys(trainer.metrics[0].devEm ?? {}).sort()).toEqual(['2wiki', 'bamboogle', 'hotpotqa', 'musique', 'nq', 'popqa', 'triviaqa']);
    expect(events.map((e) => e.n)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(rec.step).toBe(1);
  });
});

describe('external judge', () => {
  it('a failing judge falls back to the gold judge and the reward event says so', async () => {
    const backend = await createBackend('cpu');
    backends.push(backend);
    const config = presetConfig('search-r1+meta-refiner+process', 'tiny', { judge: 'external', questionsPerStep: 1, groupSize: 2, maxTurnTokens: 12 });
    const failing = { name: 'external' as const, label: async () => Promise.reject(new Error('HTTP 503')) };
    expect(() => createTrainer({ config, backend, world: tinyWorld(), checkpoint: null })).toThrow(/judge is 'external' but no external judge/);
    const { trainer } = createTrainer({ config, backend, world: tinyWorld(), checkpoint: null, externalJudge: failing });
    const rec = await trainer.step();
    const reward = of(rec.events, 'reward')[0];
    expect(reward.judgeFallback).toMatch(/fell back to the gold judge: .*external judge failed \(HTTP 503\)/);
  });
});

describe('presets', () => {
  it('fix the method per row', () => {
    expect(PRESET_NAMES).toHaveLength(9);
    expect(presetConfig('search-r1')).toMatchObject({ refiner: false, trainRefiner: false, reward: 'em', groupSize: 5 });
    expect(presetConfig('search-r1+meta-refiner')).toMatchObject({ refiner: true, trainRefiner: false, reward: 'em' });
    expect(presetConfig('search-r1+meta-refiner+process')).toMatchObject({ refiner: true, trainRefiner: false, reward: 'hybrid' });
    expect(presetConfig('search-r2')).toMatchObject({ refiner: true, trainRefiner: true, reward: 'hybrid', revisionLimit: 1 });
    expect(presetConfig('search-r1-x2')).toMatchObject({ refiner: false, groupSize: 10 });
    expect(presetConfig('search-r2-rev3').revisionLimit).toBe(3);
    expect(presetConfig('search-r2', 'small')).toMatchObject({ model: 'small', questionsPerStep: 8 });
  });
  it('reject bad knobs with the allowed range', () => {
    expect(() => presetConfig('search-r9')).toThrow(/unknown preset "search-r9" \(allowed: search-r1,/);
    expect(() => presetConfig('search-r2', 'tiny', { revisionLimit: 5 })).toThrow(/TrainConfig.revisionLimit: 5 is not an integer in 1..4/);
    expect(() => presetConfig('search-r2', 'tiny', { lr: 0 })).toThrow(/TrainConfig.lr: 0 is not a number in \(0, 1\]/);
    expect(() => presetConfig('search-r1', 'tiny', { trainRefiner: true })).toThrow(/trainRefiner: true needs refiner: true/);
    expect(() => presetConfig('search-r2', 'tiny', { seeds: { init: -1, data: 0, sampling: 0 } })).toThrow(/seeds.init/);
    expect(() => presetConfig('search-r2', 'tiny', { aggregation: 'sum' as 'token-mean' })).toThrow(/aggregation/);
  });
});
