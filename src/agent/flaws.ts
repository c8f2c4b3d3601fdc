// Flawed variants of an expert demonstration: what the Meta-Refiner must learn to catch (DESIGN 4.2). Each one is
// labelled with its EARLIEST flawed step (1-based; K+1 is the answer segment of a response with K searches), the
// Trimmer's target cut = that step - 1 (the sound steps to keep), and whether its final answer is right.
//
// - lookalike: at a hop about a city, the step reads a same-name city of another country ("Tripoli" in Lebanon
//   for Tripoli, Libya; or a look-alike country, "South Sudan" for Sudan), takes the wrong country or number from
//   it and carries on with that wrong bridge. When the step's query retrieved the look-alike without the right
//   passage, that step is the flawed one (<cut_k> regenerates it); when the expert's own query retrieved both, the
//   step is sound and the reading after it is flawed (the cut keeps the step). Kept only when the final answer
//   comes out wrong.
// - vague: a hop's query drops the entity ("country currency") and retrieves nothing useful; then either the
//   Actor recovers with the right query (answer right, one wasted search) or it gives up and guesses.
// - redundant: after a sound hop, the same query is sent again (same passages); then the trajectory goes on as
//   the expert's (answer right).
// - early: the Actor answers before the last hop: with the bridge entity it has (multi-hop), or with a guess
//   without any search. Kept only when the answer comes out wrong.
import { exactMatch } from '../reward/em.ts';
import type { Rng } from '../engine/rng.ts';
import { shuffle } from '../world/random.ts';
import type { Question } from '../world/types.ts';
import {
  conclusion, type Demonstration, type ExpertContext, factPhrase, GIVE_UP, needPhrase, relationQuery, type Rendered,
  type RenderStep, renderResponse, sameAnswer,
} from './expert.ts';
import { MAX_SEARCHES } from './prompts.ts';
import { type ParsedPassage, readRelation } from './reader.ts';

export type FlawKind = 'lookalike' | 'vague' | 'redundant' | 'early';
export const FLAW_KINDS: readonly FlawKind[] = ['lookalike', 'vague', 'redundant', 'early'];

export interface FlawedTrajectory extends Rendered {
  kind: FlawKind;
  question: Question;
  steps: RenderStep[];
  finalThink: string;
  answer: string;
  /** Exact match of the final answer. */
  correct: boolean;
  /** 1-based index of the first step that went wrong; steps.length + 1 means the answer segment. */
  earliestFlawedStep: number;
  /** The Trimmer's target: <cut_k> with k = earliestFlawedStep - 1. */
  cut: number;
  /** What was done, for display: "vague:recover at 1", "lookalike:retrieved Tripoli (Lebanon) for ...", ... */
  detail: string;
  /** Look-alikes: the passage read instead of the right one, and the (1-based) step whose information holds it. */
  lookalike?: { passageId: string; step: number };
}

export const guessPhrase = (g: string): string => `I think it is ${g}.`;
export const VAGUE_RECOVER = (e: string): string => `The passages are not about ${e}.`;
/** Phrases of the flawed trajectories, for the vocabulary. */
export const FLAW_TEMPLATE_TEXTS: readonly string[] = [guessPhrase('Y'), VAGUE_RECOVER('X')];

function make(
  kind: FlawKind,
  demo: Demonstration,
  steps: RenderStep[],
  finalThink: string,
  answer: string,
  earliestFlawedStep: number,
  detail: string,
): FlawedTrajectory {
  const rendered = renderResponse(steps, { think: finalThink, answer });
  return {
    ...rendered,
    kind,
    question: demo.question,
    steps,
    finalThink,
    answer,
    correct: exactMatch(answer, demo.question.golden_answers) === 1,
    earliestFlawedStep,
    cut: earliestFlawedStep - 1,
    detail,
  };
}

/** The same query sent again right after hop j (1-based). */
export function redundantVariant(demo: Demonstration, rng: Rng): FlawedTrajectory | null {
  const n = demo.steps.length;
  if (!demo.found || n + 1 > MAX_SEARCHES) return null;
  const j = 1 + rng.int(n);
  const hop = demo.plan.hops[j - 1];
  const repeat: RenderStep = { think: needPhrase(hop.relation, hop.subject), query: demo.steps[j - 1].query, passages: demo.steps[j - 1].passages };
  const steps = [...demo.steps.slice(0, j), repeat, ...demo.steps.slice(j)];
  return make('redundant', demo, steps, demo.finalThink, demo.answer, j + 1, `redundant:after ${j}`);
}

