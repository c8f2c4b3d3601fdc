// The batched rollout engine on a tiny world with BM25 top-3. A scripted policy (a SequenceModel test double that
// emits fixed tokens) drives the tool loop deterministically: demonstrations reproduce the SFT examples token for
// token (ids and masks), searches of a batch go to the retriever together, the 4-search limit forces a final turn
// without search, unparseable actions get the invalid-action observation, the context limit truncates cleanly.
// The real tiny policy (KvDecoder) checks seeding: batched == one at a time == in waves, same seed same rollouts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demonstration } from '../../src/agent/expert.ts';
import { actorPrompt, INVALID_ACTION_OBSERVATION, MAX_SEARCHES } from '../../src/agent/prompts.ts';
import { encodeContinuation, parseAction, type PassageRetriever, rollout, type Rollout } from '../../src/agent/rollout.ts';
import { encodeResponse } from '../../src/agent/sft-data.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { KvDecoder } from '../../src/model/decoder-cache.ts';
import { createPolicy } from '../../src/model/policy.ts';
import { type PolicyTokenizer, SlotMap } from '../../src/text/policy-tokenizer.ts';
import { byPrompt, policyTokens, questionOf, ScriptedModel, tinyWorld } from './agent-fixtures.ts';

let tok: PolicyTokenizer;
let demos: Demonstration[];
let retriever: PassageRetriever;
let ref: Backend;
let wasm: Backend;
/** Every retriever call: the queries it got. */
const calls: string[][] = [];

beforeAll(async () => {
  const w = await tinyWorld(25);
  ({ tok, demos } = w);
  const inner = w.retriever;
  retriever = {
    name: 'spy',
    async search(queries, k) {
      calls.push([...queries]);
      return inner.search(queries, k);
    },
  };
  ref = createCpuReferenceBackend();
  wasm = await createBackend('cpu');
});

afterAll(() => {
  ref?.dispose();
  wasm?.dispose();
});

const enc = (text: string): number[] => Array.from(tok.encode(text));

describe('rollout helpers', () => {
  it("parses a turn's action as Search-R1's regex does", () => {
    expect(parseAction('<think> a </think> <search> x y </search>')).toEqual({ kind: 'search', content: 'x y' });
    expect(parseAction('<answer> Paris </answer>')).toEqual({ kind: 'answer', content: 'Paris' });
    expect(parseAction('<think> a </think> </search>')).toBeNull();
    expect(parseAction('<answer> a <search> b </search>')).toEqual({ kind: 'search', content: 'b' });
    expect(parseAction('<search> q </answer>')).toBeNull();
  });

  it('encodes an observation as it reads after earlier text', () => {
    const obs = encodeContinuation(tok, INVALID_ACTION_OBSERVATION);
    const inContext = tok.encode(`<think> x </think> </search>${INVALID_ACTION_OBSERVATION}`);
    expect(Array.from(inContext.slice(inContext.length - obs.length))).toEqual(Array.from(obs));
  });
});

