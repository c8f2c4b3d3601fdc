// Entity slots of the policy tokenizer (policy-tokenizer.ts "Slots"): which words are names, first-appearance
// numbering shared across the calls that build one sequence, the four ids of a slot, lossless round trips with the
// sequence's map, the fallback when the slots run out, prefix maps, the JSON form and the vocabulary hash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorldTokenizer, POLICY_TEMPLATE_TEXTS, questionOpeners, worldVocabTexts } from '../../src/agent/sft-data.ts';
import { PolicyTokenizer, SlotMap } from '../../src/text/policy-tokenizer.ts';
import { buildPolicyVocab, findNameWords, IDS_PER_SLOT, parsePolicyVocab, PIECE_BASE, PolicyVocabError, serializePolicyVocab } from '../../src/text/policy-vocab.ts';
import { buildWorld } from '../../src/world/build.ts';
import { readWorld, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';

let dir: string;
let corpus: CorpusRecord[];
let questions: Question[];
let plain: PolicyTokenizer;
let tok: PolicyTokenizer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-slots-'));
  writeWorld(join(dir, 'world'), buildWorld({ seed: 3, size: 'tiny', sources: loadSources() }).world);
  const w = readWorld(join(dir, 'world'));
  corpus = w.corpus;
  questions = SPLITS.flatMap((s) => PARTS.flatMap((p) => w.questions[s][p]));
  plain = buildWorldTokenizer(corpus, questions);
  tok = buildWorldTokenizer(corpus, questions, { slots: 8 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A tokenizer over hand-written texts: names are Qobu, Baku, Azerbaijan (capitalized mid-sentence). */
function handTokenizer(slots: number): PolicyTokenizer {
  const texts = ['the town of Qobu is in Azerbaijan and its capital is Baku', 'near Baku and Qobu in Azerbaijan', 'the capital is a city'];
  return new PolicyTokenizer(buildPolicyVocab(texts, ['Question : Answer'], { slots, nameTexts: texts, minWordCount: 1 }));
}

describe('names', () => {
  it('are words capitalized at least twice as often as lowercase, not counting sentence openers or exempt words', () => {
    const texts = ['In Baku. Its capital is Baku, near Qobu.', 'Its people live in Qobu and Ganja.', 'we saw ganja and Ganja twice'];
    // Baku: 2 capitalized (one opens the text: not counted -> 1), Qobu 2, Ganja 2 capitalized vs 1 lowercase;
    // "Its" and "In" only open sentences; "we" is lowercase.
    expect(findNameWords(texts, [])).toEqual(['baku', 'ganja', 'qobu']);
    expect(findNameWords(texts, ['Qobu'])).toEqual(['baku', 'ganja']);
    expect(findNameWords(['Ganja ganja ganja', 'x Ganja'], [])).toEqual([]);
  });

  it('of a world are the passages\' proper nouns, never template words or frequent question openers', () => {
    const names = tok.vocab.nameWords ?? [];
    expect(names.length).toBeGreaterThan(20);
    for (const w of ['question', 'answer', 'doc', 'title', 'its', 'the']) expect(names).not.toContain(w);
    for (const w of questionOpeners(questions)) expect(tok.isName(w)).toBe(false);
    const title = corpus[0].contents.split('\n')[0].replace(/"/g, '').split(' ')[0];
    expect(tok.isName(title)).toBe(names.includes(title.toLowerCase()));
  });
});

describe('slot ids', () => {
  it('come after the pieces, four per slot, and the vocabulary hash covers them', () => {
    expect(tok.slots).toBe(8);
    expect(tok.slotBase).toBe(PIECE_BASE + tok.vocab.pieces.length);
    expect(tok.size).toBe(tok.slotBase + IDS_PER_SLOT * 8);
    expect(tok.vocab.pieces).toEqual(plain.vocab.pieces);
    expect(tok.hash).not.toBe(plain.hash);
    expect(buildWorldTokenizer(corpus, questions, { slots: 9 }).hash).not.toBe(tok.hash);
    expect(tok.isSlot(tok.slotBase - 1)).toBe(false);
    expect(tok.isSlot(tok.slotBase)).toBe(true);
    expect(tok.slotOf(tok.slotBase + 4 * 3 + 2)).toBe(3);
    expect(tok.tokenText(tok.slotBase + 4 * 3)).toBe('\u2581@3');
    expect(tok.tokenText(tok.slotBase + 4 * 3 + 3)).toBe('@3_lc');
    expect(() => tok.slotOf(5)).toThrow(/not an entity slot/);
  });

  it('number names by first appearance across the calls of one sequence, with case and spacing variants', () => {
    const t = handTokenizer(4);
    const b = t.slotBase;
    const m = new SlotMap();
    const q = t.encode('Question : where is qobu', m);
    expect(Array.from(q.slice(-1))).toEqual([b + 0 * 4 + 0 + 2]); // " qobu": slot 0, spaced, lowercase
    const p = t.encode('"Qobu" Qobu is in Azerbaijan , Baku', m);
    // "Qobu" glued after the quote: slot 0 capitalized glued; then spaced; Azerbaijan slot 1, Baku slot 2.
    expect(Array.from(p).filter((id) => t.isSlot(id))).toEqual([b + 1, b + 0, b + 4, b + 8]);
    expect(m.names).toEqual(['Qobu', 'Azerbaijan', 'Baku']);
    expect(t.decode(q, m)).toBe('Question : where is qobu');
    expect(t.decode(p, m)).toBe('"Qobu" Qobu is in Azerbaijan , Baku');
    // Without the map a slot reads as its placeholder; a fresh map per call numbers from 0 again.
    expect(t.decode(p)).toBe('"@0" @0 is in @1 , @2');
    expect(Array.from(t.encode('Baku', new SlotMap()))).toEqual([b + 1]);
  });

  it('round-trip every passage and question of a world with one map per sequence', () => {
    for (const r of corpus.slice(0, 200)) {
      const m = new SlotMap();
      const ids = tok.encode(r.contents, m);
      expect(tok.decode(ids, m)).toBe(tok.normalize(r.contents));
    }
    for (const q of questions.slice(0, 200)) {
      const m = new SlotMap();
      expect(tok.decode(tok.encode(q.question, m), m)).toBe(tok.normalize(q.question));
    }
  });

  it('fall back to pieces and spelling once the slots are taken, and spell another capitalization of a slot', () => {
    const t = handTokenizer(1);
    const m = new SlotMap();
    const ids = t.encode('Qobu Baku Qobu', m);
    expect(Array.from(ids).filter((id) => t.isSlot(id)).length).toBe(2);
    expect(m.names).toEqual(['Qobu']);
    expect(t.decode(ids, m)).toBe('Qobu Baku Qobu');
    const m2 = new SlotMap();
    const all = t.encode('Qobu QOBU qobu', m2);
    expect(Array.from(all).filter((id) => t.isSlot(id)).length).toBe(2); // QOBU is spelled
    expect(t.decode(all, m2)).toBe('Qobu QOBU qobu');
  });

  it('decode a lowercase-first slot written capitalized with its first letter raised', () => {
    const t = handTokenizer(2);
    const m = new SlotMap();
    t.encode('where is qobu', m);
    expect(t.decode([t.slotBase + 0], m)).toBe('Qobu');
    expect(t.decode([t.slotBase + 4], m)).toBe('@1'); // not given yet
  });

  it('prefix maps keep the slots a prefix uses (first-appearance order makes them 0..m-1)', () => {
    const t = handTokenizer(4);
    const m = new SlotMap();
    const a = t.encode('qobu is in Azerbaijan', m);
    const b = t.encode('Baku', m);
    expect(t.prefixSlots(m.names, a).names).toEqual(['qobu', 'Azerbaijan']);
    expect(t.prefixSlots(m.names, a, b).names).toEqual(['qobu', 'Azerbaijan', 'Baku']);
    expect(t.prefixSlots(m.names).size).toBe(0);
    expect(() => t.prefixSlots(['qobu'], a)).toThrow(/slot @1/);
    expect(new SlotMap(m.names).names).toEqual(m.names);
  });
});

describe('JSON form with slots', () => {
  it('round-trips slots and names, and names what is wrong', () => {
    const json = serializePolicyVocab(tok.vocab);
    const back = parsePolicyVocab(json, 'v.json');
    expect(back.slots).toBe(8);
    expect(back.nameWords).toEqual(tok.vocab.nameWords);
    expect(back.hash).toBe(tok.hash);
    const o = JSON.parse(json) as Record<string, unknown>;
    expect(() => parsePolicyVocab(JSON.stringify({ ...o, slots: -1 }), 'v.json')).toThrow(/v.json: "slots" must be an integer/);
    expect(() => parsePolicyVocab(JSON.stringify({ ...o, nameWords: ['Baku'] }), 'v.json')).toThrow(/"nameWords" must be an array of lowercase words/);
    expect(() => parsePolicyVocab(JSON.stringify({ ...o, slots: 0, size: undefined }), 'v.json')).toThrow(/"nameWords" is given but "slots" is 0/);
    expect(() => parsePolicyVocab(JSON.stringify({ ...o, slots: 9 }), 'v.json')).toThrow(PolicyVocabError);
    expect(() => buildPolicyVocab(worldVocabTexts(corpus, questions), POLICY_TEMPLATE_TEXTS, { slots: 1.5 })).toThrow(/slots must be an integer/);
  });

  it('keeps the hash of a vocabulary without slots', () => {
    expect(parsePolicyVocab(serializePolicyVocab(plain.vocab)).hash).toBe(plain.hash);
    expect(plain.vocab.slots).toBeUndefined();
  });
});
