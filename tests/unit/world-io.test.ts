// World files: JSONL errors that name file, line and field; atomic writes; the Search-R1 export/import round trip.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/world/build.ts';
import { readWorld, validateQuestion, worldFiles, writeWorld } from '../../src/world/format.ts';
import { JsonlError, parseJsonl, writeDirAtomic, writeFileAtomic } from '../../src/world/jsonl.ts';
import { exportSearchR1, importSearchR1, validateSearchR1Question } from '../../src/world/searchr1.ts';
import { loadSources } from '../../src/world/sources.ts';
import { PARTS, SPLITS, type World } from '../../src/world/types.ts';

let root: string;
let world: World;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'world-io-'));
  world = buildWorld({ seed: 11, size: 'tiny', sources: loadSources() }).world;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function errorOf(f: () => unknown): JsonlError {
  try {
    f();
  } catch (e) {
    if (e instanceof JsonlError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('JSONL reading', () => {
  it('names file, line and field of a malformed record', () => {
    const text = [
      '{"id":"q1","question":"a?","golden_answers":["x"],"supporting_ids":[],"hops":1,"family":"one-hop"}',
      '',
      '{"id":"q2","question":"b?","golden_answers":"x","supporting_ids":[],"hops":1,"family":"one-hop"}',
    ].join('\n');
    const e = errorOf(() => parseJsonl(text, 'nq/test.jsonl', validateQuestion));
    expect(e.file).toBe('nq/test.jsonl');
    expect(e.line).toBe(3);
    expect(e.field).toBe('golden_answers');
    expect(e.message).toBe('nq/test.jsonl:3: field "golden_answers": expected an array of strings, got a string');
  });

  it('names the element of an array, a missing field and broken JSON', () => {
    const bad = '{"question":"q?","golden_answers":["a", 3]}';
    expect(errorOf(() => parseJsonl(bad, 'f.jsonl', validateSearchR1Question)).message).toBe('f.jsonl:1: field "golden_answers[1]": expected a string, got a number');
    expect(errorOf(() => parseJsonl('{"golden_answers":["a"]}', 'f.jsonl', validateSearchR1Question)).field).toBe('question');
    const broken = errorOf(() => parseJsonl('{"question":"q?","golden_answers":["a"]}\n{"question":', 'g.jsonl', validateSearchR1Question));
    expect(broken.line).toBe(2);
    expect(broken.message).toMatch(/^g\.jsonl:2: invalid JSON/);
    expect(errorOf(() => parseJsonl('[1,2]', 'h.jsonl', validateSearchR1Question)).message).toBe('h.jsonl:1: expected a JSON object, got an array');
  });

  it('reads a written world back, and rejects a question citing a passage the corpus lacks', () => {
    const dir = join(root, 'readback');
    writeWorld(dir, world);
    const w = readWorld(dir);
    expect(w.corpus.length).toBe(world.passages.length);
    for (const split of SPLITS) for (const part of PARTS) expect(w.questions[split][part]).toEqual(world.questions[split][part]);
    const p = join(dir, 'hotpotqa', 'dev.jsonl');
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[1] = lines[1].replace(/"supporting_ids":\["[^"]+"/, '"supporting_ids":["city:0"');
    writeFileSync(p, lines.join('\n'));
    expect(() => readWorld(dir)).toThrow(/hotpotqa\/dev\.jsonl:2: field "supporting_ids\[0\]": passage city:0 is not in/);
  });
});

describe('atomic writes', () => {
  it('a failure part-way leaves no world directory and no temporary files', () => {
    const parent = join(root, 'atomic');
    mkdirSync(parent);
    let n = 0;
    expect(() =>
      writeWorld(join(parent, 'w'), world, () => {
        if (++n === 5) throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a failure while replacing a world keeps the old one intact', () => {
    const dir = join(root, 'replace');
    writeWorld(dir, world);
    const before = readFileSync(join(dir, 'corpus.jsonl'), 'utf8');
    const other = buildWorld({ seed: 12, size: 'tiny', sources: loadSources() }).world;
    expect(() =>
      writeWorld(dir, other, (rel) => {
        if (rel === 'world.json') throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(readFileSync(join(dir, 'corpus.jsonl'), 'utf8')).toBe(before);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
    writeWorld(dir, other);
    expect(readFileSync(join(dir, 'corpus.jsonl'), 'utf8')).toBe(worldFiles(other).get('corpus.jsonl'));
  });

  it('refuses to replace a non-empty directory that is not a world', () => {
    const dir = join(root, 'precious');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    expect(() => writeWorld(dir, world)).toThrow(/not ours to replace/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('writeFileAtomic replaces a file whole and leaves no temporary file', () => {
    const p = join(root, 'single', 'a.jsonl');
    writeFileAtomic(p, 'one\n');
    writeFileAtomic(p, 'two\n');
    expect(readFileSync(p, 'utf8')).toBe('two\n');
    expect(readdirSync(join(root, 'single'))).toEqual(['a.jsonl']);
    expect(() => writeDirAtomic(join(root, 'x'), new Map([['../escape', '']]), { mayReplace: () => false })).toThrow(/bad relative path/);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

describe('Search-R1 export and import', () => {
  it('round-trips questions and corpus', () => {
    const dir = join(root, 'sr1-world');
    const out = join(root, 'sr1');
    writeWorld(dir, world);
    const r = exportSearchR1(dir, out);
    expect(r.passages).toBe(world.passages.length);
    const first = JSON.parse(readFileSync(join(out, 'nq', 'train.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(['id', 'question', 'golden_answers', 'data_source', 'metadata']);
    expect(first.data_source).toBe('nq');
    const corpusLine = JSON.parse(readFileSync(join(out, 'corpus.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(Object.keys(corpusLine)).toEqual(['id', 'contents']);
    expect(existsSync(join(out, 'popqa', 'train.jsonl'))).toBe(false);

    const files = SPLITS.flatMap((s) => PARTS.map((p) => join(out, s, `${p}.jsonl`))).filter((f) => existsSync(f));
    const imp = importSearchR1({ questions: files, corpus: join(out, 'corpus.jsonl') });
    expect(imp.corpus).toEqual(world.passages.map((p) => ({ id: p.id, contents: `"${p.title}"\n${p.text}` })));
    const expected = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p].map((q) => ({
      id: q.id, question: q.question, golden_answers: q.golden_answers, data_source: s, supporting_ids: q.supporting_ids,
    }))));
    expect(imp.questions).toEqual(expected);
    expect(r.questions).toBe(expected.length);
  });

  it('imports plain {question, golden_answers} lines and names the bad line of a broken file', () => {
    const p = join(root, 'plain.jsonl');
    writeFileSync(p, '{"question":"who wrote hamlet","golden_answers":["Shakespeare"]}\n{"id":7,"question":"q2","golden_answers":["b"]}\n');
    const imp = importSearchR1({ questions: [p] });
    expect(imp.questions.map((q) => q.id)).toEqual(['plain.jsonl:1', '7']);
    expect(imp.questions[0].supporting_ids).toEqual([]);
    const c = join(root, 'corpus-bad.jsonl');
    writeFileSync(c, '{"id":"1","contents":"\\"A\\"\\ntext"}\n{"id":"1","contents":"\\"B\\"\\nmore"}\n');
    expect(() => importSearchR1({ questions: [p], corpus: c })).toThrow(`${c}:2: field "id": duplicate passage id 1`);
    writeFileSync(c, '{"id":"1","contents":5}\n');
    expect(() => importSearchR1({ questions: [p], corpus: c })).toThrow(`${c}:1: field "contents": expected a string, got a number`);
  });
});