describe('rollout with a scripted policy', () => {
  it('reproduces demonstrations token for token: ids, masks, passages, answers; one retriever call per search phase', async () => {
    const picked = [...demos.filter((d) => d.steps.length === 2).slice(0, 3), ...demos.filter((d) => d.steps.length === 1).slice(0, 3)];
    expect(picked.length).toBe(6);
    const scripts = new Map(picked.map((d) => [d.question.question, { tokens: policyTokens(tok, d) }]));
    const model = new ScriptedModel(12, 2048, tok, byPrompt(scripts));
    calls.length = 0;
    const { rollouts, stats } = await rollout(model, tok, retriever, picked.map(questionOf), { groupSize: 2, seed: 1 });
    expect(rollouts).toHaveLength(12);
    // Search phase 1: all 12 sequences; phase 2: the 6 two-hop ones.
    expect(calls.map((c) => c.length)).toEqual([12, 6]);
    expect(stats.retrieverCalls).toBe(2);
    rollouts.forEach((r, i) => {
      const d = picked[Math.floor(i / 2)];
      expect(r.questionIndex).toBe(Math.floor(i / 2));
      expect(r.group).toBe(i % 2);
      const want = encodeResponse(tok, d.response, d.observations, new SlotMap());
      expect(Array.from(r.ids)).toEqual(Array.from(want.ids));
      expect(Array.from(r.mask)).toEqual(Array.from(want.mask));
      expect(r.response).toBe(tok.normalize(d.response));
      expect(r.finish).toBe('answer');
      expect(r.answer).toBe(d.answer);
      expect(r.trajectory.valid).toBe(true);
      expect(r.trajectory.steps.map((s) => s.query)).toEqual(d.steps.map((s) => s.query));
      expect(r.searches.map((s) => s.passages.map((p) => p.id))).toEqual(d.steps.map((s) => s.passages.map((p) => p.id)));
      expect(r.truncated || r.forced).toBe(false);
      expect(r.turns).toBe(d.steps.length + 1);
      // Observation tokens: exactly the information blocks, log-prob 0; generated tokens carry the model's log-probs.
      const info = r.segments.filter((s) => s.kind === 'information');
      expect(info.map((s) => [s.start, s.end])).toEqual(r.searches.map((s) => [s.tokens!.start, s.tokens!.end]));
      for (const s of info) {
        expect(r.ids[s.start]).toBe(tok.special.information);
        expect(r.ids[s.end - 1]).toBe(tok.special.informationEnd);
        expect(r.ids[s.start - 1]).toBe(tok.special.searchEnd);
      }
      r.mask.forEach((m, j) => expect(r.logprobs[j]).toBe(m ? -0.25 : 0));
      expect(r.segments.reduce((a, s) => a + s.end - s.start, 0)).toBe(r.ids.length);
    });
    expect(stats.observationTokens + stats.generatedTokens).toBe(rollouts.reduce((a, r) => a + r.ids.length, 0));
  });

  it('allows 4 searches, then forces a final turn without search', async () => {
    const loop = [...Array.from({ length: 6 }, (_, i) => enc(`<think> again </think> <search> capital ${i} </search>`)).flat()];
    const scripts = new Map([
      [demos[0].question.question, { tokens: loop, fallback: enc('<think> enough </think> <answer> forced answer </answer>') }],
      [demos[1].question.question, { tokens: loop }],
    ]);
    const model = new ScriptedModel(4, 2048, tok, byPrompt(scripts));
    calls.length = 0;
    const { rollouts } = await rollout(model, tok, retriever, [questionOf(demos[0]), questionOf(demos[1])], { groupSize: 1, seed: 0 });
    expect(calls.map((c) => c.length)).toEqual([2, 2, 2, 2]);
    const [a, b] = rollouts;
    for (const r of rollouts) {
      expect(r.searches).toHaveLength(MAX_SEARCHES);
      expect(r.forced).toBe(true);
      expect(r.turns).toBe(MAX_SEARCHES + 1);
      expect(r.searches.map((s) => s.query)).toEqual([0, 1, 2, 3].map((i) => `capital ${i}`));
    }
    expect(a.finish).toBe('answer');
    expect(a.answer).toBe('forced answer');
    expect(a.trajectory.steps).toHaveLength(4);
    // Every turn banned the control prompts and the refiner's outputs; only the forced turn also banned <search> and
    // </search> (the script without a fallback could only stop).
    const never = [tok.special.actor, tok.special.judge, tok.special.trim, tok.special.accept, tok.special.reject, ...tok.special.cut];
    expect(model.bans.every((bn) => never.every((t) => bn.includes(t)))).toBe(true);
    expect(model.bans.some((bn) => bn.includes(tok.special.search) && bn.includes(tok.special.searchEnd))).toBe(true);
    expect(model.bans.some((bn) => !bn.includes(tok.special.search))).toBe(true);
    expect(b.finish).toBe('eos');
    expect(b.answer).toBeNull();
  });

  it('inserts the invalid-action observation for an unparseable action and for a turn without a stop token', async () => {
    const scripts = new Map([
      [demos[0].question.question, { tokens: enc('<think> hmm </think> </search> <think> ok </think> <answer> Paris </answer>') }],
      [demos[1].question.question, { tokens: enc(`<think> ${'la '.repeat(100)}</think> <answer> x </answer>`) }],
    ]);
    const model = new ScriptedModel(2, 2048, tok, byPrompt(scripts));
    calls.length = 0;
    const { rollouts } = await rollout(model, tok, retriever, [questionOf(demos[0]), questionOf(demos[1])], {
      groupSize: 1, seed: 0, maxTurnTokens: 12,
    });
    expect(calls).toHaveLength(0);
    const [a, b] = rollouts;
    expect(a.invalidActions).toBe(1);
    expect(a.finish).toBe('answer');
    expect(a.answer).toBe('Paris');
    expect(a.response).toContain(tok.normalize(INVALID_ACTION_OBSERVATION));
    const inv = a.segments.filter((s) => s.kind === 'invalid');
    expect(inv).toHaveLength(1);
    expect(Array.from(a.ids.slice(inv[0].start, inv[0].end))).toEqual(Array.from(encodeContinuation(tok, INVALID_ACTION_OBSERVATION)));
    for (let j = inv[0].start; j < inv[0].end; j++) expect(a.mask[j]).toBe(0);
    // 12-token turns: the long think never stops, each turn is invalid, the last allowed turn is forced and ends it.
    expect(b.invalidActions).toBe(MAX_SEARCHES + 1);
    expect(b.turns).toBe(MAX_SEARCHES + 2);
    expect(b.forced).toBe(true);
    expect(b.finish).toBe('no-answer');
    expect(b.segments.filter((s) => s.kind === 'policy').every((s) => s.end - s.start === 12)).toBe(true);
  });

  it('ends a sequence at the context limit, marked truncated, while the batch carries on', async () => {
    const long = demos.find((d) => d.steps.length === 2) as Demonstration;
    const short = demos.find((d) => d !== long) as Demonstration;
    const scripts = new Map([
      [long.question.question, { tokens: policyTokens(tok, long) }],
      [short.question.question, { tokens: enc('<think> easy </think> <answer> y </answer>') }],
    ]);
    const promptLength = (d: Demonstration): number => 1 + tok.encode(actorPrompt(d.question.question)).length;
    const context = Math.max(promptLength(long), promptLength(short)) + 60;
    const model = new ScriptedModel(4, 2048, tok, byPrompt(scripts));
    const { rollouts } = await rollout(model, tok, retriever, [questionOf(long), questionOf(short)], { groupSize: 2, seed: 0, context });
    for (const r of rollouts.slice(0, 2)) {
      expect(r.truncated).toBe(true);
      expect(r.finish).toBe('truncated');
      expect(r.promptIds.length + r.ids.length).toBeLessThanOrEqual(context);
      expect(r.mask.every((m) => m === 1)).toBe(true);
      expect(r.searches.length).toBeGreaterThanOrEqual(1);
      expect(r.searches.at(-1)?.tokens).toBeNull();
      expect(r.answer).toBeNull();
    }
    for (const r of rollouts.slice(2)) {
      expect(r.finish).toBe('answer');
      expect(r.answer).toBe('y');
    }
    // A prompt longer than the context: truncated before any token.
    const tiny = await rollout(new ScriptedModel(1, 2048, tok, () => ({ tokens: [] })), tok, retriever, [questionOf(long)], {
      groupSize: 1, seed: 0, context: 10,
    });
    expect(tiny.rollouts[0].truncated).toBe(true);
    expect(tiny.rollouts[0].ids.length).toBe(0);
  });
});

