// The scripted expert: for a world question, a gold plan (one search per hop), executed against a real retriever
// (top-3), rendered as a demonstration in the DESIGN 4.1 format with short <think> reasoning.
//
// The plan follows the question's relation chain over its supporting passages: hop i searches for the entity e_i
// with the relation r_i ("Ouagadougou capital country"), reads the supporting passage s_i and finds the next
// entity e_{i+1} (the plain name of s_{i+1}: "Burkina Faso") or, at the last hop, the answer (the first gold
// answer stated in s_i). Comparisons (2Wiki-like) search each compared entity in turn and conclude. Queries use
// only what the question and earlier hops give (never the answer). The expert is privileged in one way: it knows
// which passage it needs, so when its query's top-3 misses that passage it tries other query forms (the bare
// name, the question) and shows only the query that found it. If none does, the demonstration fails: the expert
// says so and guesses (such demonstrations are not used as good ones).
import { type TextSpan } from './trajectory.ts';
import { informationObservation, questionText, TOP_K } from './prompts.ts';
import { CorpusView, type ParsedPassage, readRelation } from './reader.ts';
import { exactMatch } from '../reward/em.ts';
import { normalizeAnswer } from '../reward/normalize.ts';
import type { Rng } from '../engine/rng.ts';
import type { Retriever } from '../retrieval/types.ts';
import { statedIn } from '../world/text.ts';
import type { CorpusRecord, Question } from '../world/types.ts';

// ---- phrases ----

type Phrase = (e: string, v: string) => string;

/** Query, need and fact phrases per relation. */
const REL: Record<string, { query: (e: string) => string; need: (e: string) => string; fact: Phrase }> = {
  capital_of: { query: (e) => `${e} capital country`, need: (e) => `I need the country whose capital is ${e}.`, fact: (e, v) => `${e} is the capital of ${v}.` },
  located_in: { query: (e) => `${e} country`, need: (e) => `I need the country where ${e} is located.`, fact: (e, v) => `${e} is in ${v}.` },
  capital: { query: (e) => `${e} country capital`, need: (e) => `I need the capital of ${e}.`, fact: (e, v) => `The capital of ${e} is ${v}.` },
  currency: { query: (e) => `${e} country currency`, need: (e) => `I need the currency of ${e}.`, fact: (e, v) => `The currency of ${e} is the ${v}.` },
  language: { query: (e) => `${e} country official language`, need: (e) => `I need the official language of ${e}.`, fact: (e, v) => `The official language of ${e} is ${v}.` },
  subregion: { query: (e) => `${e} country region`, need: (e) => `I need the part of the world ${e} is in.`, fact: (e, v) => `${e} is in ${v}.` },
  largest_city: { query: (e) => `${e} country most populous city`, need: (e) => `I need the most populous city of ${e}.`, fact: (e, v) => `The most populous city of ${e} is ${v}.` },
  borders: { query: (e) => `${e} country borders`, need: (e) => `I need the countries that border ${e}.`, fact: (e, v) => `${e} borders ${v}.` },
  demonym: { query: (e) => `${e} country people called`, need: (e) => `I need what the people of ${e} are called.`, fact: (e, v) => `The people of ${e} are called ${v}.` },
  tld: { query: (e) => `${e} country internet domain`, need: (e) => `I need the internet domain of ${e}.`, fact: (e, v) => `The internet domain of ${e} is ${v}.` },
  calling_code: { query: (e) => `${e} country calling code`, need: (e) => `I need the calling code of ${e}.`, fact: (e, v) => `The calling code of ${e} is ${v}.` },
  area: { query: (e) => `${e} country area`, need: (e) => `I need the area of ${e}.`, fact: (e, v) => `${e} has an area of ${v} square kilometres.` },
  landlocked: { query: (e) => `${e} country landlocked`, need: (e) => `I need to know whether ${e} is landlocked.`, fact: (e, v) => (v === 'yes' ? `${e} is landlocked.` : `${e} is not landlocked.`) },
  population: { query: (e) => `${e} population`, need: (e) => `I need the population of ${e}.`, fact: (e, v) => `${e} has a population of ${v}.` },
  wn_part_of: { query: (e) => `${e} part of`, need: (e) => `I need what ${e} is part of.`, fact: (e, v) => `${e} is part of ${v}.` },
  demonym_of: { query: (e) => `${e} people country`, need: (e) => `I need the country whose people are called ${e}.`, fact: (e, v) => `People called ${e} are from ${v}.` },
  tld_of: { query: (e) => `${e} internet domain country`, need: (e) => `I need the country with the internet domain ${e}.`, fact: (e, v) => `The internet domain ${e} belongs to ${v}.` },
  calling_code_of: { query: (e) => `${e} calling code country`, need: (e) => `I need the country with the calling code ${e}.`, fact: (e, v) => `The calling code ${e} belongs to ${v}.` },
  wn_described_as: { query: (e) => e, need: () => 'I need the name the question describes.', fact: (_e, v) => `The question describes ${v}.` },
};

