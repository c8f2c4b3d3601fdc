// DAgger recovery examples (src/agent/dagger.ts) on the tiny world: the expert's decision from a state (the first
// hop whose passage is missing; the answer when none is; nothing when the searches are used up), no example from a
// rollout that followed the expert throughout, and a round with an untrained tiny policy whose examples keep the
// policy's own prefix masked and train exactly the expert's continuation; the sampler's extra Actor share; and
// `cli pretrain --dagger`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expertContinuation, recoveryExamples, recoveryRound, type RecoveryStats } from '../../src/agent/dagger.ts';
import type { Demonstration, ExpertContext } from '../../src/agent/expert.ts';
import { actorPrompt } from '../../src/agent/prompts.ts';
import { corpusRetriever, type Rollout, type RolloutSegment } from '../../src/agent/rollout.ts';
import { SftSampler } from '../../src/agent/sft-batch.ts';
import { actorExample, encodeResponse, type SftExample } from '../../src/agent/sft-data.ts';
import { parseTrajectory } from '../../src/agent/trajectory.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { createPolicy } from '../../src/model/policy.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { type PolicyTokenizer, SlotMap } from '../../src/text/policy-tokenizer.ts';
import type { LoadedWorld } from '../../src/world/format.ts';
import { runCli } from './cli-capture.ts';
import { type ExpertFixture, tinyExpertFixture } from './expert-fixture.ts';

let fx: ExpertFixture;
let dir: string;
let world: LoadedWorld;
let ctx: ExpertContext;
let tok: PolicyTokenizer;
let demos: Demonstration[];
let be: Backend;

beforeAll(async () => {
  be = await createBackend('cpu');
  fx = await tinyExpertFixture('dagger-', 30);
  ({ dir, world, ctx, tok, demos } = fx);
});

afterAll(() => {
  be?.dispose();
  fx?.dispose();
});

const multiHop = (): Demonstration => {
  const d = demos.find((x) => x.plan.kind === 'chain' && x.plan.hops.length >= 2);
  if (!d) throw new Error('no two-hop demonstration in the tiny world');
  return d;
};

/** A Rollout that wrote exactly the expert's demonstration (its tokens, segments and searches). */
function expertRollout(demo: Demonstration): Rollout {
  const { ids, mask } = encodeResponse(tok, demo.response, demo.observations, new SlotMap());
  const segments: RolloutSegment[] = [];
  for (let i = 0; i < ids.length; i++) {
    const kind = mask[i] === 1 ? 'policy' : 'information';
    const last = segments.at(-1);
    if (last && last.kind === kind) last.end = i + 1;
    else segments.push({ kind, start: i, end: i + 1 });
  }
  const blocks = segments.filter((s) => s.kind === 'information');
  return {
    questionIndex: 0,
    questionId: demo.question.id,
    question: demo.question.question,
    group: 0,
    promptIds: Int32Array.from([tok.special.bos, ...tok.encode(actorPrompt(demo.question.question))]),
    ids,
    mask,
    logprobs: new Float32Array(ids.length),
    segments,
    response: demo.response,
    slotNames: [],
    trajectory: parseTrajectory(demo.response),
    answer: demo.answer,
    searches: demo.executed.map((e, i) => ({ query: e.query, passages: e.passages.map((p) => ({ id: p.id, contents: p.contents, score: 1 })), tokens: blocks[i] })),
    turns: demo.steps.length + 1,
    invalidActions: 0,
    truncated: false,
    forced: false,
    finish: 'answer',
  };
}

describe('expertContinuation', () => {
  it('continues from the next hop not completed (one per search), answers when all are, gives up when the searches are used up', () => {
    const d = multiHop();
    const n = d.plan.hops.length;
    const none = expertContinuation(d, []);
    expect(none?.hop).toBe(0);
    expect(none?.response).toBe(d.response);
    const first = expertContinuation(d, [[d.plan.hops[0].target, 'some-other-passage']]);
    expect(first?.hop).toBe(1);
    expect(first?.response.startsWith(`<think> ${d.steps[1].think} </think> <search> ${d.steps[1].query} </search>`)).toBe(true);
    expect(parseTrajectory(first?.response ?? '').steps).toHaveLength(n - 1);
    // One search that retrieved the first two hops' passages completes only the first (as the expert counts).
    expect(expertContinuation(d, [[d.plan.hops[0].target, d.plan.hops[1].target]])?.hop).toBe(1);
    // ... and a later search, whatever it found, completes the second.
    expect(expertContinuation(d, [[d.plan.hops[0].target, d.plan.hops[1].target], []])?.hop).toBe(2);
    // Only the second hop's passage seen: the first hop is still next.
    expect(expertContinuation(d, [[d.plan.hops[1].target]])?.hop).toBe(0);
    const all = expertContinuation(d, d.plan.hops.map((h) => [h.target]));
    expect(all?.hop).toBe(n);
    expect(all?.response).toBe(`<think> ${d.finalThink} </think> <answer> ${d.answer} </answer>`);
    // n hops missing with fewer than n searches left: the engine would force an answer the expert cannot give.
    const wasted = (k: number): string[][] => Array.from({ length: k }, () => ['nothing']);
    expect(expertContinuation(d, wasted(4 - n + 1))).toBeNull();
    expect(expertContinuation(d, wasted(4 - n))?.hop).toBe(0);
  });

  it('refuses a failed demonstration', () => {
    const d = multiHop();
    expect(expertContinuation({ ...d, found: false }, [])).toBeNull();
  });
});

