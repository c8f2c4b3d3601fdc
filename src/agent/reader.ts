// Reads relation values out of world passages, the way the scripted expert "reads" a retrieved passage. The
// patterns mirror the sentence templates of src/world/passages.ts (one fact per sentence; every sentence after the
// first starts with "It" or "Its"). Pure: works on the corpus records (`"Title"\ntext`), no world build needed.
import { splitPassage } from '../retrieval/format.ts';
import type { CorpusRecord } from '../world/types.ts';

export type PassageKind = 'country' | 'city' | 'wordnet' | 'other';

export interface ParsedPassage {
  id: string;
  /** Row in the corpus. */
  index: number;
  title: string;
  /** The entity's plain name: the title without a disambiguating "(...)" (cities and WordNet entries). */
  name: string;
  text: string;
  kind: PassageKind;
  contents: string;
}

export function passageKind(id: string): PassageKind {
  const p = id.slice(0, id.indexOf(':'));
  return p === 'country' || p === 'city' || p === 'wordnet' ? p : 'other';
}

const DISAMBIGUATION = /^(.+?) \([^()]*\)$/;

export function parsePassage(rec: CorpusRecord, index: number): ParsedPassage {
  const { title, text } = splitPassage(rec.contents);
  const kind = passageKind(rec.id);
  let name = title;
  if (kind === 'city') {
    // The text names the city plainly: "Tripoli is a city in Libya."
    const m = /^(.+?) is an? (?:city|town) in /.exec(text);
    name = m ? m[1] : (DISAMBIGUATION.exec(title)?.[1] ?? title);
  } else if (kind === 'wordnet') name = DISAMBIGUATION.exec(title)?.[1] ?? title;
  return { id: rec.id, index, title, name, text, kind, contents: rec.contents };
}

/** The corpus with look-ups by id and by plain name. */
export class CorpusView {
  readonly passages: ParsedPassage[];
  readonly byId = new Map<string, ParsedPassage>();
  readonly byName = new Map<string, ParsedPassage[]>();
  /** Names of the country passages (to split lists such as "Bosnia and Herzegovina, Croatia and Serbia"). */
  readonly countryNames = new Set<string>();
  private readonly countryLookalikes = new Map<string, ParsedPassage[]>();

  constructor(corpus: readonly CorpusRecord[]) {
    this.passages = corpus.map(parsePassage);
    for (const p of this.passages) {
      this.byId.set(p.id, p);
      const list = this.byName.get(p.name);
      if (list) list.push(p);
      else this.byName.set(p.name, [p]);
      if (p.kind === 'country') this.countryNames.add(p.name);
    }
  }

  get(id: string): ParsedPassage {
    const p = this.byId.get(id);
    if (!p) throw new Error(`passage ${id} is not in the corpus`);
    return p;
  }

  /**
   * Country passages whose name looks like `name`: one name is a whole-word part of the other ("Sudan", "South
   * Sudan"; "Guinea", "Equatorial Guinea") or extends its first word ("Niger", "Nigeria"; "Dominica", "Dominican
   * Republic").
   */
  lookalikeCountries(name: string): ParsedPassage[] {
    const cached = this.countryLookalikes.get(name);
    if (cached) return cached;
    const words = (s: string): string[] => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');
    const inside = (a: string[], b: string[]): boolean => a.length < b.length && b.some((_, i) => a.every((w, j) => b[i + j] === w));
    const extendsFirst = (x: string[], y: string[]): boolean => x[0] !== y[0] && y[0].startsWith(x[0]) && x[0].length >= 4;
    const a = words(name);
    const out = this.passages.filter((p) => {
      if (p.kind !== 'country' || p.name === name) return false;
      const b = words(p.name);
      if (a.length === 0 || b.length === 0) return false;
      return inside(a, b) || inside(b, a) || extendsFirst(a, b) || extendsFirst(b, a);
    });
    this.countryLookalikes.set(name, out);
    return out;
  }

  /** City passages that share `name` but lie in another country than `country` (the look-alikes). */
  lookalikes(name: string, country: string): ParsedPassage[] {
    return (this.byName.get(name) ?? []).filter((p) => p.kind === 'city' && (readRelation(p, 'located_in', this)[0] ?? '') !== country);
  }
}

