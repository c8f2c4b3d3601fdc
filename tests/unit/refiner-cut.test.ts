// Cut-and-regenerate (src/refiner/regenerate.ts) and the rollout continuation it drives (src/agent/rollout.ts
// `prefix`): the cut mechanics on scripted demonstrations (token boundary after step k's information block, kept and
// discarded text, kept segments and searches), a continuation that reproduces the original token for token, search
// limits counted from the prefix, and with the tiny random policy: batched == one at a time, regenerations draw
// other numbers than the original and than other revisions. Plus the counterfactual probe's gain curve.
import { beforeAll, describe, expect, it } from 'vitest';
import { keptPrefix, MAX_SEARCHES, validCuts } from '../../src/agent/prompts.ts';
import { rollout, type Rollout } from '../../src/agent/rollout.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { KvDecoder } from '../../src/model/decoder-cache.ts';
import { createPolicy } from '../../src/model/policy.ts';
import { probeCuts } from '../../src/refiner/probe.ts';
import { cutRollout, keptTokenCount, regenerate } from '../../src/refiner/regenerate.ts';
import { policyTokens, questionOf, ScriptedModel, tinyWorld, type TinyWorld } from './agent-fixtures.ts';

let w: TinyWorld;
let wasm: Backend;
/** Two-step demonstrations rolled out by a scripted perfect Actor. */
let twoStep: Rollout[];

beforeAll(async () => {
  w = await tinyWorld();
  wasm = await createBackend('cpu');
  const picked = w.demos.filter((d) => d.steps.length === 2).slice(0, 2);
  expect(picked).toHaveLength(2);
  const scripts = new Map(picked.map((d) => [d.question.question, policyTokens(w.tok, d)]));
  const model = new ScriptedModel(4, 2048, w.tok, (text) => {
    for (const [q, s] of scripts) if (text.includes(q)) return s;
    throw new Error('no script');
  });
  twoStep = (await rollout(model, w.tok, w.retriever, picked.map(questionOf), { groupSize: 1, seed: 0 })).rollouts;
  for (const r of twoStep) expect(r.trajectory.steps).toHaveLength(2);
});

describe('cutRollout', () => {
  it('k = 0 keeps nothing; k = 1, 2 keep steps 1..k with their information, on the token after </information>', () => {
    const r = twoStep[0];
    const c0 = cutRollout(r, 0, w.tok);
    expect(c0.prefix.ids.length).toBe(0);
    expect(c0.prefix.searches).toEqual([]);
    expect(c0.prefix.segments).toEqual([]);
    expect(c0.keptText).toBe('');
    expect(c0.discardedText).toBe(r.response);
    for (const k of [1, 2]) {
      const c = cutRollout(r, k, w.tok);
      const end = r.searches[k - 1].tokens?.end as number;
      expect(c.prefix.ids.length).toBe(end);
      expect(keptTokenCount(r, k, w.tok)).toBe(end);
      expect(c.prefix.ids[end - 1]).toBe(w.tok.special.informationEnd);
      expect(Array.from(c.prefix.ids)).toEqual(Array.from(r.ids.slice(0, end)));
      expect(Array.from(c.prefix.mask)).toEqual(Array.from(r.mask.slice(0, end)));
      expect(Array.from(c.prefix.logprobs)).toEqual(Array.from(r.logprobs.slice(0, end)));
      expect(c.prefix.searches.map((s) => s.query)).toEqual(r.searches.slice(0, k).map((s) => s.query));
      expect(c.prefix.segments.filter((s) => s.kind === 'information')).toHaveLength(k);
      expect(c.prefix.segments.at(-1)?.end).toBe(end);
      expect(c.keptText).toBe(keptPrefix(r.response, k));
      expect(w.tok.decode(c.prefix.ids)).toBe(c.keptText);
      expect(`${c.keptText} ${c.discardedText}`).toBe(r.response);
    }
    expect(() => cutRollout(r, 3, w.tok)).toThrow(/outside 0..2/);
    expect(validCuts(r.response)).toEqual([0, 1, 2]);
  });
});

