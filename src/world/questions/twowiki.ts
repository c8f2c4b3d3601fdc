// 2WikiMultiHopQA-like: comparisons (area, population, landlocked, same country), bridge-comparisons (which city
// lies in the larger country) and compositional bridges. Compared entities come from one held-out partition.
import type { CityRecord, Part } from '../types.ts';
import { shuffle } from '../random.ts';
import {
  type Candidate, type GenContext, choose, cityId, citiesWithCountry, countryId, countryNames, nameInOneCountry,
  nameUnique, uniqueCapitals,
} from './common.ts';

function byPartition<T>(ctx: GenContext, items: readonly T[], id: (t: T) => string): Map<Part, T[]> {
  const m = new Map<Part, T[]>();
  for (const t of items) {
    const p = ctx.partitionOf(id(t));
    const list = m.get(p) ?? [];
    list.push(t);
    m.set(p, list);
  }
  return m;
}

/** Pairs within each partition: each item with the next two of a seeded shuffle. */
function pairs<T>(ctx: GenContext, items: readonly T[], id: (t: T) => string): [T, T][] {
  const out: [T, T][] = [];
  for (const [, list] of byPartition(ctx, items, id)) {
    const s = shuffle(ctx.rng, [...list]);
    for (let i = 0; i < s.length; i++) for (const d of [1, 2]) if (i + d < s.length) out.push([s[i], s[i + d]]);
  }
  return out;
}

function cmp(question: string, golden: string[], supporting: string[], relations: string[], family = 'comparison'): Candidate {
  return { question, golden_answers: golden, supporting_ids: supporting, family, relations, comparison: true };
}

export function twoWikiCandidates(ctx: GenContext): Candidate[] {
  const { kb } = ctx;
  const out: Candidate[] = [];
  // Countries: area and landlocked.
  for (const [a, b] of pairs(ctx, kb.countries, countryId)) {
    const ids = [countryId(a), countryId(b)];
    const v = { a: a.common, b: b.common };
    if (a.area !== b.area) {
      const w = a.area > b.area ? a : b;
      out.push(cmp(choose(ctx, ['Which country has a larger area, {a} or {b}?', 'Which is bigger by area, {a} or {b}?'], v), countryNames(w), ids, ['area', 'area']));
    }
    if (a.landlocked !== b.landlocked)
      out.push(cmp(choose(ctx, ['Which country is landlocked, {a} or {b}?', 'Which of these has no coastline, {a} or {b}?'], v), countryNames(a.landlocked ? a : b), ids, ['landlocked', 'landlocked']));
    else out.push(cmp(`Are both ${a.common} and ${b.common} landlocked?`, [a.landlocked ? 'yes' : 'no'], ids, ['landlocked', 'landlocked']));
  }
  // Cities with a name no other place has: population and same country.
  const unique = kb.cities.filter((c) => nameUnique(kb, c) && c.population > 0);
  for (const [x, y] of pairs(ctx, unique, cityId)) {
    if (x.population === y.population) continue;
    const v = { x: x.name, y: y.name };
    out.push(cmp(choose(ctx, ['Which city has a larger population, {x} or {y}?', 'Which has more inhabitants, {x} or {y}?'], v), [x.population > y.population ? x.name : y.name], [cityId(x), cityId(y)], ['population', 'population']));
  }
  const placed = citiesWithCountry(kb).filter((c) => nameInOneCountry(kb, c));
  const byCountry = new Map<string, CityRecord[]>();
  for (const c of placed) byCountry.set(c.cca2, [...(byCountry.get(c.cca2) ?? []), c]);
  for (const [x, y] of pairs(ctx, placed, cityId)) {
    const same = x.cca2 === y.cca2;
    // Half the yes/no questions pair x with a town of its own country, so "yes" is as common as "no".
    const y2 = !same && ctx.rng.next() < 0.5 ? (byCountry.get(x.cca2) ?? []).find((c) => c.id !== x.id && ctx.partitionOf(cityId(c)) === ctx.partitionOf(cityId(x))) : undefined;
    const other = y2 ?? y;
    out.push(cmp(`Are ${x.name} and ${other.name} located in the same country?`, [x.cca2 === other.cca2 ? 'yes' : 'no'], [cityId(x), cityId(other)], ['located_in', 'located_in']));
    if (!same) {
      const cx = kb.countryOf(x);
      const cy = kb.countryOf(y);
      if (cx.area !== cy.area)
        out.push(cmp(`Which city is in the country with the larger area, ${x.name} or ${y.name}?`, [cx.area > cy.area ? x.name : y.name], [cityId(x), countryId(cx), cityId(y), countryId(cy)], ['located_in', 'area'], 'bridge-comparison'));
    }
  }
  // Compositional bridges.
  for (const city of placed) {
    if (kb.capitalOf.has(city.id) || ctx.rng.next() < 0.5) continue;
    const country = kb.countryOf(city);
    if (country.languages.length > 0)
      out.push({ question: `What is the official language of the country where ${city.name} is located?`, golden_answers: country.languages, supporting_ids: [cityId(city), countryId(country)], family: 'bridge', relations: ['located_in', 'language'] });
  }
  for (const { city, country } of uniqueCapitals(kb)) {
    const neighbours = country.borders.map((b) => kb.countryByCca3.get(b)?.common ?? '').filter((n) => n !== '');
    if (neighbours.length > 0)
      out.push({ question: `Which country borders the country whose capital is ${city.name}?`, golden_answers: neighbours, supporting_ids: [cityId(city), countryId(country)], family: 'bridge', relations: ['capital_of', 'borders'] });
  }
  return out;
}