/** Hop j's query without its entity; then recover (search properly) or give up and guess. */
export async function vagueVariant(demo: Demonstration, ctx: ExpertContext, rng: Rng): Promise<FlawedTrajectory | null> {
  const n = demo.steps.length;
  if (!demo.found) return null;
  const j = 1 + rng.int(n);
  const hop = demo.plan.hops[j - 1];
  const query = relationQuery(hop.relation, '').trim();
  if (query === '' || query === demo.steps[j - 1].query) return null;
  const passages = await ctx.search.top(query);
  if (passages.some((p) => p.id === hop.target)) return null;
  const vague: RenderStep = { think: demo.steps[j - 1].think, query, passages };
  const recover = rng.next() < 0.5 && n + 1 <= MAX_SEARCHES;
  if (recover) {
    const retry: RenderStep = { ...demo.steps[j - 1], think: `${VAGUE_RECOVER(hop.subject)} ${needPhrase(hop.relation, hop.subject)}` };
    const steps = [...demo.steps.slice(0, j - 1), vague, retry, ...demo.steps.slice(j)];
    return make('vague', demo, steps, demo.finalThink, demo.answer, j, `vague:recover at ${j}`);
  }
  const guess = ctx.pool.guess(demo.question, rng);
  return make('vague', demo, [...demo.steps.slice(0, j - 1), vague], GIVE_UP, guess, j, `vague:guess at ${j}`);
}

/**
 * Answer after j < n sound hops: the bridge entity (chains), or a guess (no search, or a comparison). Null when
 * that answer happens to be right (a bridge named like the answer: New York, part of New York).
 */
export function earlyVariant(demo: Demonstration, ctx: ExpertContext, rng: Rng): FlawedTrajectory | null {
  const f = earlyAnswer(demo, ctx, rng);
  return f && !f.correct ? f : null;
}

function earlyAnswer(demo: Demonstration, ctx: ExpertContext, rng: Rng): FlawedTrajectory | null {
  const n = demo.steps.length;
  if (!demo.found) return null;
  const j = n >= 2 ? rng.int(n) : 0;
  const plan = demo.plan;
  if (j >= 1 && plan.kind === 'chain') {
    const hop = plan.hops[j - 1];
    const think = `${factPhrase(hop.relation, hop.subject, hop.value)} ${conclusion(hop.value)}`;
    return make('early', demo, demo.steps.slice(0, j), think, hop.value, j + 1, `early:bridge after ${j}`);
  }
  const guess = ctx.pool.guess(demo.question, rng);
  const hop = plan.hops[j];
  const think = j === 0 ? `${needPhrase(hop.relation, hop.subject)} ${guessPhrase(guess)}` : `${demo.steps[j].think} ${guessPhrase(guess)}`;
  return make('early', demo, demo.steps.slice(0, j), think, guess, j + 1, `early:guess after ${j}`);
}

const KIND_BY_ID = (id: string): string => id.slice(0, id.indexOf(':'));

/**
 * At a hop about a city that has same-name cities of other countries in the corpus (or about a country whose name
 * looks like another's: "Sudan" and "South Sudan"), read one of those instead and carry the wrong value on.
 * Preferred: a looser query (without the country context, or the bare name) whose top-3 holds a look-alike and
 * not the right passage, which makes that step the flawed one; else the expert's own query when its top-3 holds
 * both, which makes the reading after it the flawed part. Null when no look-alike is retrieved or the answer
 * comes out right anyway.
 */
