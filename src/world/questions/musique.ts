// Musique-like: three-hop chains, each hop read from a different passage (town -> country -> capital ->
// population; capital -> country -> most populous city -> population; town -> country -> most populous city ->
// population).
import { numberAnswers } from '../text.ts';
import {
  type Candidate, type GenContext, choose, cityId, citiesWithCountry, countryId, largestCityOf, nameInOneCountry,
  soleCapitalCity, uniqueCapitals,
} from './common.ts';

const FAMILY = 'three-hop';

function chain(question: string, golden: string[], supporting: string[], relations: string[]): Candidate {
  return { question, golden_answers: golden, supporting_ids: supporting, family: FAMILY, relations };
}

export function musiqueCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  for (const city of citiesWithCountry(kb)) {
    if (!nameInOneCountry(kb, city) || kb.capitalOf.has(city.id)) continue;
    const country = kb.countryOf(city);
    const v = { x: city.name };
    if (ctx.rng.next() < 0.5) {
      const cap = soleCapitalCity(kb, country);
      if (cap && cap.population > 0 && cap.id !== city.id)
        out.push(chain(choose(ctx, ['What is the population of the capital of the country where {x} is located?', 'How many people live in the capital of the country that contains {x}?'], v), numberAnswers(cap.population), [cityId(city), countryId(country), cityId(cap)], ['located_in', 'capital', 'population']));
    } else {
      const big = largestCityOf(kb, country);
      if (big && big.id !== city.id)
        out.push(chain(choose(ctx, ['What is the population of the most populous city in the country where {x} is located?', 'How many people live in the largest city of the country that contains {x}?'], v), numberAnswers(big.population), [cityId(city), countryId(country), cityId(big)], ['located_in', 'largest_city', 'population']));
    }
  }
  for (const { city, country } of uniqueCapitals(kb)) {
    const big = largestCityOf(kb, country);
    if (!big || big.id === city.id) continue;
    out.push(chain(choose(ctx, ['How many people live in the most populous city of the country whose capital is {cap}?', 'What is the population of the largest city of the country with {cap} as its capital?'], { cap: city.name }), numberAnswers(big.population), [cityId(city), countryId(country), cityId(big)], ['capital_of', 'largest_city', 'population']));
  }
  return out;
}
