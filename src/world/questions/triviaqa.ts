// TriviaQA-like: one-hop trivia questions, written the way a quiz asks them: the clue is the fact, the answer the
// entity (a country from its capital, demonym, domain or dialling code; a WordNet person, event or place from its
// encyclopedic gloss; the larger place a named place is part of).
import type { CountryRecord } from '../types.ts';
import {
  type Candidate, type GenContext, choose, countryId, countryNames, kindOf, lemmaCounts, synsetId, synsetNameUnique,
} from './common.ts';

const FAMILY = 'one-hop';

function trivia(question: string, golden: string[], supporting: string[], relation: string): Candidate {
  return { question, golden_answers: golden, supporting_ids: supporting, family: FAMILY, relations: [relation] };
}

/** Values held by exactly one country. */
function uniqueValues(countries: readonly CountryRecord[], get: (c: CountryRecord) => string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of countries) for (const v of new Set(get(c))) if (v) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

const FIELD_LABEL = /^\(([^)]+)\)\s*/;
const LIFESPAN = /^(.*?)\s*\((?:born\s+)?(c\.\s*)?(\d{1,4}(?:\s*BC)?)\s*-\s*(\d{1,4}(?:\s*BC)?)\)$/;

/** A quiz question from a WordNet gloss, or null when the gloss does not single out one thing. */
export function glossQuestion(gloss: string, isPerson: boolean): string | null {
  let head = gloss.split(';')[0].trim();
  let field = '';
  const label = FIELD_LABEL.exec(head);
  if (label) {
    field = label[1];
    head = head.slice(label[0].length).trim();
  }
  if (head.length < 12 || /\bcapital\b/i.test(head) || /["?]/.test(head)) return null;
  const prefix = field ? `In ${field}, ` : '';
  const q = (s: string): string => (prefix ? prefix + s[0].toLowerCase() + s.slice(1) : s);
  if (isPerson) {
    const life = LIFESPAN.exec(head);
    if (life) {
      const desc = life[1].replace(/^(a|an|the)\s+/i, '').trim();
      if (desc.length < 4 || /[()]/.test(desc)) return null;
      return q(`Which ${desc} lived from ${life[2] ?? ''}${life[3]} to ${life[4]}?`);
    }
    if (/^the\s/i.test(head)) return q(`Who was ${head}?`);
    return null;
  }
  if (/^the\s/i.test(head)) return q(`What name is given to ${head}?`);
  return null;
}

export function triviaCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const all = kb.src.countries;
  const capitals = uniqueValues(all, (c) => c.capitals);
  const demonyms = uniqueValues(all, (c) => [c.demonym]);
  const tlds = uniqueValues(all, (c) => c.tld);
  const codes = uniqueValues(all, (c) => c.callingCodes);
  const out: Candidate[] = [];
  for (const c of kb.countries) {
    const id = countryId(c);
    const names = countryNames(c);
    if (c.capitals.length === 1 && capitals.get(c.capitals[0]) === 1) {
      const v = { cap: c.capitals[0], sub: c.subregion };
      const t = ['{cap} is the capital of which country?', 'Of which country is {cap} the capital?'];
      if (c.subregion) t.push('Which country in {sub} has {cap} as its capital?');
      out.push(trivia(choose(ctx, t, v), names, [id], 'capital_of'));
    }
    if (c.demonym && demonyms.get(c.demonym) === 1)
      out.push(trivia(choose(ctx, ['People from which country are called {d}?', 'Which country\'s people are known as {d}?'], { d: c.demonym }), names, [id], 'demonym_of'));
    if (c.tld.length === 1 && tlds.get(c.tld[0]) === 1)
      out.push(trivia(choose(ctx, ['Which country has the internet domain {t}?', 'The internet country code {t} belongs to which country?'], { t: c.tld[0] }), names, [id], 'tld_of'));
    if (c.callingCodes.length === 1 && codes.get(c.callingCodes[0]) === 1)
      out.push(trivia(choose(ctx, ['Which country has the international dialling code {t}?', 'The telephone calling code {t} belongs to which country?'], { t: c.callingCodes[0] }), names, [id], 'calling_code_of'));
  }
  const counts = lemmaCounts(kb);
  for (const s of kb.synsets) {
    const id = synsetId(s);
    const q = glossQuestion(s.gloss, s.lexFile === 18);
    if (q) out.push(trivia(q, s.lemmas, [id], 'wn_described_as'));
    if (s.partOf.length > 0 && synsetNameUnique(kb, s, counts)) {
      const byKind = new Map<string, string[]>();
      for (const o of s.partOf) {
        const kind = kindOf(kb, o);
        if (!kind) continue;
        const list = byKind.get(kind) ?? [];
        list.push(kb.lemma(o));
        byKind.set(kind, list);
      }
      for (const [kind, wholes] of byKind)
        out.push(trivia(choose(ctx, ['{x} is part of which {k}?', 'In which {k} is {x}?'], { x: s.lemmas[0], k: kind }), wholes, [id], 'wn_part_of'));
    }
  }
  return out;
}
