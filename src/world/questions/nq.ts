// NQ-like: one-hop questions as people type them into a search box (lower case, no question mark) about
// countries, big cities and named places.
import { numberAnswers } from '../text.ts';
import { MAJOR_POPULATION } from '../select.ts';
import {
  type Candidate, type GenContext, choose, cityId, countryId, countryNames, currencyAnswers, demonymAnswers, kindOf,
  largestCityOf, lemmaCounts, nameInOneCountry, nameUnique, synsetId, synsetNameUnique,
} from './common.ts';

const FAMILY = 'one-hop';

function nq(question: string, golden: string[], supporting: string[], relation: string): Candidate {
  return { question: question.toLowerCase(), golden_answers: golden, supporting_ids: supporting, family: FAMILY, relations: [relation] };
}

export function nqCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  for (const c of kb.countries) {
    const id = countryId(c);
    const v = { c: c.common };
    if (c.capitals.length > 0)
      out.push(nq(choose(ctx, ['what is the capital of {c}', 'what is the capital city of {c}', 'capital of {c}'], v), c.capitals, [id], 'capital'));
    if (c.currencies.length > 0)
      out.push(nq(choose(ctx, ['what currency is used in {c}', 'what is the currency of {c}', 'what money do they use in {c}'], v), currencyAnswers(c), [id], 'currency'));
    if (c.languages.length > 0)
      out.push(nq(choose(ctx, ['what is the official language of {c}', 'what language do they speak in {c}'], v), c.languages, [id], 'language'));
    if (c.subregion)
      out.push(nq(choose(ctx, ['what part of the world is {c} in', 'what region is {c} located in'], v), [c.subregion, c.region], [id], 'subregion'));
    const big = largestCityOf(kb, c);
    if (big) out.push(nq(choose(ctx, ['what is the largest city in {c}', 'what is the most populous city of {c}'], v), [big.name], [id], 'largest_city'));
    const neighbours = c.borders.map((b) => kb.countryByCca3.get(b)?.common ?? '').filter((n) => n !== '');
    if (neighbours.length > 0)
      out.push(nq(choose(ctx, ['what countries border {c}', 'which country borders {c}'], v), neighbours, [id], 'borders'));
    const dem = demonymAnswers(c);
    if (dem.length > 0) out.push(nq(choose(ctx, ['what are people from {c} called', 'what is the demonym of {c}'], v), dem, [id], 'demonym'));
  }
  for (const city of kb.cities) {
    if (city.population < MAJOR_POPULATION) continue;
    const id = cityId(city);
    const v = { x: city.name };
    if (nameInOneCountry(kb, city))
      out.push(nq(choose(ctx, ['what country is {x} in', 'where is {x} located', '{x} is in which country'], v), countryNames(kb.countryOf(city)), [id], 'located_in'));
    if (nameUnique(kb, city))
      out.push(nq(choose(ctx, ['what is the population of {x}', 'how many people live in {x}'], v), numberAnswers(city.population), [id], 'population'));
  }
  // Named places of WordNet: where is X (its part holonyms).
  const counts = lemmaCounts(kb);
  for (const s of kb.synsets) {
    if ((s.lexFile !== 15 && s.lexFile !== 17) || s.partOf.length === 0 || !synsetNameUnique(kb, s, counts)) continue;
    const wholes = s.partOf.filter((o) => kindOf(kb, o) !== '').map((o) => kb.lemma(o));
    if (wholes.length === 0) continue;
    out.push(nq(choose(ctx, ['where is {x} located', 'where is {x}', '{x} is part of what'], { x: s.lemmas[0] }), wholes, [synsetId(s)], 'wn_part_of'));
  }
  return out;
}
