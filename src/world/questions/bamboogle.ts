// Bamboogle-like: two-hop compositions whose relation pair never occurs in the training data (NQ-like one-hop and
// HotpotQA-like bridges). build.ts checks the pairs against the training split it wrote.
import { article, numberAnswers } from '../text.ts';
import { HOTPOT_PAIRS } from './hotpotqa.ts';
import {
  type Candidate, type GenContext, choose, cityId, citiesWithCountry, countryId, demonymAnswers, kindOf,
  largestCityOf, lemmaCounts, nameInOneCountry, soleCapitalCity, synsetId, synsetMap, synsetNameUnique, uniqueCapitals,
} from './common.ts';

const FAMILY = 'composition';

export const BAMBOOGLE_PAIRS = [
  'located_in>demonym',
  'located_in>subregion',
  'located_in>tld',
  'capital_of>area',
  'capital_of>largest_city',
  'capital>population',
  'wn_part_of>wn_part_of',
] as const;

for (const p of BAMBOOGLE_PAIRS)
  if ((HOTPOT_PAIRS as readonly string[]).includes(p)) throw new Error(`Bamboogle pair ${p} is a training pair`);

function comp(question: string, golden: string[], supporting: string[], pair: (typeof BAMBOOGLE_PAIRS)[number]): Candidate {
  return { question, golden_answers: golden, supporting_ids: supporting, family: FAMILY, relations: pair.split('>') };
}

export function bamboogleCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  for (const city of citiesWithCountry(kb)) {
    if (!nameInOneCountry(kb, city) || kb.capitalOf.has(city.id)) continue;
    const country = kb.countryOf(city);
    const ids = [cityId(city), countryId(country)];
    const v = { x: city.name };
    const r = ctx.rng.int(3);
    const dem = demonymAnswers(country);
    if (r === 0 && dem.length > 0)
      out.push(comp(choose(ctx, ['What are the people of the country where {x} is located called?', 'What is the demonym of the country that contains {x}?'], v), dem, ids, 'located_in>demonym'));
    else if (r === 1 && country.subregion)
      out.push(comp(choose(ctx, ['In which part of the world is the country that contains {x}?', 'Which region of the world is the country where {x} lies in?'], v), [country.subregion, country.region], ids, 'located_in>subregion'));
    else if (r === 2 && country.tld.length > 0)
      out.push(comp(choose(ctx, ['What is the internet domain of the country where {x} is located?', 'Which top-level domain does the country containing {x} use?'], v), country.tld, ids, 'located_in>tld'));
  }
  for (const { city, country } of uniqueCapitals(kb)) {
    const ids = [cityId(city), countryId(country)];
    const v = { cap: city.name };
    out.push(comp(choose(ctx, ['What is the area in square kilometres of the country whose capital is {cap}?', 'How large, in square kilometres, is the country with {cap} as its capital?'], v), numberAnswers(country.area), ids, 'capital_of>area'));
    const big = largestCityOf(kb, country);
    if (big && big.id !== city.id)
      out.push(comp(choose(ctx, ['What is the most populous city of the country whose capital is {cap}?', 'Which is the largest city of the country with {cap} as its capital?'], v), [big.name], ids, 'capital_of>largest_city'));
  }
  for (const country of kb.countries) {
    const cap = soleCapitalCity(kb, country);
    if (!cap || cap.population <= 0) continue;
    out.push(comp(choose(ctx, ['What is the population of the capital of {c}?', 'How many people live in the capital city of {c}?'], { c: country.common }), numberAnswers(cap.population), [countryId(country), cityId(cap)], 'capital>population'));
  }
  // WordNet: X is part of Y (a kind of thing), Y is part of Z.
  const counts = lemmaCounts(kb);
  const selected = synsetMap(kb);
  for (const s of kb.synsets) {
    if (s.partOf.length !== 1 || !synsetNameUnique(kb, s, counts)) continue;
    const y = selected.get(s.partOf[0]);
    if (!y || y.partOf.length === 0) continue;
    const kindY = kindOf(kb, y.offset);
    const zs = y.partOf.filter((o) => kindOf(kb, o) !== '');
    if (!kindY || zs.length !== 1) continue;
    const kindZ = kindOf(kb, zs[0]);
    out.push(comp(`${s.lemmas[0]} is in ${article(kindY)} ${kindY} that is part of which ${kindZ}?`, [kb.lemma(zs[0])], [synsetId(s), synsetId(y)], 'wn_part_of>wn_part_of'));
  }
  return out;
}
