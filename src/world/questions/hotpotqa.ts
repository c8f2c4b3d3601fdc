// HotpotQA-like: two-hop bridge questions. The first hop finds the bridge entity (the country of a city, the
// country of a capital, the most populous city of a country), the second reads the answer from its passage.
// These relation pairs are the training pairs; Bamboogle-like questions use none of them.
import { numberAnswers } from '../text.ts';
import {
  type Candidate, type GenContext, choose, cityId, citiesWithCountry, countryId, currencyAnswers, largestCityOf,
  nameInOneCountry, uniqueCapitals,
} from './common.ts';

const FAMILY = 'bridge';

export const HOTPOT_PAIRS = [
  'capital_of>currency',
  'capital_of>language',
  'located_in>capital',
  'located_in>currency',
  'largest_city>population',
] as const;

function bridge(question: string, golden: string[], supporting: string[], pair: string): Candidate {
  return { question, golden_answers: golden, supporting_ids: supporting, family: FAMILY, relations: pair.split('>') };
}

export function hotpotCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  for (const { city, country } of uniqueCapitals(kb)) {
    const ids = [cityId(city), countryId(country)];
    const v = { cap: city.name };
    if (country.currencies.length > 0)
      out.push(bridge(choose(ctx, ['What currency is used in the country whose capital is {cap}?', 'Which currency is used in the country with {cap} as its capital?'], v), currencyAnswers(country), ids, 'capital_of>currency'));
    if (country.languages.length > 0)
      out.push(bridge(choose(ctx, ['What is the official language of the country whose capital is {cap}?', 'What language is spoken in the country whose capital city is {cap}?'], v), country.languages, ids, 'capital_of>language'));
  }
  for (const city of citiesWithCountry(kb)) {
    if (!nameInOneCountry(kb, city) || kb.capitalOf.has(city.id)) continue;
    const country = kb.countryOf(city);
    const ids = [cityId(city), countryId(country)];
    const v = { x: city.name };
    if (ctx.rng.next() < 0.5) {
      if (country.capitals.length > 0)
        out.push(bridge(choose(ctx, ['What is the capital of the country where {x} is located?', '{x} lies in a country whose capital is what?'], v), country.capitals, ids, 'located_in>capital'));
    } else if (country.currencies.length > 0)
      out.push(bridge(choose(ctx, ['What currency is used in the country where {x} is located?', 'Which currency would you pay with in {x}\'s country?'], v), currencyAnswers(country), ids, 'located_in>currency'));
  }
  for (const country of kb.countries) {
    const big = largestCityOf(kb, country);
    if (!big) continue;
    out.push(bridge(choose(ctx, ['What is the population of the largest city in {c}?', 'How many people live in the most populous city of {c}?'], { c: country.common }), numberAnswers(big.population), [countryId(country), cityId(big)], 'largest_city>population'));
  }
  return out;
}
