// Recall@3 on a tiny world (built in a temp dir), the `retrieval eval` command, and Search-R1's passage format.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENCODER_MISSING, retrieval } from '../../src/cli/retrieval.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { evaluateRecall } from '../../src/retrieval/eval.ts';
import { informationBlock, passagesToString, pyStrip, splitPassage } from '../../src/retrieval/format.ts';
import type { Retriever, SearchHit } from '../../src/retrieval/types.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question, World } from '../../src/world/types.ts';

let root: string;
let world: World;
let corpus: CorpusRecord[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'retrieval-eval-'));
  world = buildWorld({ seed: 3, size: 'tiny', sources: loadSources() }).world;
  corpus = corpusRecords(world);
  writeWorld(join(root, 'world'), world);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A retriever that returns fixed ids per query. */
function fixed(answer: (q: string) => string[]): Retriever {
  return {
    name: 'fixed',
    search: async (qs, k) => qs.map((q) => answer(q).slice(0, k).map((id, i): SearchHit => ({ id, index: i, score: -i }))),
  };
}

const q = (id: string, supporting: string[], hops: number, family: string): Question => ({
  id, question: id, golden_answers: ['x'], supporting_ids: supporting, hops, family, relations: [],
});

describe('evaluateRecall', () => {
  it('is the mean share of supporting passages in the top 3, and all@3 the share with every one', async () => {
    const qs = [q('a', ['p1'], 1, 'one-hop'), q('b', ['p1', 'p2'], 2, 'bridge'), q('c', ['p1', 'p2', 'p3'], 3, 'three-hop'), q('d', [], 1, 'one-hop')];
    const got: Record<string, string[]> = { a: ['p9', 'p1'], b: ['p2', 'p8', 'p7', 'p1'], c: ['p3', 'p1', 'p2'] };
    const r = await evaluateRecall(qs, fixed((x) => got[x] ?? []));
    // a: 1/1; b: 1/2 (p1 is 4th); c: 3/3; d skipped (no evidence).
    expect(r.questions).toBe(3);
    expect(r.skipped).toBe(1);
    expect(r.recall).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(r.all).toBeCloseTo(2 / 3, 12);
    expect(Object.keys(r.perHop)).toEqual(['1', '2', '3']);
    expect(r.perHop['2']).toEqual({ recall: 0.5, all: 0, questions: 1 });
    expect(r.perFamily['three-hop'].all).toBe(1);
  });

  it('gives 1 to an oracle and 0 to an empty retriever on the tiny world', async () => {
    const qs = world.questions.hotpotqa.test;
    const byText = new Map(qs.map((x) => [x.question, x.supporting_ids]));
    expect((await evaluateRecall(qs, fixed((x) => byText.get(x) ?? []))).all).toBe(1);
    expect((await evaluateRecall(qs, fixed(() => []))).recall).toBe(0);
  });

  it('BM25 finds most one-hop evidence on the tiny world', async () => {
    const r = await evaluateRecall(world.questions.popqa.test, createBm25Retriever(corpus));
    expect(r.questions).toBe(world.questions.popqa.test.length);
    expect(r.recall).toBeGreaterThan(0.5);
    expect(r.recall).toBeLessThanOrEqual(1);
  });
});

describe('retrieval eval (CLI)', () => {
  async function run(args: string[]): Promise<{ code: number; out: string[]; err: string }> {
    const out: string[] = [];
    let err = '';
    const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void (err += `${String(s)}\n`));
    try {
      return { code: await retrieval(args), out, err };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('prints one JSON object with recall_at_3, all_at_3, per hop and per family', async () => {
    const r = await run(['eval', '--world', join(root, 'world'), '--retriever', 'bm25', '--split', '2wiki', '--limit', '10']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out[r.out.length - 1]) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual([
      'split', 'part', 'retriever', 'recall_at_3', 'all_at_3', 'questions', 'skipped', 'per_hop', 'per_family',
      'per_hop_all_at_3', 'per_family_all_at_3', 'seconds',
    ]);
    expect(j).toMatchObject({ split: '2wiki', part: 'test', retriever: 'bm25', questions: Math.min(10, world.questions['2wiki'].test.length) });
    expect(typeof j.recall_at_3).toBe('number');
    const qs = world.questions['2wiki'].test.slice(0, 10);
    const want = await evaluateRecall(qs, createBm25Retriever(corpus));
    expect(j.recall_at_3).toBeCloseTo(want.recall, 3);
  });

  it('reads the dev part when asked and rejects bad options', async () => {
    const dev = await run(['eval', '--world', join(root, 'world'), '--retriever', 'bm25', '--split', 'nq', '--part', 'dev']);
    expect(JSON.parse(dev.out[dev.out.length - 1]).questions).toBe(world.questions.nq.dev.length);
    expect((await run(['eval', '--world', join(root, 'world'), '--retriever', 'tfidf', '--split', 'nq'])).code).toBe(2);
    expect((await run(['eval', '--world', join(root, 'world'), '--retriever', 'bm25', '--split', 'squad'])).err).toMatch(/--split must be one of nq, triviaqa/);
  });

  it('says the encoder is not built yet when asked for e5 without src/retrieval/encoder-retriever.ts', async () => {
    const { existsSync } = await import('node:fs');
    if (existsSync(join(process.cwd(), 'src/retrieval/encoder-retriever.ts'))) return; // the encoder has landed
    const r = await run(['eval', '--world', join(root, 'world'), '--retriever', 'e5', '--split', 'nq']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(ENCODER_MISSING);
    expect(r.err).toContain('the encoder is not built yet');
  });
});

describe('Search-R1 passage format', () => {
  const docs = ['"Ouagadougou"\nOuagadougou is the capital of Burkina Faso.', '"Burkina Faso"\nBurkina Faso is a country.\nSecond line.'];

  it('is _passages2string exactly: quoted title line kept, "Doc i(Title: T) text\\n"', () => {
    expect(passagesToString(docs)).toBe(
      'Doc 1(Title: "Ouagadougou") Ouagadougou is the capital of Burkina Faso.\n' +
        'Doc 2(Title: "Burkina Faso") Burkina Faso is a country.\nSecond line.\n',
    );
    expect(passagesToString(['no newline'])).toBe('Doc 1(Title: no newline) \n');
    expect(passagesToString([])).toBe('');
  });

  it('wraps an observation as generation.py does', () => {
    expect(informationBlock(docs.slice(0, 1))).toBe('\n\n<information>Doc 1(Title: "Ouagadougou") Ouagadougou is the capital of Burkina Faso.</information>\n\n');
    expect(pyStrip('\x1c\u3000 a b \n\x85')).toBe('a b');
    expect(pyStrip('\ufeffa')).toBe('\ufeffa'); // not whitespace to Python
  });

  it('splits title and text for display', () => {
    expect(splitPassage(docs[1])).toEqual({ title: 'Burkina Faso', text: 'Burkina Faso is a country.\nSecond line.' });
    expect(splitPassage('Plain')).toEqual({ title: 'Plain', text: '' });
  });
});
