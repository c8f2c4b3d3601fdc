// The scripted expert on a tiny world with BM25 top-3: demonstrations in the DESIGN 4.1 format, the expert's EM,
// flawed variants with their earliest flawed step, the prompts, and the SFT sets (masks, balance, determinism).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpertContext, type Demonstration, executePlan, type ExpertContext, planQuestion } from '../../src/agent/expert.ts';
import { FLAW_KINDS, type FlawedTrajectory, flawedVariant, type FlawKind } from '../../src/agent/flaws.ts';
import {
  actorPrompt, INVALID_ACTION_OBSERVATION, judgePrompt, keptPrefix, MAX_SEARCHES, numberedSteps, trimPrompt, validCuts,
} from '../../src/agent/prompts.ts';
import { readRelation } from '../../src/agent/reader.ts';
import { buildSftData, buildWorldTokenizer, type SftData } from '../../src/agent/sft-data.ts';
import { parseTrajectory } from '../../src/agent/trajectory.ts';
import { Rng } from '../../src/engine/rng.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { exactMatch } from '../../src/reward/em.ts';
import { extractAnswer } from '../../src/reward/extract.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import { normalizePolicyText } from '../../src/text/policy-vocab.ts';
import { buildWorld } from '../../src/world/build.ts';
import { readWorld, type LoadedWorld, writeWorld } from '../../src/world/format.ts';
import { streamSeed } from '../../src/world/random.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { Question } from '../../src/world/types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from '../../src/world/types.ts';

