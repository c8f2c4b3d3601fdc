// Held-out entities and the seven splits. Entities are grouped into clusters (a country with all its cities; a
// WordNet instance with everything that is part of it), and clusters into partitions train/dev/test (stratified
// by size, 8:1:1). A question belongs to the partition all its supporting passages share, so no entity of a
// dev or test question appears in any train question. Then each (split, part) is checked, de-duplicated and
// sampled down to its cap.
import type { Rng } from '../engine/rng.ts';
import { normalizeAnswer } from '../reward/normalize.ts';
import type { Kb } from './kb.ts';
import type { Candidate } from './questions/common.ts';
import { roundRobin, shuffle } from './random.ts';
import { countryId, synsetId } from './titles.ts';
import type { Part, Question, SplitName, SplitQuestions } from './types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from './types.ts';

/** Partition of every passage id. */
export function assignPartitions(kb: Kb, rng: Rng): Map<string, Part> {
  const clusters = new Map<string, string[]>();
  const join = (key: string, id: string): void => {
    const list = clusters.get(key);
    if (list) list.push(id);
    else clusters.set(key, [id]);
  };
  // Every country of world-countries is a cluster, with a passage or not (tiny look-alikes live abroad).
  for (const c of [...kb.src.countries].sort((a, b) => (a.cca3 < b.cca3 ? -1 : 1))) clusters.set(`C:${c.cca3}`, []);
  for (const c of kb.countries) join(`C:${c.cca3}`, countryId(c));
  for (const city of kb.cities) join(`C:${kb.countryOf(city).cca3}`, `city:${city.id}`);
  const selected = new Map(kb.synsets.map((s) => [s.offset, s]));
  const rootOf = (offset: string): string => {
    const seen = new Set<string>();
    let cur = offset;
    for (;;) {
      seen.add(cur);
      const next = selected.get(cur)?.partOf.find((o) => selected.has(o));
      if (!next || seen.has(next)) return cur;
      cur = next;
    }
  };
  const wordnetKeys: string[] = [];
  for (const s of kb.synsets) {
    const key = `W:${rootOf(s.offset)}`;
    if (!clusters.has(key)) wordnetKeys.push(key);
    join(key, synsetId(s));
  }
  const countryKeys = [...clusters.keys()].filter((k) => k.startsWith('C:'));
  const out = new Map<string, Part>();
  for (const keys of [countryKeys, wordnetKeys]) {
    const sorted = [...keys].sort((a, b) => (clusters.get(b)?.length ?? 0) - (clusters.get(a)?.length ?? 0) || (a < b ? -1 : 1));
    for (let i = 0; i < sorted.length; i += 10) {
      const block = sorted.slice(i, i + 10);
      const order = shuffle(rng, block.map((_, j) => j));
      block.forEach((key, j) => {
        const rank = order.indexOf(j);
        const part: Part = block.length >= 3 && rank === 0 ? 'dev' : block.length >= 3 && rank === 1 ? 'test' : 'train';
        for (const id of clusters.get(key) ?? []) out.set(id, part);
      });
    }
  }
  return out;
}

export interface Caps {
  train: number;
  dev: number;
  test: number;
  /** The build fails when a split's test (or a training split's train) part has fewer questions. */
  minTest: number;
}

export interface SplitStats {
  candidates: number;
  crossPartition: number;
  unstated: number;
  ambiguous: number;
  duplicate: number;
}

function answerKey(golden: readonly string[]): string {
  return [...new Set(golden.map(normalizeAnswer))].sort().join('\u0001');
}

/** The gold answers that a supporting passage states (all of them for comparisons), or null when the first is not. */
export function statedAnswers(c: Candidate, normContents: (id: string) => string): string[] | null {
  if (c.comparison) return uniqAnswers(c.golden_answers);
  const hay = c.supporting_ids.map((id) => ` ${normContents(id)} `);
  const ok = c.golden_answers.filter((g) => {
    const n = normalizeAnswer(g);
    return n.length > 0 && hay.some((h) => h.includes(` ${n} `));
  });
  return ok.length > 0 && ok[0] === c.golden_answers[0] ? uniqAnswers(ok) : null;
}

