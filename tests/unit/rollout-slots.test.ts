// Rollouts with an entity-slot tokenizer (policy-tokenizer.ts "Slots"): one SlotMap per sequence across its prompt,
// its generated turns and its observations, so a scripted Actor reproduces the SFT demonstrations token for token;
// the ids of slots the sequence has not been given are banned; cut-and-regenerate continues with the prefix's slots.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Demonstration } from '../../src/agent/expert.ts';
import { actorPrompt } from '../../src/agent/prompts.ts';
import { rollout } from '../../src/agent/rollout.ts';
import { cutRollout, regenerate } from '../../src/refiner/regenerate.ts';
import { SlotMap } from '../../src/text/policy-tokenizer.ts';
import { IDS_PER_SLOT } from '../../src/text/policy-vocab.ts';
import { demoResponse, policyTokens, questionOf, ScriptedModel, tinyWorld, type TinyWorld } from './agent-fixtures.ts';

let w: TinyWorld;
/** Two-step demonstrations whose prompts differ even with their names as slots. */
let picked: Demonstration[];
/** The prompt's text as a model sees it without the map (names as @k): what the scripted model matches on. */
const promptKey = (d: Demonstration): string => w.tok.decode(w.tok.encode(actorPrompt(d.question.question), new SlotMap()));

function scriptFor(scripts: Map<string, number[]>): (first: string) => number[] {
  return (first) => {
    for (const [k, s] of scripts) if (first.startsWith(k)) return s;
    throw new Error(`no script for ${first}`);
  };
}

beforeAll(async () => {
  w = await tinyWorld(25, 16);
  const seen = new Set<string>();
  picked = [];
  for (const d of w.demos.filter((x) => x.steps.length === 2)) {
    const k = promptKey(d);
    if (seen.has(k) || [...seen].some((s) => s.startsWith(k) || k.startsWith(s))) continue;
    seen.add(k);
    picked.push(d);
    if (picked.length === 3) break;
  }
  expect(picked.length).toBeGreaterThanOrEqual(2);
});

describe('rollout with entity slots', () => {
  it('reproduces the demonstrations token for token, with the names of the slots it read', async () => {
    const model = new ScriptedModel(4, 2048, w.tok, scriptFor(new Map(picked.map((d) => [promptKey(d), policyTokens(w.tok, d)]))));
    const { rollouts } = await rollout(model, w.tok, w.retriever, picked.map(questionOf), { groupSize: 1, seed: 0 });
    rollouts.forEach((r, i) => {
      const d = picked[i];
      const want = demoResponse(w.tok, d);
      expect(Array.from(r.ids)).toEqual(Array.from(want.ids));
      expect(Array.from(r.mask)).toEqual(Array.from(want.mask));
      expect(r.ids.some((id) => w.tok.isSlot(id))).toBe(true);
      expect(r.slotNames).toEqual(want.slots.names);
      expect(r.response).toBe(w.tok.normalize(d.response));
      expect(r.answer).toBe(d.answer);
      expect(r.searches.map((s) => s.query)).toEqual(d.executed.map((e) => e.query));
    });
    // Every generation step banned the slots not yet given, and only those.
    for (const ban of model.bans) {
      const slotIds = ban.filter((id) => w.tok.isSlot(id)).sort((a, b) => a - b);
      expect(slotIds.length % IDS_PER_SLOT).toBe(0);
      if (slotIds.length > 0) expect(slotIds.at(-1)).toBe(w.tok.size - 1);
      slotIds.forEach((id, j) => expect(id).toBe(slotIds[0] + j));
    }
  });

  it('never writes a slot its sequence has not been given (the scripted model falls back)', async () => {
    const d = picked[0];
    const given = new SlotMap();
    w.tok.encode(actorPrompt(d.question.question), given);
    const ungiven = w.tok.slotBase + IDS_PER_SLOT * (w.tok.slots - 1);
    const tokens = [...Array.from(w.tok.encode('<think> so </think> <answer>')), ungiven, w.tok.special.answerEnd];
    const fallback = Array.from(w.tok.encode(' none </answer>'));
    const model = new ScriptedModel(1, 2048, w.tok, () => ({ tokens, fallback }));
    const [r] = (await rollout(model, w.tok, w.retriever, [questionOf(d)], { groupSize: 1, seed: 0 })).rollouts;
    expect(Array.from(r.ids)).not.toContain(ungiven);
    expect(r.answer).toBe('none');
    expect(r.slotNames).toEqual(given.names);
  });

  it('cuts on decoded names and regenerates from the prefix with its slots, reproducing the original', async () => {
    const d = picked[0];
    const all = policyTokens(w.tok, d);
    const first = new ScriptedModel(1, 2048, w.tok, () => all);
    const [o] = (await rollout(first, w.tok, w.retriever, [questionOf(d)], { groupSize: 1, seed: 0 })).rollouts;
    for (const k of [1, 2]) {
      const c = cutRollout(o, k, w.tok);
      expect(c.prefix.slotNames).toEqual(o.slotNames);
      expect(w.tok.decode(c.prefix.ids, new SlotMap(o.slotNames))).toBe(c.keptText);
      const kept = c.prefix.mask.reduce((a, m) => a + m, 0);
      const model = new ScriptedModel(1, 2048, w.tok, () => all.slice(kept));
      const [g] = await regenerate(model, w.tok, w.retriever, [{ rollout: o, cut: k, revision: 1 }], { groupSize: 1, seed: 0 });
      expect(Array.from(g.ids)).toEqual(Array.from(o.ids));
      expect(g.slotNames).toEqual(o.slotNames);
      expect(g.response).toBe(o.response);
    }
  });
});
