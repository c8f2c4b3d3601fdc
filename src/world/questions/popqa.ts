// PopQA-like: long-tail one-hop questions about rare towns (population under 20,000), in PopQA's templates.
// A name several places share is disambiguated by the town's population (in-country question) or country.
import { RARE_POPULATION } from '../select.ts';
import { formatInt, numberAnswers } from '../text.ts';
import { type Candidate, type GenContext, cityId, countryNames, isCountryName } from './common.ts';

const FAMILY = 'long-tail';

export function popqaCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  for (const city of kb.cities) {
    if (city.population <= 0 || city.population >= RARE_POPULATION || isCountryName(kb, city.name)) continue;
    const id = cityId(city);
    const country = kb.countryOf(city);
    const same = kb.nameRecords.get(city.name) ?? [];
    const countries = kb.nameCountries.get(city.name)?.size ?? 0;
    // In what country is X?
    if (countries === 1) out.push(mk(`In what country is ${city.name}?`, countryNames(country), id, 'located_in'));
    else if (same.filter((c) => c.population === city.population).length === 1)
      out.push(mk(`In what country is the town of ${city.name} with a population of ${formatInt(city.population)}?`, countryNames(country), id, 'located_in'));
    // What is the population of X?
    if (same.length === 1) out.push(mk(`What is the population of ${city.name}?`, numberAnswers(city.population), id, 'population'));
    else if (same.filter((c) => c.cca2 === city.cca2).length === 1)
      out.push(mk(`What is the population of ${city.name} in ${country.common}?`, numberAnswers(city.population), id, 'population'));
  }
  return out;
}

function mk(question: string, golden: string[], id: string, relation: string): Candidate {
  return { question, golden_answers: golden, supporting_ids: [id], family: FAMILY, relations: [relation] };
}