describe('rollout with the tiny policy (KV-cache decoder)', () => {
  const opts = { groupSize: 3, seed: 42, maxTurnTokens: 10, maxTurns: 3, temperature: 1, topP: 1 };
  const key = (rs: Rollout[]): unknown => rs.map((r) => [Array.from(r.ids), Array.from(r.mask), Array.from(r.logprobs), r.finish, r.turns]);

  it.each([
    ['reference', 'fp32'],
    ['reference', 'int8'],
    ['wasm', 'int8'],
  ] as const)('same seed, same rollouts: batched, one at a time and in waves (%s, %s)', async (backend, weights) => {
    const ops = (backend === 'reference' ? ref : wasm).ops;
    const model = createPolicy(ops, 'tiny', tok.size, 3);
    const qs = demos.slice(0, 2).map(questionOf);
    const run = async (slots: number, seed = opts.seed): Promise<Rollout[]> => {
      const dec = await KvDecoder.create(model, { slots, weights });
      try {
        return (await rollout(dec, tok, retriever, qs, { ...opts, seed })).rollouts;
      } finally {
        dec.dispose();
      }
    };
    const batched = await run(6);
    expect(key(await run(1))).toEqual(key(batched));
    expect(key(await run(4))).toEqual(key(batched));
    expect(key(await run(6))).toEqual(key(batched));
    expect(key(await run(6, 43))).not.toEqual(key(batched));
    for (const r of batched) {
      expect(r.promptIds.length + r.ids.length).toBeLessThanOrEqual(512);
      r.mask.forEach((m, j) => {
        if (m) expect(r.logprobs[j]).toBeLessThan(0);
        else expect(r.logprobs[j]).toBe(0);
      });
    }
    // The two rollouts of a group differ (their own streams).
    expect(Array.from(batched[0].ids)).not.toEqual(Array.from(batched[1].ids));
    model.dispose();
  });

  it('truncates cleanly at a small context', async () => {
    const model = createPolicy(wasm.ops, 'tiny', tok.size, 4);
    const dec = await KvDecoder.create(model, { slots: 6, weights: 'int8', context: 90 });
    const { rollouts } = await rollout(dec, tok, retriever, demos.slice(0, 2).map(questionOf), { ...opts, maxTurns: 6 });
    expect(rollouts.some((r) => r.truncated)).toBe(true);
    for (const r of rollouts) expect(r.promptIds.length + r.ids.length).toBeLessThanOrEqual(90);
    dec.dispose();
    model.dispose();
  });
});