/** "A, B and C" -> [A, B, C]; a name in `known` that holds " and " stays whole. */
export function splitList(s: string, known?: ReadonlySet<string>): string[] {
  if (known?.has(s)) return [s];
  const parts = s.split(', ');
  const last = parts.pop() ?? '';
  const out = [...parts];
  if (known?.has(last) || !last.includes(' and ')) out.push(last);
  else {
    // Split at the " and " that leaves known names on both sides, else at the last one.
    const idx: number[] = [];
    for (let i = last.indexOf(' and '); i >= 0; i = last.indexOf(' and ', i + 1)) idx.push(i);
    const at = idx.find((i) => known?.has(last.slice(0, i)) && known.has(last.slice(i + 5))) ?? idx.find((i) => known?.has(last.slice(i + 5))) ?? idx[idx.length - 1];
    out.push(last.slice(0, at), last.slice(at + 5));
  }
  return out.filter((x) => x !== '');
}

/** The sentences of a passage text. */
export function sentences(text: string): string[] {
  return text.split(/(?<=\.) (?=Its? )/);
}

function match(text: string, re: RegExp): RegExpExecArray | null {
  for (const s of sentences(text)) {
    const m = re.exec(s);
    if (m) return m;
  }
  return null;
}

/**
 * The values of `relation` stated in a passage ([] when it states none). Relations are the world's relation
 * names (src/world/questions): capital, currency, language, subregion, largest_city, borders, demonym, tld,
 * calling_code, area, landlocked (countries); located_in, capital_of, population (cities); wn_part_of (WordNet).
 * The "_of" relations of trivia questions (capital_of, demonym_of, tld_of, calling_code_of on a country, and
 * wn_described_as) answer with the passage's own name.
 */
export function readRelation(p: ParsedPassage, relation: string, view?: CorpusView): string[] {
  const t = p.text;
  const known = view?.countryNames;
  const list = (re: RegExp): string[] => {
    const m = match(t, re);
    return m ? splitList(m[1], known) : [];
  };
  if (p.kind === 'country') {
    switch (relation) {
      case 'capital': {
        const one = match(t, /^Its capital is (.+)\.$/);
        return one ? [one[1]] : list(/^Its capitals are (.+)\.$/);
      }
      case 'largest_city':
        return list(/^Its most populous city is (.+)\.$/);
      case 'currency': {
        const m = match(t, /^Its currenc(?:y is|ies are) (.+)\.$/);
        if (!m) return [];
        const names: string[] = [];
        const codes: string[] = [];
        for (const c of m[1].matchAll(/the (.+?) \(([A-Z]{3})\)/g)) {
          names.push(c[1]);
          codes.push(c[2]);
        }
        return [...names, ...codes];
      }
      case 'language':
        return list(/^Its official languages? (?:is|are) (.+)\.$/);
      case 'subregion': {
        const m = /is an? (?:landlocked )?(?:country|territory) in (?:(.+?), in )?the (.+?) region\./.exec(sentences(t)[0] ?? '');
        return m ? [m[1], m[2]].filter((x): x is string => x !== undefined) : [];
      }
      case 'borders':
        return list(/^It borders (.+)\.$/);
      case 'demonym': {
        const m = match(t, /^Its people are called (.+?)(?: \(feminine: (.+)\))?\.$/);
        return m ? [m[1], m[2]].filter((x): x is string => x !== undefined) : [];
      }
      case 'tld':
        return list(/^Its internet country code top-level domain is (.+)\.$/);
      case 'calling_code':
        return list(/^Its international calling code is (.+)\.$/);
      case 'area': {
        const m = match(t, /^It has an area of ([\d,.]+) square kilometres\.$/);
        return m ? [m[1]] : [];
      }
      case 'landlocked':
        return [/^[^.]* is a landlocked /.test(t) ? 'yes' : 'no'];
      case 'capital_of':
      case 'demonym_of':
      case 'tld_of':
      case 'calling_code_of':
        return [p.name];
      default:
        return [];
    }
  }
  if (p.kind === 'city') {
    switch (relation) {
      case 'located_in': {
        const m = /^.+? is an? (?:city|town) in (.+?)\.$/.exec(sentences(t)[0] ?? '');
        return m ? [m[1]] : [];
      }
      case 'capital_of':
        return list(/^It is the capital of (.+)\.$/);
      case 'population': {
        const m = match(t, /^It has a population of ([\d,]+)\.$/);
        return m ? [m[1]] : [];
      }
      default:
        return [];
    }
  }
  if (p.kind === 'wordnet') {
    if (relation === 'wn_part_of') return list(/^It is part of (.+)\.$/);
    if (relation === 'wn_described_as') return [p.name];
  }
  return [];
}
