// The policy tokenizer on a tiny world: special ids, determinism, lossless round trips of every passage,
// question and gold answer, fallback rates, offsets, and the versioned JSON form with its errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { questionText } from '../../src/agent/prompts.ts';
import { buildWorldTokenizer, POLICY_TEMPLATE_TEXTS, worldVocabTexts } from '../../src/agent/sft-data.ts';
import { passagesToString } from '../../src/retrieval/format.ts';
import { extractAnswer } from '../../src/reward/extract.ts';
import { normalizeAnswer } from '../../src/reward/normalize.ts';
import { addFallbackStats, type FallbackStats, PolicyTokenizer, SPECIAL_IDS } from '../../src/text/policy-tokenizer.ts';
import {
  buildPolicyVocab, BYTE_BASE, normalizePolicyText, parsePolicyVocab, PIECE_BASE, PolicyVocabError, pretokenize, SPECIAL_TOKENS,
} from '../../src/text/policy-vocab.ts';
import { buildWorld } from '../../src/world/build.ts';
import { readWorld, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';

let dir: string;
let corpus: CorpusRecord[];
let questions: Question[];
let tok: PolicyTokenizer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-tok-'));
  writeWorld(join(dir, 'world'), buildWorld({ seed: 3, size: 'tiny', sources: loadSources() }).world);
  const w = readWorld(join(dir, 'world'));
  corpus = w.corpus;
  questions = SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p]));
  tok = buildWorldTokenizer(corpus, questions);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('policy vocabulary', () => {
  it('has the special tokens at fixed ids, then 256 bytes, then pieces; at most 8000 ids', () => {
    expect(SPECIAL_TOKENS.slice(0, 4)).toEqual(['<pad>', '<unk>', '<bos>', '<eos>']);
    for (const t of ['<think>', '</think>', '<search>', '</search>', '<information>', '</information>', '<answer>', '</answer>', '<actor>', '<judge>', '<trim>', '<accept>', '<reject>'])
      expect(SPECIAL_TOKENS).toContain(t);
    expect(SPECIAL_IDS.cut.map((i) => SPECIAL_TOKENS[i])).toEqual(['<cut_0>', '<cut_1>', '<cut_2>', '<cut_3>', '<cut_4>']);
    expect(SPECIAL_IDS.pad).toBe(0);
    expect(BYTE_BASE).toBe(SPECIAL_TOKENS.length);
    expect(PIECE_BASE).toBe(BYTE_BASE + 256);
    expect(tok.size).toBeLessThanOrEqual(8000);
    expect(tok.size).toBe(PIECE_BASE + tok.vocab.pieces.length);
    for (const w of [' Doc', '(Title:', ' Question', ' think', ' capital']) expect(tok.pieceToId(w), w).toBeDefined();
  });

  it('is deterministic and independent of the order of its texts', () => {
    const texts = [...worldVocabTexts(corpus, questions)];
    const a = buildPolicyVocab(texts, POLICY_TEMPLATE_TEXTS);
    const b = buildPolicyVocab([...texts].reverse(), [...POLICY_TEMPLATE_TEXTS].reverse());
    expect(a.hash).toBe(tok.hash);
    expect(b.hash).toBe(a.hash);
    expect(b.pieces).toEqual(a.pieces);
  });

  it('respects maxSize and says when it is too small', () => {
    const texts = [...worldVocabTexts(corpus, questions)];
    const small = buildPolicyVocab(texts, POLICY_TEMPLATE_TEXTS, { maxSize: 1200 });
    expect(PIECE_BASE + small.pieces.length).toBe(1200);
    expect(() => buildPolicyVocab(texts, POLICY_TEMPLATE_TEXTS, { maxSize: 300 })).toThrow(PolicyVocabError);
  });
});