describe('recoveryExamples', () => {
  it('a rollout that followed the expert throughout gives none', () => {
    const stats: RecoveryStats = { rollouts: 0, onExpert: 0, examples: 0, skippedForced: 0 };
    for (const d of demos) expect(recoveryExamples(tok, expertRollout(d), d, {}, stats)).toEqual([]);
    expect(stats).toEqual({ rollouts: demos.length, onExpert: demos.length, examples: 0, skippedForced: 0 });
  });

  it('after a wrong first search, the expert restarts the plan from the state the policy reached', () => {
    const d = multiHop();
    const roll = expertRollout(d);
    // The policy's first search found nothing the plan needs: replace its passages with an unrelated one.
    const other = world.corpus.find((p) => !d.plan.hops.some((h) => h.target === p.id));
    if (!other) throw new Error('no unrelated passage');
    roll.searches[0] = { ...roll.searches[0], passages: [{ id: other.id, contents: other.contents, score: 1 }] };
    // Its first turn wrote another query.
    const turn = roll.segments[0];
    const wrong = tok.encode('<think> I need something. </think> <search> something </search>');
    const ids = Int32Array.from([...wrong, ...roll.ids.subarray(turn.end)]);
    const shift = wrong.length - (turn.end - turn.start);
    const moved = roll.segments.map((s, i) => (i === 0 ? { ...s, end: wrong.length } : { ...s, start: s.start + shift, end: s.end + shift }));
    const blocks = moved.filter((s) => s.kind === 'information');
    const deviated: Rollout = { ...roll, ids, mask: Uint8Array.from(ids, (_, i) => (moved.some((s) => s.kind === 'policy' && i >= s.start && i < s.end) ? 1 : 0)), segments: moved, searches: roll.searches.map((s, i) => ({ ...s, tokens: blocks[i] })) };
    const stats: RecoveryStats = { rollouts: 0, onExpert: 0, examples: 0, skippedForced: 0 };
    const xs = recoveryExamples(tok, deviated, d, { maxPerRollout: 5 }, stats);
    expect(xs.length).toBeGreaterThan(0);
    const [x] = xs;
    // Prefix: the prompt and the policy's first turn and observation, all masked.
    const prefixLen = deviated.promptIds.length + blocks[0].end;
    expect(x.promptLength).toBe(prefixLen);
    expect(Array.from(x.ids.subarray(0, prefixLen))).toEqual([...deviated.promptIds, ...deviated.ids.subarray(0, blocks[0].end)]);
    expect(x.mask.subarray(0, prefixLen).every((m) => m === 0)).toBe(true);
    // Target: the whole demonstration (hop 1 was not found), trained exactly as its own Actor example trains it.
    const own = actorExample(tok, d);
    expect(Array.from(x.ids.subarray(prefixLen))).toEqual(Array.from(own.ids.subarray(own.promptLength)));
    expect(Array.from(x.mask.subarray(prefixLen))).toEqual(Array.from(own.mask.subarray(own.promptLength)));
    expect(stats.onExpert).toBe(0);
    expect(stats.examples).toBe(xs.length);
    expect(() => recoveryExamples(tok, { ...deviated, questionId: 'other' }, d)).toThrow(/rollout of other against the demonstration of/);
  });
});

describe('recoveryRound', () => {
  it('an untrained tiny policy deviates at once; its examples train the expert continuation after its own masked turns; seeded', async () => {
    const model = createPolicy(be.ops, 'tiny', tok.size, 3);
    try {
      const qs = demos.slice(0, 6).map((d) => d.question);
      const retriever = corpusRetriever(createBm25Retriever(world.corpus), world.corpus);
      const a = await recoveryRound(model, tok, retriever, ctx, qs, { seed: 5, slots: 6 });
      const b = await recoveryRound(model, tok, retriever, ctx, qs, { seed: 5, slots: 6 });
      expect(a.stats.rollouts).toBe(6);
      expect(a.examples.length).toBeGreaterThan(0);
      expect(a.examples.length).toBeLessThanOrEqual(12);
      expect(b.examples.map((x) => Array.from(x.ids))).toEqual(a.examples.map((x) => Array.from(x.ids)));
      for (const x of a.examples) {
        const d = demos.find((y) => y.question.id === x.questionId) as Demonstration;
        expect(x.role).toBe('actor');
        expect(x.mask.subarray(0, x.promptLength).every((m) => m === 0)).toBe(true);
        // The trained tokens read as the expert's continuation: its steps' think/search text and the answer.
        // The trained tokens are the expert's continuation from one of its hops: a suffix of its Actor example.
        const own = actorExample(tok, d);
        const tail = Array.from(x.ids.subarray(x.promptLength));
        expect(Array.from(own.ids.subarray(own.ids.length - tail.length))).toEqual(tail);
        expect(Array.from(own.mask.subarray(own.mask.length - tail.length))).toEqual(Array.from(x.mask.subarray(x.promptLength)));
        expect(tok.decode(x.ids.subarray(x.promptLength)).trimStart().startsWith('<think>')).toBe(true);
      }
    } finally {
      model.dispose();
    }
  });
});