export const SUPPORTED_RELATIONS: readonly string[] = Object.keys(REL);

function rel(r: string): (typeof REL)[string] {
  const x = REL[r];
  if (!x) throw new Error(`expert: no phrases for relation ${r}`);
  return x;
}

export const needPhrase = (r: string, e: string): string => rel(r).need(e);
export const factPhrase = (r: string, e: string, v: string): string => rel(r).fact(e, v);
export const relationQuery = (r: string, e: string): string => rel(r).query(e);
export const GIVE_UP = 'The passages do not give what I need, so I guess.';
export const conclusion = (answer: string): string => `So the answer is ${answer}.`;

/** Texts whose words the policy vocabulary must hold: every phrase of the expert, with placeholders. */
export const EXPERT_TEMPLATE_TEXTS: readonly string[] = [
  ...Object.values(REL).flatMap((p) => [p.need('X'), p.fact('X', 'Y'), p.fact('X', 'yes'), p.query('X')]),
  GIVE_UP,
  conclusion('Y'),
];

// ---- plans ----

export interface Hop {
  relation: string;
  /** The entity the hop is about, as the question or the previous hop names it. */
  subject: string;
  /** The plan's query, then other forms tried when its top-k misses the target. */
  query: string;
  alternates: string[];
  /** The passage to read. */
  target: string;
  /** What reading the target gives: the next hop's subject, or (last hop of a chain) the answer. */
  value: string;
  /** Country context that disambiguates a city name (used by the look-alike flaw to drop it). */
  context?: string;
}

export interface Plan {
  question: Question;
  kind: 'chain' | 'comparison';
  hops: Hop[];
  answer: string;
}

/** The first gold answer stated in the passage (the form the reader sees), else the first gold answer. */
export function answerForm(q: Question, p: ParsedPassage): string {
  return q.golden_answers.find((g) => statedIn(g, p.contents)) ?? q.golden_answers[0];
}

const COUNTRY_CLUE: Record<string, string> = { capital_of: 'capital', demonym_of: 'demonym', tld_of: 'tld', calling_code_of: 'calling_code' };

/** The subject of the first hop: the entity named in the question. */
function firstSubject(q: Question, view: CorpusView, p: ParsedPassage, r: string): string | null {
  if (r === 'wn_described_as') return questionText(q.question).replace(/\?$/, '');
  if (p.kind === 'country' && COUNTRY_CLUE[r]) return readRelation(p, COUNTRY_CLUE[r], view)[0] ?? null;
  return p.name;
}

function queryFor(r: string, e: string, context: string | undefined, extra: string | undefined): string {
  const base = r === 'population' && context ? `${e} ${context} population` : relationQuery(r, e);
  return extra ? `${base} ${extra}` : base;
}

function uniq(xs: readonly string[]): string[] {
  return xs.filter((x, i) => x !== '' && xs.indexOf(x) === i);
}

