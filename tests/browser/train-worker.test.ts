// The training worker in Chromium through comlink: init on the tiny preset (a small hand-made world, a fresh tiny
// policy), one whole GRPO step, then the next step phase by phase; the events must come in the contract's order
// and be complete (trajectories with tokens, decisions with alpha, rewards with parts, per-token advantages and
// losses); save / list / load through IndexedDB; invalid configs are refused naming the field.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { PhaseEvent, TrainerEvent } from '../../src/rl/events.ts';
import { presetConfig } from '../../src/rl/presets.ts';
import type { TrainerWorkerApi } from '../../src/worker/train-protocol.ts';
import type { Question, SplitQuestions } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';

const COUNTRIES = [
  ['France', 'Paris', 'Euro'], ['Japan', 'Tokyo', 'Yen'], ['Peru', 'Lima', 'Sol'], ['Kenya', 'Nairobi', 'Shilling'],
  ['Chile', 'Santiago', 'Peso'], ['Egypt', 'Cairo', 'Pound'], ['Norway', 'Oslo', 'Krone'], ['Ghana', 'Accra', 'Cedi'],
];
const corpus = COUNTRIES.flatMap(([c, cap, cur]) => [
  { id: `country:${c}`, contents: `"${c}"\n${c} is a country. Its capital is ${cap}. Its currency is the ${cur}.` },
  { id: `city:${cap}`, contents: `"${cap}"\n${cap} is the capital of ${c}.` },
]);
const q = (id: string, question: string, answer: string, support: string[], hops: number): Question =>
  ({ id, question, golden_answers: [answer], supporting_ids: support, hops, family: hops > 1 ? 'bridge' : 'one-hop', relations: [] });
const questions = Object.fromEntries(SPLITS.map((s) => [s, Object.fromEntries(PARTS.map((p) => [p, [] as Question[]]))])) as SplitQuestions;
questions.nq.train = COUNTRIES.map(([c, cap], i) => q(`nq-train-${i}`, `what is the capital of ${c}`, cap, [`country:${c}`], 1));
questions.hotpotqa.train = COUNTRIES.map(([c, cap, cur], i) => q(`hotpotqa-train-${i}`, `What currency is used in the country whose capital is ${cap}?`, cur, [`city:${cap}`, `country:${c}`], 2));
questions.nq.dev = questions.nq.train.slice(0, 2).map((x) => ({ ...x, id: x.id.replace('train', 'dev') }));

const worker = new Worker(new URL('../../src/worker/train.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerWorkerApi>(worker);
afterAll(() => worker.terminate());

const events: TrainerEvent[] = [];
const onEvent = Comlink.proxy((e: TrainerEvent) => void events.push(e));

describe('training worker', () => {
  const config = presetConfig('search-r2', 'tiny', { questionsPerStep: 2, groupSize: 2, maxTurnTokens: 12, backend: 'cpu', steps: 3, seeds: { init: 1, data: 1, sampling: 1 } });

  it('refuses an invalid config naming the field', async () => {
    await expect(api.init({ ...config, revisionLimit: 7 }, onEvent, { world: { corpus, questions }, dbName: 'train-worker-test' })).rejects.toThrow(/revisionLimit.*1\.\.4/);
  });

  it('inits, runs one whole step, then a step phase by phase', async () => {
    const info = await api.init(config, onEvent, { world: { corpus, questions }, dbName: 'train-worker-test' });
    expect(info.questions).toBe(16);
    expect(info.parameters).toBeGreaterThan(1000);
    expect(await api.nextPhase()).toBe('rollout');

    const rec = await api.step();
    expect(rec.step).toBe(1);
    const phases = rec.events.map((e) => e.phase);
    expect(phases[0]).toBe('rollout');
    expect(phases.slice(-3)).toEqual(['reward', 'advantage', 'update']);
    expect(phases[1]).toBe('judge');
    const rollout = rec.events[0] as Extract<PhaseEvent, { phase: 'rollout' }>;
    expect(rollout.trajectories).toHaveLength(4);
    for (const t of rollout.trajectories) {
      expect(t.tokens.length).toBeGreaterThan(0);
      expect(t.tokens.every((k) => typeof k.text === 'string' && (k.policy === 0 || k.policy === 1))).toBe(true);
    }
    const judge = rec.events[1] as Extract<PhaseEvent, { phase: 'judge' }>;
    expect(judge.skipped).toBe(false);
    expect(judge.decisions).toHaveLength(4);
    for (const d of judge.decisions) expect(d.alpha).toBeGreaterThanOrEqual(0);
    const reward = rec.events.find((e) => e.phase === 'reward') as Extract<PhaseEvent, { phase: 'reward' }>;
    expect(reward.rewards.length).toBeGreaterThanOrEqual(4);
    const update = rec.events.at(-1) as Extract<PhaseEvent, { phase: 'update' }>;
    expect(update.advantages).toHaveLength(4);
    for (const a of update.advantages) expect(a.tokenLoss.length).toBe(a.tokenAdvantages.length);
    expect(Number.isFinite(update.stats.entropy)).toBe(true);
    expect(rec.metrics.trajectories).toBeGreaterThanOrEqual(4);
    // Events travel as separate messages (comlink proxy calls), so they may land just after the step's reply.
    await vi.waitFor(() => expect(events.some((e) => e.type === 'step' && e.step === 1)).toBe(true));

    // Phase by phase: the same order, ending with a step event for step 2.
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const next = await api.nextPhase();
      const e = await api.stepPhase();
      expect(e.phase).toBe(next);
      expect(e.step).toBe(2);
      seen.push(e.phase);
      if (e.phase === 'update') break;
    }
    expect(seen[0]).toBe('rollout');
    expect(seen.at(-1)).toBe('update');
    expect(await api.nextPhase()).toBe('rollout');
    const ms = await api.metrics();
    expect(ms.map((m) => m.step)).toEqual([1, 2]);
  });

  it('saves to IndexedDB, lists and loads a run', async () => {
    const ref = await api.save('two steps');
    expect(ref.step).toBe(2);
    const runs = await api.listRuns();
    expect(runs.map((r) => r.id)).toContain(ref.id);
    const loaded = await api.load(ref.id);
    expect(loaded.step).toBe(2);
    expect((await api.metrics()).length).toBe(2);
    await api.deleteRun(ref.id);
    expect((await api.listRuns()).map((r) => r.id)).not.toContain(ref.id);
  });
});