describe('SftSampler.addActorExtra', () => {
  const ex = (id: string, n: number): SftExample => ({ role: 'actor', questionId: id, ids: new Int32Array(n).fill(5), mask: new Uint8Array(n).fill(1), promptLength: 0, target: null, label: 'good', correct: true, cut: null });
  it('draws the share asked for of the Actor examples from the extra set, seeded; rejects a bad share or role', () => {
    const base = Array.from({ length: 40 }, (_, i) => ex(`a${i}`, 8));
    const extra = Array.from({ length: 10 }, (_, i) => ex(`x${i}`, 8));
    const mk = (): SftSampler => new SftSampler({ actor: base, judge: [], trim: [] }, { seed: 1, mix: { actor: 1, judge: 0, trim: 0 }, roundExamples: 20, tokenBudget: 1 << 20 });
    const s = mk();
    s.addActorExtra(extra, 0.25);
    const round = s.next();
    expect(round).toHaveLength(20);
    expect(round.filter((x) => x.questionId.startsWith('x'))).toHaveLength(5);
    const t = mk();
    t.addActorExtra(extra, 0.25);
    expect(t.next().map((x) => x.questionId)).toEqual(round.map((x) => x.questionId));
    expect(() => s.addActorExtra(extra, 1.5)).toThrow(/extra share must be in \[0, 1\]/);
    expect(() => s.addActorExtra([{ ...extra[0], role: 'judge' }], 0.5)).toThrow(/must be Actor examples/);
  });
  it('aggregates a later round with the earlier ones (DAgger) and takes its share', () => {
    const base = Array.from({ length: 40 }, (_, i) => ex(`a${i}`, 8));
    const s = new SftSampler({ actor: base, judge: [], trim: [] }, { seed: 2, mix: { actor: 1, judge: 0, trim: 0 }, roundExamples: 20, tokenBudget: 1 << 20 });
    s.addActorExtra([ex('x0', 8), ex('x1', 8)], 0.1);
    s.addActorExtra([ex('y0', 8), ex('y1', 8)], 0.5);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const round = s.next();
      const extra = round.filter((x) => !x.questionId.startsWith('a'));
      expect(extra).toHaveLength(10);
      for (const x of extra) seen.add(x.questionId);
    }
    expect([...seen].sort()).toEqual(['x0', 'x1', 'y0', 'y1']);
  });
});

describe('cli pretrain --dagger', () => {
  it('rolls out mid-run at each round, trains on the recovery examples, reports them and puts them in the command', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dagger-pretrain-'));
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', join(dir, 'world'), '--steps', '4', '--questions', '12', '--warmup', '1', '--dagger', '0.5,0.75', '--dagger-questions', '4', '--out', out]);
    expect(r.code).toBe(0);
    type Round = { at_step: number; rollouts: number; examples: number; examples_kept: number };
    const summary = r.last as unknown as { dagger: { share: number; rounds: Round[] } };
    expect(summary.dagger.share).toBe(0.5);
    expect(summary.dagger.rounds.map((x) => x.at_step)).toEqual([2, 3]);
    for (const x of summary.dagger.rounds) {
      expect(x.rollouts).toBeGreaterThan(0);
      expect(x.rollouts).toBeLessThanOrEqual(4);
      expect(x.examples_kept).toBeLessThanOrEqual(x.examples);
    }
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--dagger 0.5,0.75 --dagger-share 0.5 --dagger-questions 4');
    rmSync(out, { recursive: true, force: true });
  });
  it('refuses --minutes, shares outside (0, 1), rounds out of order and two rounds on one step', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dagger-pretrain-bad-'));
    const base = ['pretrain', '--preset', 'tiny', '--world', join(dir, 'world'), '--questions', '12', '--out', out];
    const cases: [string[], RegExp][] = [
      [['--minutes', '1', '--dagger', '0.5'], /--dagger needs --steps/],
      [['--steps', '4', '--dagger', '1'], /ascending shares of the steps in \(0, 1\)/],
      [['--steps', '4', '--dagger', '0.8,0.5'], /ascending shares/],
      [['--steps', '4', '--dagger', '0.5,x'], /ascending shares/],
      [['--steps', '4', '--dagger', '0.5,0.55'], /two rounds fall on the same step of 4/],
    ];
    for (const [extra, message] of cases) {
      const bad = await runCli([...base, ...extra]);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toMatch(message);
    }
    rmSync(out, { recursive: true, force: true });
  });
});