describe('encode / decode', () => {
  it('round-trips every passage and question to its normalized text, without <unk>', () => {
    const texts = [...corpus.map((r) => r.contents), ...questions.map((q) => q.question)];
    for (const t of texts) {
      const ids = tok.encode(t);
      expect(ids).toBeInstanceOf(Int32Array);
      expect(ids.includes(SPECIAL_IDS.unk)).toBe(false);
      expect(tok.decode(ids)).toBe(normalizePolicyText(t));
    }
  });

  it('every gold answer survives encode/decode (normalizeAnswer), alone and inside <answer>', () => {
    let n = 0;
    for (const q of questions)
      for (const a of q.golden_answers) {
        n++;
        expect(normalizeAnswer(tok.decode(tok.encode(a))), a).toBe(normalizeAnswer(a));
        const resp = tok.decode(tok.encode(`<think> done </think><answer>${a}</answer>`));
        expect(normalizeAnswer(extractAnswer(resp) ?? ''), a).toBe(normalizeAnswer(a));
      }
    expect(n).toBeGreaterThan(500);
  });

  it('is lossless on awkward text: scripts, emoji, control characters, lone surrogates, glued tags', () => {
    const cases = [
      '<answer>Baku</answer>',
      '  lead and   trail \n\t ',
      'Ōsaka, 大阪 & Zürich (+41) 😀 ʁɛpublika',
      'a\u0000b\u200bc\ufeffd',
      'lone \ud800 high and \udc00 low',
      'Doc 1(Title: "Aruba") Aruba is a territory.\nDoc 2(Title: "X") y',
      '<think>x</think><search>q</search><information>Doc 1(Title: "T") t</information><cut_3><accept>',
      '<pad> <bos> <unk> are plain text here',
      'e\u0301te\u0301 decomposed',
      '',
    ];
    for (const t of cases) expect(tok.decode(tok.encode(t)), JSON.stringify(t)).toBe(normalizePolicyText(t));
    expect(normalizePolicyText('<answer>Baku</answer>')).toBe('<answer> Baku </answer>');
    expect(normalizePolicyText('lone \ud800 x')).toBe('lone \ufffd x');
    expect(tok.decode(tok.encode(''))).toBe('');
  });

  it('gives one token per known word, space-prefixed pieces, tags from text and not control tokens', () => {
    expect(Array.from(tok.encode('<think>'))).toEqual([SPECIAL_IDS.think]);
    expect(Array.from(tok.encode('<cut_2>'))).toEqual([SPECIAL_IDS.cut[2]]);
    expect(tok.encode('<pad>').includes(SPECIAL_IDS.pad)).toBe(false);
    const ids = Array.from(tok.encode('Question: Its capital is'));
    expect(ids.map((i) => tok.tokenText(i))).toEqual(['Question', ':', '▁Its', '▁capital', '▁is']);
    // After a tag the next word is space-prefixed, glued or not.
    expect(Array.from(tok.encode('<answer>capital'))).toEqual(Array.from(tok.encode('<answer> capital')));
    expect(tok.tokenText(BYTE_BASE + 0xe5)).toBe('<0xE5>');
  });

  it('spells unknown words by characters and unknown characters by UTF-8 bytes', () => {
    const ids = Array.from(tok.encode('Qqzxv'));
    expect(ids.length).toBe(5);
    expect(ids.every((i) => !tok.isByte(i) && !tok.isSpecial(i))).toBe(true);
    const emoji = Array.from(tok.encode('x 😀'));
    expect(emoji.filter((i) => tok.isByte(i)).length).toBe(5); // the space byte + 4 UTF-8 bytes
  });

  it('maps every token to the span of the text it came from', () => {
    const text = '<think> Ouagadougou is in Burkina Faso. </think> <search> Qqzxv 😀 </search>';
    const enc = tok.encodeWithOffsets(text);
    expect(enc.ids.length).toBe(enc.starts.length);
    const atoms = pretokenize(text);
    for (const a of atoms) {
      const inside = [...enc.starts].map((s, i) => [s, enc.ends[i]]).filter(([s, e]) => s >= a.start && e <= a.end && e > s);
      expect(inside.length, a.text).toBeGreaterThan(0);
      expect(text.slice(Math.min(...inside.map((x) => x[0])), Math.max(...inside.map((x) => x[1])))).toBe(a.text);
    }
  });

  it('decodes invalid bytes to U+FFFD and rejects ids outside the vocabulary', () => {
    expect(tok.decode([BYTE_BASE + 0xff])).toBe('\ufffd');
    expect(tok.decode([SPECIAL_IDS.bos, SPECIAL_IDS.eos, SPECIAL_IDS.pad])).toBe('');
    expect(() => tok.decode([tok.size])).toThrow(RangeError);
    expect(() => tok.decode([-1])).toThrow(RangeError);
  });

  it('reports the fallback rate on passages and questions (never <unk>)', () => {
    const sum = (xs: string[]): FallbackStats => xs.map((t) => tok.fallbackStats(t)).reduce(addFallbackStats);
    // In the context the policy reads them: passages in an information block, questions after "Question:".
    const p = sum(corpus.map((r) => passagesToString([r.contents])));
    const q = sum(questions.map((x) => `Question: ${questionText(x.question)}`));
    const rate = (s: FallbackStats): string =>
      `spelled words ${((100 * s.spelledWords) / s.words).toFixed(1)}%, fallback tokens ${((100 * s.fallbackTokens) / s.tokens).toFixed(1)}%, byte tokens ${((100 * s.byteTokens) / s.tokens).toFixed(2)}%`;
    console.log(`policy vocab (tiny world): ${tok.size} ids; passages: ${rate(p)}; questions: ${rate(q)}`);
    expect(p.unkTokens + q.unkTokens).toBe(0);
    expect(p.tokens).toBe(corpus.reduce((n, r) => n + tok.encode(passagesToString([r.contents])).length, 0));
    expect(q.spelledWords / q.words).toBeLessThan(0.2);
  });
});