/** Drops exact repeats and answers that normalize to nothing. */
function uniqAnswers(golden: readonly string[]): string[] {
  return golden.filter((g, i) => golden.indexOf(g) === i && normalizeAnswer(g) !== '');
}

/**
 * The order questions are drawn in: every question type (family and relation chain) in turn, and within a type
 * every group (the subject's country, for questions about towns) in turn, so a capped split mixes all types and
 * countries instead of mirroring how many towns GeoNames lists per country.
 */
export function balancedOrder<T>(rng: Rng, items: readonly T[], type: (t: T) => string, group: (t: T) => string): T[] {
  return roundRobin(rng, items, type, (list) => roundRobin(rng, list, group, (l) => shuffle(rng, l)));
}

export function makeSplits(
  kb: Kb,
  candidates: Record<SplitName, Candidate[]>,
  partition: Map<string, Part>,
  caps: Caps,
  rngFor: (split: SplitName) => Rng,
): { questions: SplitQuestions; stats: Record<SplitName, SplitStats> } {
  const normCache = new Map<string, string>();
  const normContents = (id: string): string => {
    let n = normCache.get(id);
    if (n === undefined) {
      const c = kb.contentsById.get(id);
      if (c === undefined) throw new Error(`question cites passage ${id}, which is not in the corpus`);
      normCache.set(id, (n = normalizeAnswer(c)));
    }
    return n;
  };
  const stats = Object.fromEntries(SPLITS.map((s) => [s, { candidates: 0, crossPartition: 0, unstated: 0, ambiguous: 0, duplicate: 0 }])) as Record<SplitName, SplitStats>;

  // 1. Partition and answer check.
  type Placed = { split: SplitName; part: Part; c: Candidate; qkey: string };
  const placed: Placed[] = [];
  const answersOf = new Map<string, Set<string>>();
  for (const split of SPLITS) {
    for (const c of candidates[split]) {
      stats[split].candidates++;
      const qkey = normalizeAnswer(c.question);
      const seen = answersOf.get(qkey) ?? new Set<string>();
      seen.add(answerKey(c.golden_answers));
      answersOf.set(qkey, seen);
      const parts = new Set(c.supporting_ids.map((id) => partition.get(id)));
      const part = parts.size === 1 ? [...parts][0] : undefined;
      if (part === undefined) {
        stats[split].crossPartition++;
        continue;
      }
      if (part === 'train' && !TRAINING_SPLITS.includes(split)) continue;
      const golden = statedAnswers(c, normContents);
      if (!golden) {
        stats[split].unstated++;
        continue;
      }
      placed.push({ split, part, c: { ...c, golden_answers: golden }, qkey });
    }
  }
  // 2. A question text with two different answers anywhere in the world is ambiguous: every copy goes (below).
  // 3. Sample each (split, part) down to its cap; a text already used elsewhere is a duplicate.
  const townCountry = new Map(kb.cities.map((c) => [`city:${c.id}`, c.cca2]));
  const groupOf = (c: Candidate): string => c.group ?? townCountry.get(c.supporting_ids[0]) ?? '';
  const used = new Set<string>();
  const questions = Object.fromEntries(SPLITS.map((s): [SplitName, Record<Part, Question[]>] => [s, { train: [], dev: [], test: [] }])) as SplitQuestions;
  for (const split of SPLITS) {
    const rng = rngFor(split);
    for (const part of PARTS) {
      const pool = placed.filter((p) => p.split === split && p.part === part);
      const kept: Question[] = [];
      for (const p of balancedOrder(rng, pool, (x) => `${x.c.family}:${x.c.relations.join('>')}`, (x) => groupOf(x.c))) {
        if (kept.length >= caps[part]) break;
        if ((answersOf.get(p.qkey)?.size ?? 0) > 1) {
          stats[split].ambiguous++;
          continue;
        }
        if (used.has(p.qkey)) {
          stats[split].duplicate++;
          continue;
        }
        used.add(p.qkey);
        kept.push({
          id: `${split}-${part}-${String(kept.length).padStart(5, '0')}`,
          question: p.c.question,
          golden_answers: p.c.golden_answers,
          supporting_ids: p.c.supporting_ids,
          hops: p.c.supporting_ids.length,
          family: p.c.family,
          relations: p.c.relations,
        });
      }
      questions[split][part] = kept;
    }
  }
  return { questions, stats };
}