let dir: string;
let world: LoadedWorld;
let all: Question[];
let train: Question[];
let ctx: ExpertContext;
let tok: PolicyTokenizer;
const demos = new Map<string, Demonstration>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-'));
  writeWorld(join(dir, 'world'), buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world);
  world = readWorld(join(dir, 'world'));
  all = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  train = TRAINING_SPLITS.flatMap((s) => world.questions[s].train);
  ctx = createExpertContext(world.corpus, createBm25Retriever(world.corpus), all);
  tok = buildWorldTokenizer(world.corpus, all);
  for (const q of train) {
    const plan = planQuestion(q, ctx.view);
    if (plan) demos.set(q.id, await executePlan(plan, ctx.search, ctx.pool, new Rng(streamSeed(0, q.id))));
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('prompts', () => {
  it('the Actor prompt is DESIGN 4.1 wording, with a question mark added when missing', () => {
    expect(actorPrompt('what is the capital of chad')).toBe(
      '<actor> Answer the question. Think inside <think></think>; to search, write <search> query </search> and read the top passages between <information> and </information>; give the final answer inside <answer></answer>. Question: what is the capital of chad?',
    );
    expect(actorPrompt(' Which one? ')).toMatch(/Question: Which one\?$/);
  });

  it('the invalid-action observation holds no tag and does not confuse the parser', () => {
    expect(INVALID_ACTION_OBSERVATION).not.toMatch(/[<>]/);
    const resp = `<think> hm </think> <serch> x </serch>${INVALID_ACTION_OBSERVATION}<think> ok </think> <answer> Paris </answer>`;
    const t = parseTrajectory(resp);
    expect(t.steps).toHaveLength(0);
    expect(t.answer).toBe('Paris');
    expect(extractAnswer(resp)).toBe('Paris');
  });

  it('judge and trim prompts carry the question and the trajectory; trim numbers the steps', () => {
    const d = [...demos.values()].find((x) => x.found && x.steps.length === 2) as Demonstration;
    const q = d.question.question;
    expect(judgePrompt(q, d.response).startsWith('<judge> ')).toBe(true);
    expect(judgePrompt(q, d.response)).toContain(d.response.trim());
    const t = trimPrompt(q, d.response);
    expect(t.startsWith('<trim> ')).toBe(true);
    expect(numberedSteps(d.response)).toMatch(/^Step 1: <think> .*Step 2: <think> .*Step 3: <think> .*<answer>/s);
    expect(validCuts(d.response)).toEqual([0, 1, 2]);
    expect(keptPrefix(d.response, 0)).toBe('');
    expect(parseTrajectory(keptPrefix(d.response, 1)).steps).toHaveLength(1);
  });
});

describe('expert demonstrations', () => {
  it('parse into one step per hop, valid, with the retrieved top-3 as information and the answer last', () => {
    let found = 0;
    for (const d of demos.values()) {
      const t = parseTrajectory(d.response);
      expect(t.valid, `${d.question.id}: ${t.issues.join('; ')}`).toBe(true);
      expect(t.answer).toBe(d.answer);
      expect(extractAnswer(d.response)).toBe(d.answer);
      expect(t.steps).toHaveLength(d.steps.length);
      t.steps.forEach((s, i) => {
        expect(s.query).toBe(d.steps[i].query);
        expect(s.information).toMatch(/^Doc 1\(Title: "/);
        expect((s.information ?? '').match(/Doc \d\(Title: /g)).toHaveLength(d.steps[i].passages.length);
        expect(d.steps[i].passages.length).toBe(3);
        expect(s.reasoning.length).toBeGreaterThan(0);
        expect(s.query).not.toMatch(/[<>]/);
      });
      if (d.found) {
        found++;
        expect(t.steps).toHaveLength(d.question.hops);
        // every hop's supporting passage is in its step's information
        d.question.supporting_ids.forEach((id, i) => expect(d.steps[i].passages.map((p) => p.id)).toContain(id));
        expect(exactMatch(d.answer, d.question.golden_answers)).toBe(1);
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('reports its EM per training family with BM25 top-3 (> 0.5 on one-hop NQ-like)', () => {
    const rows: string[] = [];
    for (const split of TRAINING_SPLITS) {
      const qs = world.questions[split].train;
      const ds = qs.map((q) => demos.get(q.id)).filter((d): d is Demonstration => d !== undefined);
      const em = ds.filter((d) => d.correct).length / qs.length;
      const primary = ds.filter((d) => d.primaryFound).length / qs.length;
      rows.push(`${split}: EM ${em.toFixed(3)} (plan's own queries found every supporting passage: ${primary.toFixed(3)}) over ${qs.length}`);
      if (split === 'nq') expect(em).toBeGreaterThan(0.5);
    }
    console.log(`expert on the tiny world, BM25 top-3: ${rows.join('; ')}`);
  });

  it('plans most questions of every split, never leaking the answer into a query', async () => {
    for (const split of SPLITS) {
      const qs = [...world.questions[split].dev, ...world.questions[split].test];
      let planned = 0;
      for (const q of qs) {
        const plan = planQuestion(q, ctx.view);
        if (!plan) continue;
        planned++;
        const d = await executePlan(plan, ctx.search, ctx.pool, new Rng(1));
        expect(parseTrajectory(d.response).valid).toBe(true);
        expect(d.steps.length).toBeLessThanOrEqual(MAX_SEARCHES);
        // (An answer may share its name with a bridge entity: "New York" the city, part of New York the state.)
        const bridges = plan.hops.map((h) => h.subject.toLowerCase());
        if (plan.kind === 'chain' && q.family !== 'one-hop' && q.family !== 'long-tail')
          for (const s of d.steps)
            for (const g of q.golden_answers)
              if (g.length > 3 && !bridges.some((b) => b.includes(g.toLowerCase()))) expect(s.query.toLowerCase()).not.toContain(g.toLowerCase());
      }
      expect(planned / qs.length, split).toBeGreaterThan(0.8);
    }
  });
});

describe('flawed variants', () => {
  const variants = new Map<FlawKind, FlawedTrajectory[]>();
  beforeAll(async () => {
    for (const kind of FLAW_KINDS) variants.set(kind, []);
    for (const d of demos.values()) {
      if (!d.found) continue;
      for (const kind of FLAW_KINDS) {
        const f = await flawedVariant(kind, d, ctx, new Rng(streamSeed(1, `${kind}:${d.question.id}`)));
        if (f) variants.get(kind)?.push(f);
      }
    }
  });

  it('each kind applies, parses, and keeps exactly the sound steps before its earliest flawed step', () => {
    for (const kind of FLAW_KINDS) {
      const fs = variants.get(kind) ?? [];
      expect(fs.length, kind).toBeGreaterThan(kind === 'lookalike' ? 0 : 50);
      for (const f of fs) {
        const t = parseTrajectory(f.response);
        const d = demos.get(f.question.id) as Demonstration;
        expect(t.valid, `${kind} ${f.question.id}: ${t.issues.join('; ')}`).toBe(true);
        expect(t.steps.length).toBeLessThanOrEqual(MAX_SEARCHES);
        expect(f.cut).toBe(f.earliestFlawedStep - 1);
        expect(f.earliestFlawedStep).toBeGreaterThanOrEqual(1);
        expect(f.earliestFlawedStep).toBeLessThanOrEqual(t.steps.length + 1);
        expect(validCuts(f.response)).toContain(f.cut);
        // The kept prefix is the expert's own, and the step after it differs from the expert's.
        expect(keptPrefix(f.response, f.cut)).toBe(keptPrefix(d.response, f.cut));
        const fStep = f.earliestFlawedStep <= t.steps.length ? f.response.slice(t.steps[f.cut].span.start, t.steps[f.cut].span.end) : f.response.slice(t.finalSpan.start);
        const dt = parseTrajectory(d.response);
        const dStep = f.cut < dt.steps.length ? d.response.slice(dt.steps[f.cut].span.start, dt.steps[f.cut].span.end) : d.response.slice(dt.finalSpan.start);
        expect(fStep, `${kind} ${f.detail}`).not.toBe(dStep);
        expect(f.correct).toBe(exactMatch(extractAnswer(f.response) ?? '', f.question.golden_answers) === 1);
      }
    }
  });

  it('look-alike: reads a same-name passage of another entity at the flawed step and answers wrong', () => {
    for (const f of variants.get('lookalike') ?? []) {
      expect(f.correct).toBe(false);
      const d = demos.get(f.question.id) as Demonstration;
      const at = f.lookalike?.step ?? 0;
      const target = ctx.view.get(d.plan.hops[at - 1].target);
      const step = f.steps[at - 1];
      // Retrieved without the right passage: that step is the flawed one; retrieved beside it: the reading after.
      const misread = step.passages.some((p) => p.id === target.id);
      expect(f.earliestFlawedStep).toBe(misread ? at + 1 : at);
      const lookalike = step.passages.find((p) => p.id === f.lookalike?.passageId);
      expect(lookalike, f.detail).toBeDefined();
      expect(lookalike?.name === target.name || ctx.view.lookalikeCountries(target.name).some((c) => c.id === lookalike?.id)).toBe(true);
      if (target.kind === 'city' && lookalike) expect(readRelation(target, 'located_in', ctx.view)).not.toEqual(readRelation(lookalike, 'located_in', ctx.view));
    }
  });

  it('vague: the flawed query drops the entity and misses the hop passage; redundant repeats the query; early answers before the last hop', () => {
    for (const f of variants.get('vague') ?? []) {
      const d = demos.get(f.question.id) as Demonstration;
      const hop = d.plan.hops[f.cut];
      expect(f.steps[f.cut].query.includes(hop.subject)).toBe(false);
      expect(f.steps[f.cut].passages.map((p) => p.id)).not.toContain(hop.target);
      if (f.detail.startsWith('vague:recover')) expect(f.correct).toBe(true);
    }
    for (const f of variants.get('redundant') ?? []) {
      const k = f.earliestFlawedStep;
      expect(f.steps[k - 1].query).toBe(f.steps[k - 2].query);
      expect(f.steps[k - 1].passages).toEqual(f.steps[k - 2].passages);
      expect(f.correct).toBe(true);
    }
    for (const f of variants.get('early') ?? []) {
      const d = demos.get(f.question.id) as Demonstration;
      expect(f.steps.length).toBe(f.cut);
      expect(f.steps.length).toBeLessThan(d.steps.length);
      expect(f.earliestFlawedStep).toBe(f.steps.length + 1);
      expect(f.correct).toBe(false);
    }
  });
});

describe('SFT data', () => {
  let data: SftData;
  beforeAll(async () => {
    data = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 5 });
  });

  it('Actor: loss mask covers exactly the response tokens outside <information> blocks', () => {
    expect(data.actor.length).toBe(data.stats.good);
    expect(data.actor.length).toBeGreaterThan(0.5 * train.length);
    for (const x of data.actor) {
      const d = demos.get(x.questionId) as Demonstration;
      expect(x.ids[0]).toBe(tok.special.bos);
      expect(tok.decode(x.ids.subarray(0, x.promptLength))).toBe(normalizePolicyText(actorPrompt(d.question.question)));
      expect(tok.decode(x.ids.subarray(x.promptLength))).toBe(normalizePolicyText(d.response));
      let inInfo = false;
      for (let i = 0; i < x.ids.length; i++) {
        const id = x.ids[i];
        if (i >= x.promptLength && id === tok.special.information) inInfo = true;
        const expected = i >= x.promptLength && !inInfo ? 1 : 0;
        expect(x.mask[i], `${x.questionId} token ${i} ${tok.tokenText(id)}`).toBe(expected);
        if (id === tok.special.informationEnd) inInfo = false;
      }
      // The trained tokens are the response with its observations cut out.
      const kept = x.ids.filter((_, i) => x.mask[i] === 1);
      let stripped = d.response;
      for (const o of [...d.observations].reverse()) stripped = stripped.slice(0, o.start) + stripped.slice(o.end);
      expect(tok.decode(kept)).toBe(normalizePolicyText(stripped));
    }
  });

  it('Discriminator: balanced <accept>/<reject>, loss on the decision token only', () => {
    const acc = data.judge.filter((x) => x.target === tok.special.accept);
    const rej = data.judge.filter((x) => x.target === tok.special.reject);
    expect(acc.length).toBe(rej.length);
    expect(acc.length).toBeGreaterThan(0);
    for (const x of data.judge) {
      expect(x.ids[x.ids.length - 1]).toBe(x.target);
      expect(x.ids[1]).toBe(tok.special.judge);
      expect(Array.from(x.mask).reduce((a, b) => a + b, 0)).toBe(1);
      expect(x.mask[x.ids.length - 1]).toBe(1);
      expect(x.label === 'good').toBe(x.target === tok.special.accept);
    }
  });

  it('Trimmer: <cut_k> targets with k = sound steps kept, within the valid cuts', () => {
    expect(data.trim.length).toBeGreaterThan(0);
    for (const x of data.trim) {
      expect(x.ids[1]).toBe(tok.special.trim);
      expect(x.target).toBe(tok.special.cut[x.cut ?? -1]);
      expect(x.mask[x.ids.length - 1]).toBe(1);
      expect(tok.decode(x.ids.subarray(0, x.promptLength))).toContain('Step 1:');
    }
    console.log(`SFT (tiny world, ${train.length} train questions): ${data.actor.length} actor, ${data.judge.length} judge, ${data.trim.length} trim; flaws ${JSON.stringify(data.stats.flawed)}; cuts ${JSON.stringify(data.stats.cuts)}; actor tokens mean ${data.stats.tokens.actor.mean.toFixed(0)} max ${data.stats.tokens.actor.max}`);
  });

  it('is deterministic by seed', async () => {
    const digest = (d: SftData): string => [d.actor, d.judge, d.trim].map((xs) => xs.map((x) => `${x.questionId}:${x.target}:${x.ids.join(',')}`).join('|')).join('#');
    const fresh = createExpertContext(world.corpus, createBm25Retriever(world.corpus), all);
    const again = await buildSftData({ tokenizer: tok, ctx: fresh, questions: train, seed: 5 });
    expect(digest(again)).toBe(digest(data));
    const other = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 6 });
    expect(digest(other)).not.toBe(digest(data));
  });
});