/** The gold plan of a question, or null when its relations are not ones the expert knows. */
export function planQuestion(q: Question, view: CorpusView): Plan | null {
  const ids = q.supporting_ids;
  const rs = q.relations;
  if (ids.length === 0 || rs.some((r) => !REL[r]) || !ids.every((id) => view.byId.has(id))) return null;
  const ps = ids.map((id) => view.get(id));
  const qt = questionText(q.question);
  // Disambiguators the question itself gives (PopQA-like long-tail towns).
  const popClue = /with a population of ([\d,]+)\?$/.exec(qt)?.[1];
  const inCountry = /^What is the population of .+ in (.+)\?$/.exec(qt)?.[1];
  // Other query forms, in order: "E its capital" for "E country capital" (country passages say "Its capital is"),
  // the name with the kind the question gives ("France European country" for the WordNet entry "France (European
  // country)"), the bare name, the name with its country context, and (first hop) the question itself.
  const alternates = (hop: number, e: string, primary: string, context?: string): string[] => {
    const its = primary.startsWith(`${e} country `) ? `${e} its ${primary.slice(e.length + ' country '.length)}` : '';
    const kind = /\(([^()]*)\)$/.exec(ps[hop].title)?.[1] ?? '';
    const kindForm = kind !== '' && qt.includes(kind) ? `${e} ${kind}` : '';
    return uniq([its, kindForm, e, context ? `${e} ${context}` : '', hop === 0 ? qt : '']).filter((x) => x !== primary);
  };

  if (rs.length === ids.length && q.family !== 'comparison' && q.family !== 'bridge-comparison') {
    const hops: Hop[] = [];
    let e = firstSubject(q, view, ps[0], rs[0]);
    if (e === null) return null;
    let context: string | undefined = rs[0] === 'population' ? inCountry : undefined;
    for (let i = 0; i < rs.length; i++) {
      const last = i === rs.length - 1;
      const value = last ? answerForm(q, ps[i]) : ps[i + 1].name;
      const extra = i === 0 && popClue && rs[0] === 'located_in' ? `population ${popClue}` : undefined;
      const query = queryFor(rs[i], e, context, extra);
      hops.push({ relation: rs[i], subject: e, query, alternates: alternates(i, e, query, context), target: ids[i], value, ...(context ? { context } : {}) });
      context = ps[i].kind === 'country' ? ps[i].name : undefined;
      e = value;
    }
    return { question: q, kind: 'chain', hops, answer: hops[hops.length - 1].value };
  }
  if (q.family === 'comparison' && rs.length === 2 && ids.length === 2) {
    const hops = ps.map((p, i): Hop => {
      const v = readRelation(p, rs[i], view)[0] ?? '';
      const query = relationQuery(rs[i], p.name);
      return { relation: rs[i], subject: p.name, query, alternates: alternates(i, p.name, query), target: p.id, value: v };
    });
    if (hops.some((h) => h.value === '')) return null;
    return { question: q, kind: 'comparison', hops, answer: q.golden_answers[0] };
  }
  if (q.family === 'bridge-comparison' && rs.length === 2 && ids.length === 4) {
    // x -> country of x -> its area; y -> country of y -> its area.
    const hops: Hop[] = [];
    for (const [c, k] of [[0, 1], [2, 3]] as const) {
      const city = ps[c];
      const country = ps[k];
      const area = readRelation(country, rs[1], view)[0] ?? '';
      if (area === '') return null;
      const q1 = relationQuery(rs[0], city.name);
      const q2 = relationQuery(rs[1], country.name);
      hops.push({ relation: rs[0], subject: city.name, query: q1, alternates: alternates(c, city.name, q1), target: city.id, value: country.name });
      hops.push({ relation: rs[1], subject: country.name, query: q2, alternates: alternates(k, country.name, q2), target: country.id, value: area });
    }
    return { question: q, kind: 'comparison', hops, answer: q.golden_answers[0] };
  }
  return null;
}

// ---- search ----

/** A retriever with a cache of top-k passages per query (the expert and its flaws repeat queries). */
export class ExpertSearch {
  private readonly cache = new Map<string, ParsedPassage[]>();
  queries = 0;

  constructor(
    readonly view: CorpusView,
    readonly retriever: Retriever,
    readonly k = TOP_K,
  ) {}

  async top(query: string): Promise<ParsedPassage[]> {
    const hit = this.cache.get(query);
    if (hit) return hit;
    this.queries++;
    const [hits] = await this.retriever.search([query], this.k);
    const out = hits.map((h) => this.view.get(h.id));
    this.cache.set(query, out);
    return out;
  }
}

// ---- rendering ----

export interface RenderStep {
  think: string;
  query: string;
  passages: readonly ParsedPassage[];
}

export interface Rendered {
  response: string;
  /** The inserted observations (`<information>...</information>`, tags included). */
  observations: TextSpan[];
}

/** A response in the DESIGN 4.1 format: think + search + information per step, then think + answer. */
export function renderResponse(steps: readonly RenderStep[], final: { think: string; answer: string }): Rendered {
  let response = '';
  const observations: TextSpan[] = [];
  for (const s of steps) {
    response += `<think> ${s.think} </think> <search> ${s.query} </search>`;
    const block = informationObservation(s.passages.map((p) => p.contents));
    const open = block.indexOf('<information>');
    const close = block.lastIndexOf('</information>') + '</information>'.length;
    observations.push({ start: response.length + open, end: response.length + close });
    response += block;
  }
  response += `<think> ${final.think} </think> <answer> ${final.answer} </answer>`;
  return { response, observations };
}

// ---- execution ----

export interface ExecutedHop {
  hop: Hop;
  /** The query shown (the plan's, or the alternate that found the target). */
  query: string;
  passages: ParsedPassage[];
  /** The target passage is among `passages`. */
  found: boolean;
  /** The plan's own query found it. */
  primaryFound: boolean;
}