describe('regenerate (scripted Actor)', () => {
  it('continuing after the kept prefix with the rest of the demonstration reproduces it token for token', async () => {
    const d = w.demos.find((x) => x.question.id === twoStep[0].questionId);
    if (!d) throw new Error('demo');
    const all = policyTokens(w.tok, d);
    for (const k of [0, 1, 2]) {
      const c = cutRollout(twoStep[0], k, w.tok);
      const keptPolicy = c.prefix.mask.reduce((a, m) => a + m, 0);
      const model = new ScriptedModel(2, 2048, w.tok, () => all.slice(keptPolicy), -0.5);
      const [g] = await regenerate(model, w.tok, w.retriever, [{ rollout: twoStep[0], cut: k, revision: 1 }], { groupSize: 5, seed: 0 });
      const o = twoStep[0];
      expect(Array.from(g.ids)).toEqual(Array.from(o.ids));
      expect(Array.from(g.mask)).toEqual(Array.from(o.mask));
      expect(g.searches.map((s) => s.passages.map((p) => p.id))).toEqual(o.searches.map((s) => s.passages.map((p) => p.id)));
      expect(g.segments).toEqual(o.segments);
      expect(g.answer).toBe(o.answer);
      expect(g.finish).toBe('answer');
      expect(g.turns).toBe(3);
      expect(g.group).toBe(o.group);
      expect(g.questionId).toBe(o.questionId);
      expect(g.revision).toBe(1);
      expect(g.prefixLength).toBe(c.prefix.ids.length);
      // Kept tokens keep their sampling log-probs; new ones carry the new model's.
      g.mask.forEach((m, j) => expect(g.logprobs[j]).toBe(m === 0 ? 0 : j < c.prefix.ids.length ? -0.25 : -0.5));
      // The model was fed the prompt and the prefix as its first chunk.
      expect(model.firstChunks[0].endsWith(w.tok.decode(c.prefix.ids))).toBe(true);
    }
  });

  it('counts the prefix searches toward the limit: a 4-search prefix continues in a forced turn', async () => {
    const d = w.demos[0];
    const loop = Array.from({ length: MAX_SEARCHES }, (_, i) => Array.from(w.tok.encode(`<think> again </think> <search> capital ${i} </search>`))).flat();
    const model = new ScriptedModel(1, 2048, w.tok, () => loop);
    const [r] = (await rollout(model, w.tok, w.retriever, [questionOf(d)], { groupSize: 1, seed: 0, maxTurns: 9 })).rollouts;
    expect(r.searches).toHaveLength(MAX_SEARCHES);
    const answer = Array.from(w.tok.encode('<think> done </think> <answer> x </answer>'));
    const cont = new ScriptedModel(1, 2048, w.tok, () => answer);
    const [g] = await regenerate(cont, w.tok, w.retriever, [{ rollout: r, cut: MAX_SEARCHES, revision: 1 }], { groupSize: 1, seed: 0, maxTurns: 9 });
    expect(cont.bans.length).toBeGreaterThan(0);
    expect(cont.bans.every((b) => b.includes(w.tok.special.search))).toBe(true);
    expect(g.forced).toBe(true);
    expect(g.searches).toHaveLength(MAX_SEARCHES);
    expect(g.answer).toBe('x');
    // Cut at 1: three searches left before the forced turn.
    const again = new ScriptedModel(1, 2048, w.tok, () => loop);
    const [h] = await regenerate(again, w.tok, w.retriever, [{ rollout: r, cut: 1, revision: 1 }], { groupSize: 1, seed: 0, maxTurns: 9 });
    expect(h.searches).toHaveLength(MAX_SEARCHES);
    expect(h.searches.map((s) => s.query)).toEqual(['capital 0', 'capital 0', 'capital 1', 'capital 2']);
  });
});

describe('regenerate (tiny random policy, KV-cache decoder)', () => {
  it('batched == one at a time; other revisions and the original draw other numbers', async () => {
    const model = createPolicy(wasm.ops, 'tiny', w.tok.size, 11);
    const opts = { groupSize: 1, seed: 5, maxTurnTokens: 10, maxTurns: 3 };
    const items = [
      { rollout: twoStep[0], cut: 1, revision: 1 },
      { rollout: twoStep[1], cut: 0, revision: 1 },
      { rollout: twoStep[1], cut: 2, revision: 1 },
    ];
    const key = (rs: Rollout[]): unknown => rs.map((r) => [Array.from(r.ids), Array.from(r.mask), Array.from(r.logprobs), r.finish]);
    const run = async (slots: number, its = items): Promise<Rollout[]> => {
      const dec = await KvDecoder.create(model, { slots, weights: 'int8' });
      try {
        return await regenerate(dec, w.tok, w.retriever, its, opts);
      } finally {
        dec.dispose();
      }
    };
    const batched = await run(3);
    expect(key(await run(1))).toEqual(key(batched));
    for (const [i, r] of batched.entries()) {
      const n = keptTokenCount(items[i].rollout, items[i].cut, w.tok);
      expect(Array.from(r.ids.slice(0, n))).toEqual(Array.from(items[i].rollout.ids.slice(0, n)));
      // The tiny policy's context is 512: a long prefix may leave no room (then the continuation ends truncated).
      if (r.ids.length === n) expect(r.finish).toBe('truncated');
    }
    expect(batched.filter((r, i) => r.ids.length > keptTokenCount(items[i].rollout, items[i].cut, w.tok)).length).toBeGreaterThanOrEqual(2);
    const rev2 = await run(3, items.map((it) => ({ ...it, revision: 2 })));
    expect(key(rev2)).not.toEqual(key(batched));
    // A cut-0 regeneration of revision 1 differs from the original stream's rollout of the same question.
    const dec = await KvDecoder.create(model, { slots: 1, weights: 'int8' });
    const [orig] = (await rollout(dec, w.tok, w.retriever, [{ id: twoStep[1].questionId, question: twoStep[1].question, group: twoStep[1].group }], opts)).rollouts;
    dec.dispose();
    expect(Array.from(orig.ids)).not.toEqual(Array.from(batched[1].ids));
    model.dispose();
  });
});

describe('probeCuts', () => {
  it('gain per valid cut = mean regenerated reward - original reward; null outside', async () => {
    const r = twoStep[0];
    const answer = Array.from(w.tok.encode('<think> done </think> <answer> x </answer>'));
    const model = new ScriptedModel(8, 2048, w.tok, () => answer);
    // Reward: the number of searches (the continuation answers at once, so it keeps the k kept searches).
    const p = await probeCuts(model, w.tok, w.retriever, r, async (x) => x.searches.length, { groupSize: 1, seed: 0, samples: 2 });
    expect(p.originalReward).toBe(2);
    expect(p.samples).toBe(2);
    expect(p.gains).toEqual([-2, -1, 0, null, null]);
    expect(model.firstChunks).toHaveLength(6);
    await expect(probeCuts(model, w.tok, w.retriever, r, async () => 0, { groupSize: 1, seed: 0, samples: 0 })).rejects.toThrow(/samples/);
  });
});