describe('JSON form', () => {
  it('round-trips with its version and hash', () => {
    const json = tok.toJSON();
    const again = PolicyTokenizer.fromJSON(json);
    expect(again.hash).toBe(tok.hash);
    expect(again.size).toBe(tok.size);
    const t = corpus[0].contents;
    expect(Array.from(again.encode(t))).toEqual(Array.from(tok.encode(t)));
    const o = JSON.parse(json) as Record<string, unknown>;
    expect(o.format).toBe('search-r2-policy-vocab');
    expect(o.version).toBe(1);
    expect(o.hash).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
    expect(o.size).toBe(tok.size);
  });

  it('names what is wrong with a malformed or mismatched file', () => {
    const o = JSON.parse(tok.toJSON()) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>): string => JSON.stringify({ ...o, ...patch });
    const pieces = o.pieces as string[];
    expect(() => parsePolicyVocab('{not json', 'v.json')).toThrow(/v\.json: not JSON/);
    expect(() => parsePolicyVocab('[]')).toThrow(/expected a JSON object/);
    expect(() => parsePolicyVocab(bad({ format: 'other' }))).toThrow(/format is "other"/);
    expect(() => parsePolicyVocab(bad({ version: 2 }))).toThrow(/version 2 is not supported/);
    expect(() => parsePolicyVocab(bad({ normalization: 'x' }))).toThrow(/normalization/);
    expect(() => parsePolicyVocab(bad({ specials: ['<pad>'] }))).toThrow(/specials differ/);
    expect(() => parsePolicyVocab(bad({ pieces: [...pieces.slice(0, -1), 'edited'] }))).toThrow(/hash mismatch/);
    expect(() => parsePolicyVocab(bad({ pieces: [...pieces, pieces[0]] }))).toThrow(/duplicate/);
    expect(() => parsePolicyVocab(bad({ pieces: [...pieces, 'two words'] }))).toThrow(/whitespace/);
    expect(() => parsePolicyVocab(bad({ pieces: 'x' }))).toThrow(/array of strings/);
    expect(() => parsePolicyVocab(bad({ size: 12 }))).toThrow(/size 12/);
    expect(() => parsePolicyVocab(bad({ hash: 'fnv1a64:0000000000000000' }))).toThrow(PolicyVocabError);
  });
});