export interface Demonstration extends Rendered {
  question: Question;
  plan: Plan;
  executed: ExecutedHop[];
  steps: RenderStep[];
  finalThink: string;
  answer: string;
  /** Exact match of the answer against the gold answers. */
  correct: boolean;
  /** Every hop found its passage (with alternates): a good demonstration. */
  found: boolean;
  primaryFound: boolean;
}

/** Gold answers of other questions, by final relation: what a policy that does not know would say. */
export class GuessPool {
  private readonly byRelation = new Map<string, string[]>();

  constructor(questions: readonly Question[]) {
    const sets = new Map<string, Set<string>>();
    for (const q of questions) {
      const r = q.relations[q.relations.length - 1] ?? '';
      let s = sets.get(r);
      if (!s) sets.set(r, (s = new Set()));
      s.add(q.golden_answers[0]);
    }
    for (const [r, s] of sets) this.byRelation.set(r, [...s].sort());
  }

  /** A wrong answer of the question's answer type (seeded). */
  guess(q: Question, rng: Rng): string {
    const list = this.byRelation.get(q.relations[q.relations.length - 1] ?? '') ?? [];
    for (let tries = 0; tries < 8 && list.length > 0; tries++) {
      const g = list[rng.int(list.length)];
      if (!exactMatch(g, q.golden_answers)) return g;
    }
    return 'unknown';
  }
}

/** The think before hop i: the fact read at hop i-1 (if any), then what hop i needs. */
export function thinkBefore(plan: Plan, i: number, values: readonly string[] = plan.hops.map((h) => h.value)): string {
  const h = plan.hops[i];
  const need = needPhrase(h.relation, h.subject);
  if (i === 0) return need;
  const p = plan.hops[i - 1];
  return `${factPhrase(p.relation, p.subject, values[i - 1])} ${need}`;
}

/** The final think of a fully executed plan. */
export function finalThink(plan: Plan): string {
  const last = plan.hops[plan.hops.length - 1];
  const fact = factPhrase(last.relation, last.subject, last.value);
  return plan.kind === 'comparison' ? `${fact} ${conclusion(plan.answer)}` : fact;
}

/** Runs a plan against the retriever: one search per hop, the first query form that finds the hop's passage. */
export async function executePlan(plan: Plan, search: ExpertSearch, pool: GuessPool, rng: Rng): Promise<Demonstration> {
  const executed: ExecutedHop[] = [];
  const steps: RenderStep[] = [];
  let found = true;
  for (let i = 0; i < plan.hops.length; i++) {
    const hop = plan.hops[i];
    let chosen: ExecutedHop | null = null;
    let first: ExecutedHop | null = null;
    for (const [j, query] of [hop.query, ...hop.alternates].entries()) {
      const passages = await search.top(query);
      const ok = passages.some((p) => p.id === hop.target);
      const ex: ExecutedHop = { hop, query, passages, found: ok, primaryFound: ok && j === 0 };
      first ??= ex;
      if (ok) {
        chosen = ex;
        break;
      }
    }
    const ex = chosen ?? (first as ExecutedHop);
    executed.push(ex);
    steps.push({ think: thinkBefore(plan, i), query: ex.query, passages: ex.passages });
    if (!ex.found) {
      found = false;
      break;
    }
  }
  const answer = found ? plan.answer : pool.guess(plan.question, rng);
  const think = found ? finalThink(plan) : GIVE_UP;
  const rendered = renderResponse(steps, { think, answer });
  return {
    ...rendered,
    question: plan.question,
    plan,
    executed,
    steps,
    finalThink: think,
    answer,
    correct: exactMatch(answer, plan.question.golden_answers) === 1,
    found,
    primaryFound: found && executed.every((e) => e.primaryFound),
  };
}

/**
 * Everything the expert needs from a world: the corpus view, a cached search, the guess pool. `questions` feed
 * the guess pool (wrong answers of failed and flawed trajectories): pass the questions being run (e.g. the
 * training questions) so that no other split's answers show up in the data.
 */
export interface ExpertContext {
  view: CorpusView;
  search: ExpertSearch;
  pool: GuessPool;
}

export function createExpertContext(corpus: readonly CorpusRecord[], retriever: Retriever, questions: readonly Question[], k = TOP_K): ExpertContext {
  const view = new CorpusView(corpus);
  return { view, search: new ExpertSearch(view, retriever, k), pool: new GuessPool(questions) };
}

/** Same-name check used by the flaws (SQuAD-normalized). */
export function sameAnswer(a: string, b: string): boolean {
  return normalizeAnswer(a) === normalizeAnswer(b);
}