export async function lookalikeVariant(demo: Demonstration, ctx: ExpertContext, rng: Rng): Promise<FlawedTrajectory | null> {
  if (!demo.found || demo.plan.kind !== 'chain') return null;
  const plan = demo.plan;
  const order = shuffle(rng, plan.hops.map((_, i) => i));
  for (const i of order) {
    const hop = plan.hops[i];
    const target = ctx.view.get(hop.target);
    let looks: ParsedPassage[];
    let queries: string[];
    let readAs: string;
    if (target.kind === 'city' && ['population', 'located_in', 'capital_of'].includes(hop.relation)) {
      looks = ctx.view.lookalikes(target.name, readRelation(target, 'located_in', ctx.view)[0] ?? '');
      queries = [demo.steps[i].query, relationQuery(hop.relation, hop.subject), hop.subject];
      // A look-alike town is not a capital: the Actor reads its country as the answer to "whose capital".
      readAs = hop.relation === 'population' ? 'population' : 'located_in';
    } else if (target.kind === 'country' && !['capital_of', 'demonym_of', 'tld_of', 'calling_code_of'].includes(hop.relation)) {
      looks = ctx.view.lookalikeCountries(target.name);
      queries = [demo.steps[i].query, hop.subject];
      readAs = hop.relation;
    } else continue;
    if (looks.length === 0) continue;
    const lookIds = new Set(looks.map((p) => p.id));
    // A query whose top-3 holds a look-alike but not the right passage makes step i+1 itself flawed (cut i). The
    // expert's own query, whose top-3 holds both, makes the reading after it flawed (cut i+1: keep the step).
    const tries: { query: string; passages: ParsedPassage[]; misread: boolean }[] = [];
    for (const query of uniqStrings(queries)) {
      const passages = await ctx.search.top(query);
      const hasTarget = passages.some((p) => p.id === target.id);
      if (!hasTarget) tries.push({ query, passages, misread: false });
      else if (query === demo.steps[i].query) tries.push({ query, passages, misread: true });
    }
    tries.sort((a, b) => Number(a.misread) - Number(b.misread));
    for (const { query, passages, misread } of tries) {
      const wrong = passages.find((p) => lookIds.has(p.id));
      if (!wrong) continue;
      const v = readRelation(wrong, readAs, ctx.view)[0];
      if (v === undefined || sameAnswer(v, hop.value)) continue;
      const flawed = await continueFrom(demo, ctx, rng, i, { think: demo.steps[i].think, query, passages }, readAs, v, misread ? i + 2 : i + 1);
      if (flawed && !flawed.correct)
        return { ...flawed, detail: `lookalike:${misread ? 'misread' : 'retrieved'} ${wrong.title} for ${target.title} at ${i + 1}`, lookalike: { passageId: wrong.id, step: i + 1 } };
    }
  }
  return null;
}

function uniqStrings(xs: readonly string[]): string[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}

/** Steps 1..i-1 of the demo, then the flawed step i read as (relation, value), then the chain carried on. */
async function continueFrom(
  demo: Demonstration,
  ctx: ExpertContext,
  rng: Rng,
  i: number,
  flawedStep: RenderStep,
  readAs: string,
  value: string,
  earliest: number,
): Promise<FlawedTrajectory | null> {
  const plan = demo.plan;
  const n = plan.hops.length;
  const steps = [...demo.steps.slice(0, i), flawedStep];
  let prev = { relation: readAs, subject: plan.hops[i].subject, value };
  for (let h = i + 1; h < n; h++) {
    const hop = plan.hops[h];
    const e = prev.value;
    const query = relationQuery(hop.relation, e);
    const passages = await ctx.search.top(query);
    steps.push({ think: `${factPhrase(prev.relation, prev.subject, e)} ${needPhrase(hop.relation, e)}`, query, passages });
    const kind = KIND_BY_ID(hop.target);
    const p: ParsedPassage | undefined = passages.find((x) => x.name === e && x.kind === kind);
    const v = p ? readRelation(p, hop.relation, ctx.view)[0] : undefined;
    if (v === undefined) {
      const guess = ctx.pool.guess(demo.question, rng);
      return make('lookalike', demo, steps, GIVE_UP, guess, earliest, '');
    }
    prev = { relation: hop.relation, subject: e, value: v };
  }
  return make('lookalike', demo, steps, factPhrase(prev.relation, prev.subject, prev.value), prev.value, earliest, '');
}

export async function flawedVariant(kind: FlawKind, demo: Demonstration, ctx: ExpertContext, rng: Rng): Promise<FlawedTrajectory | null> {
  switch (kind) {
    case 'lookalike':
      return lookalikeVariant(demo, ctx, rng);
    case 'vague':
      return vagueVariant(demo, ctx, rng);
    case 'redundant':
      return redundantVariant(demo, rng);
    case 'early':
      return earlyVariant(demo, ctx, rng);
  }
}

export interface FlawOptions {
  /** Variants wanted per demonstration (default 1); fewer when fewer kinds apply. */
  count?: number;
  /** Kinds to draw from (default all). */
  kinds?: readonly FlawKind[];
}

/**
 * Up to `count` flawed variants of a good demonstration, of distinct kinds. The look-alike, the rarest kind to
 * apply (and the one DESIGN 4.1 puts first), is tried first; the other kinds in a seeded order.
 */
export async function flawedVariants(demo: Demonstration, ctx: ExpertContext, rng: Rng, opts: FlawOptions = {}): Promise<FlawedTrajectory[]> {
  const count = opts.count ?? 1;
  const kinds = [...(opts.kinds ?? FLAW_KINDS)];
  const rest = shuffle(rng, kinds.filter((k) => k !== 'lookalike'));
  const order: FlawKind[] = kinds.includes('lookalike') ? ['lookalike', ...rest] : rest;
  const out: FlawedTrajectory[] = [];
  for (const kind of order) {
    if (out.length >= count) break;
    const f = await flawedVariant(kind, demo, ctx, rng);
    if (f) out.push(f);
  }
  return out;
}
