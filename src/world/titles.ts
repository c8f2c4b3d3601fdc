// Wikipedia-style titles, unique over the corpus. A name that only one entity has keeps the plain name; a shared
// one is disambiguated: countries keep their name, cities become "Name (Country)" (then "Name (Country, ADMIN)",
// then the GeoNames id), WordNet instances "Name (hypernym)". The passage text keeps the plain name, so a search
// for it still finds every look-alike.
import type { CityRecord, CountryRecord, SynsetRecord } from './types.ts';

export const countryId = (c: CountryRecord): string => `country:${c.cca3}`;
export const cityId = (c: CityRecord): string => `city:${c.id}`;
export const synsetId = (s: SynsetRecord): string => `wordnet:${s.offset}`;

export interface TitleInput {
  countries: readonly CountryRecord[];
  cities: readonly CityRecord[];
  synsets: readonly SynsetRecord[];
  countryOf: (city: CityRecord) => CountryRecord;
  hypernymOf: (s: SynsetRecord) => string;
}

export function assignTitles(inp: TitleInput): Map<string, string> {
  const baseCount = new Map<string, number>();
  const bump = (name: string): void => void baseCount.set(name, (baseCount.get(name) ?? 0) + 1);
  for (const c of inp.countries) bump(c.common);
  for (const c of inp.cities) bump(c.name);
  for (const s of inp.synsets) bump(s.lemmas[0]);

  const titles = new Map<string, string>();
  const used = new Set<string>();
  for (const c of inp.countries) {
    if (used.has(c.common)) throw new Error(`two countries share the name "${c.common}"`);
    titles.set(countryId(c), c.common);
    used.add(c.common);
  }

  // Cities: the candidate of each level is taken when no other city of the group would get the same one.
  const cityCandidates = (c: CityRecord): string[] => {
    const country = inp.countryOf(c).common;
    const first = c.name === country ? `${c.name} (city)` : `${c.name} (${country})`;
    const admin = c.adminCode ? `${c.name} (${country}, ${c.adminCode})` : first;
    return [c.name, first, admin, `${c.name} (${country}, ${c.adminCode ? `${c.adminCode}, ` : ''}GeoNames ${c.id})`];
  };
  const synsetCandidates = (s: SynsetRecord): string[] => {
    const hyp = inp.hypernymOf(s);
    return [s.lemmas[0], `${s.lemmas[0]} (${hyp})`, `${s.lemmas[0]} (${hyp}, WordNet ${s.offset})`];
  };
  type Item = { id: string; cands: string[] };
  const items: Item[] = [
    ...inp.cities.map((c) => ({ id: cityId(c), cands: cityCandidates(c) })),
    ...inp.synsets.map((s) => ({ id: synsetId(s), cands: synsetCandidates(s) })),
  ];
  // Level 0 (the plain name) only for a name nobody else has.
  const pending: Item[] = [];
  for (const it of items) {
    const plain = it.cands[0];
    if ((baseCount.get(plain) ?? 0) === 1 && !used.has(plain)) {
      titles.set(it.id, plain);
      used.add(plain);
    } else pending.push(it);
  }
  for (let level = 1; pending.length > 0; level++) {
    const count = new Map<string, number>();
    for (const it of pending) {
      const t = it.cands[Math.min(level, it.cands.length - 1)];
      count.set(t, (count.get(t) ?? 0) + 1);
    }
    const still: Item[] = [];
    for (const it of pending) {
      const last = level >= it.cands.length - 1;
      const t = it.cands[Math.min(level, it.cands.length - 1)];
      if (((count.get(t) ?? 0) === 1 || last) && !used.has(t)) {
        titles.set(it.id, t);
        used.add(t);
      } else if (last) {
        throw new Error(`no unique title for ${it.id} ("${t}")`);
      } else still.push(it);
    }
    pending.length = 0;
    pending.push(...still);
  }
  return titles;
}
