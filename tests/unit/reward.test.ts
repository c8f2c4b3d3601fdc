import { describe, expect, it } from 'vitest';
// Imported from the modules (not src/index.ts) so these tests do not depend on the engine being built.
import { normalizeAnswer } from '../../src/reward/normalize.ts';
import { exactMatch, f1Score } from '../../src/reward/em.ts';
import { extractAnswer } from '../../src/reward/extract.ts';
import { processReward, type StepLabel } from '../../src/reward/process.ts';
import { hybridReward } from '../../src/reward/hybrid.ts';

describe('normalizeAnswer (SQuAD normalize_answer)', () => {
  it('lowercases, drops punctuation and articles, squashes whitespace', () => {
    expect(normalizeAnswer('The  Eiffel Tower!')).toBe('eiffel tower');
    expect(normalizeAnswer('West African CFA franc')).toBe('west african cfa franc');
    expect(normalizeAnswer('')).toBe('');
    expect(normalizeAnswer('   ')).toBe('');
  });

  it('removes punctuation without inserting a space', () => {
    expect(normalizeAnswer('U.S.')).toBe('us');
    expect(normalizeAnswer("O'Neil")).toBe('oneil');
    expect(normalizeAnswer('rock-and-roll')).toBe('rockandroll');
    expect(normalizeAnswer('snake_case')).toBe('snakecase');
    expect(normalizeAnswer('1,000,000')).toBe('1000000');
    expect(normalizeAnswer('a/b')).toBe('ab');
    expect(normalizeAnswer('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')).toBe('');
  });

  it('keeps non-ASCII punctuation (string.punctuation is ASCII only)', () => {
    expect(normalizeAnswer('«Paris»')).toBe('«paris»');
    expect(normalizeAnswer('Paris—France')).toBe('paris—france');
    expect(normalizeAnswer('“quoted”')).toBe('“quoted”');
  });

  it('removes articles only as whole words', () => {
    expect(normalizeAnswer('an apple')).toBe('apple');
    expect(normalizeAnswer('A Tale of Two Cities')).toBe('tale of two cities');
    expect(normalizeAnswer('theater')).toBe('theater');
    expect(normalizeAnswer('Anne and Thea')).toBe('anne and thea');
    expect(normalizeAnswer('bathe')).toBe('bathe');
    expect(normalizeAnswer('the the the')).toBe('');
    expect(normalizeAnswer('a an the')).toBe('');
    expect(normalizeAnswer('the_end')).toBe('theend'); // '_' is punctuation, removed first
    expect(normalizeAnswer('the1')).toBe('the1');
    expect(normalizeAnswer('1the')).toBe('1the');
  });

  it('removes punctuation before articles, so punctuation-glued articles go too', () => {
    expect(normalizeAnswer('(the) end')).toBe('end');
    expect(normalizeAnswer('the-end')).toBe('theend');
    expect(normalizeAnswer("the's")).toBe('thes');
  });

  it('replaces an article with a space, which can split a word', () => {
    // SQuAD replaces the match by ' ': 'x·the·y' with non-word separators keeps both sides apart.
    expect(normalizeAnswer('x\u00b7the\u00b7y')).toBe('x· ·y');
  });

  it('uses Unicode word characters for the article boundaries (as Python 3 re)', () => {
    expect(normalizeAnswer('the élan')).toBe('élan');
    expect(normalizeAnswer('café the')).toBe('café');
    expect(normalizeAnswer('éthe')).toBe('éthe');
    expect(normalizeAnswer('theé')).toBe('theé');
    expect(normalizeAnswer('theß')).toBe('theß');
    expect(normalizeAnswer('the東京')).toBe('the東京');
    expect(normalizeAnswer('a²')).toBe('a²'); // '²' is numeric (No), a word character
    // A combining mark is not a word character in Python's re: 'a' + U+0301 loses its 'a'.
    expect(normalizeAnswer('a\u0301 b')).toBe('\u0301 b');
    expect(normalizeAnswer('The Ångström')).toBe('ångström');
  });

  it('lowercases with full Unicode rules', () => {
    expect(normalizeAnswer('ÉCOLE')).toBe('école');
    expect(normalizeAnswer('ΟΔΟΣ')).toBe('\u03bf\u03b4\u03bf\u03c2'); // final sigma
    expect(normalizeAnswer('THE ANSWER')).toBe('answer');
  });

  it('splits on Python whitespace: tabs, newlines, NBSP, ideographic space, \\x1c-\\x1f, \\x85', () => {
    expect(normalizeAnswer(' the\tquick \n brown\r\nfox  ')).toBe('quick brown fox');
    expect(normalizeAnswer('new\u00a0york')).toBe('new york');
    expect(normalizeAnswer('new\u3000york')).toBe('new york');
    expect(normalizeAnswer('new\u2009york\u2028city')).toBe('new york city');
    expect(normalizeAnswer('new\x1cyork\x85city\x1f')).toBe('new york city');
    expect(normalizeAnswer('\x0bnew\x0cyork')).toBe('new york');
  });

  it('does not split on characters Python does not treat as whitespace', () => {
    expect(normalizeAnswer('new\ufeffyork')).toBe('new\ufeffyork');
    expect(normalizeAnswer('new\u200byork')).toBe('new\u200byork');
  });
});

describe('exactMatch', () => {
  it('is 1 when the normalized forms are equal for some gold', () => {
    expect(exactMatch('The West African CFA franc.', ['West African CFA franc'])).toBe(1);
    expect(exactMatch('Paris', ['London', 'paris'])).toBe(1);
    expect(exactMatch('U.S.', ['US'])).toBe(1);
    expect(exactMatch('an apple', ['Apple'])).toBe(1);
  });

  it('is 0 otherwise, and for an empty gold list', () => {
    expect(exactMatch('Paris France', ['Paris'])).toBe(0);
    expect(exactMatch('Paris', [])).toBe(0);
    expect(exactMatch('', [])).toBe(0);
  });

  it('matches when both sides normalize to the empty string (as SQuAD)', () => {
    expect(exactMatch('the', ['a'])).toBe(1);
    expect(exactMatch('', [''])).toBe(1);
  });
});

describe('f1Score (SQuAD token F1)', () => {
  it('is 1 for equal normalized answers and 0 without common tokens', () => {
    expect(f1Score('The Paris', ['paris'])).toBe(1);
    expect(f1Score('London', ['Paris'])).toBe(0);
  });

  it('computes precision/recall on tokens', () => {
    // pred: [west, african, franc], gold: [west, african, cfa, franc] -> P = 1, R = 3/4, F1 = 6/7
    expect(f1Score('West African franc', ['West African CFA franc'])).toBeCloseTo(6 / 7, 12);
    // pred: [new, york, city], gold: [york] -> P = 1/3, R = 1, F1 = 0.5
    expect(f1Score('New York City', ['York'])).toBeCloseTo(0.5, 12);
  });

  it('counts repeated tokens as a multiset intersection', () => {
    // pred [x, x, y] vs gold [x, y, y]:
    // common = {x: 1, y: 1} -> 2; P = 2/3, R = 2/3, F1 = 2/3
    expect(f1Score('x x y', ['x y y'])).toBeCloseTo(2 / 3, 12);
    // pred [x, x, x] vs gold [x] -> common 1; P = 1/3, R = 1 -> 0.5
    expect(f1Score('x x x', ['x'])).toBeCloseTo(0.5, 12);
    // pred [x] vs gold [x, x] -> P = 1, R = 1/2 -> 2/3
    expect(f1Score('x', ['x x'])).toBeCloseTo(2 / 3, 12);
  });

  it('returns the exact SQuAD float (2PR/(P+R))', () => {
    const p = 2 / 3;
    const r = 2 / 4;
    expect(f1Score('x y z', ['x y w v'])).toBe((2 * p * r) / (p + r));
  });

  it('takes the maximum over golds and is 0 for no golds', () => {
    expect(f1Score('New York City', ['Boston', 'York', 'new york city'])).toBe(1);
    expect(f1Score('New York City', ['Boston', 'York'])).toBeCloseTo(0.5, 12);
    expect(f1Score('anything', [])).toBe(0);
  });

  it('is 0 when either side normalizes to empty (num_same == 0), even both', () => {
    expect(f1Score('', ['Paris'])).toBe(0);
    expect(f1Score('Paris', ['the'])).toBe(0);
    expect(f1Score('the', ['a'])).toBe(0);
    expect(f1Score('', [''])).toBe(0);
  });

  it('tokenizes after normalization (punctuation joined, whitespace of any kind split)', () => {
    expect(f1Score('U.S. army', ['US\tarmy'])).toBe(1);
    expect(f1Score('rock-n-roll', ['rock n roll'])).toBe(0);
  });
});

describe('extractAnswer', () => {
  it('returns the trimmed content of the only answer', () => {
    expect(extractAnswer('<think> x </think> <answer> West African CFA franc </answer>')).toBe(
      'West African CFA franc',
    );
  });

  it('returns the last complete answer', () => {
    expect(extractAnswer('<answer>first</answer> then <answer> second </answer>')).toBe('second');
    expect(extractAnswer('<answer>a</answer><answer>b</answer><answer>c</answer>')).toBe('c');
  });

  it('returns null without a complete answer', () => {
    expect(extractAnswer('')).toBeNull();
    expect(extractAnswer('no tags at all')).toBeNull();
    expect(extractAnswer('<answer> never closed')).toBeNull();
    expect(extractAnswer('closed only </answer>')).toBeNull();
    expect(extractAnswer('</answer> wrong order <answer>')).toBeNull();
    expect(extractAnswer('<Answer>x</Answer>')).toBeNull();
  });

  it('ignores an unclosed trailing answer', () => {
    expect(extractAnswer('<answer> one </answer> and <answer> two')).toBe('one');
    expect(extractAnswer('<answer> one </answer>' + '<answer> x'.repeat(5000))).toBe('one');
  });

  it('spans newlines and is non-greedy', () => {
    expect(extractAnswer('<answer>\n  line one\nline two \n</answer>')).toBe('line one\nline two');
    expect(extractAnswer('<answer>x</answer> junk </answer>')).toBe('x');
  });

  it('runs from an opening tag to the nearest closer (regex semantics) on nested tags', () => {
    expect(extractAnswer('<answer> a <answer> b </answer>')).toBe('a <answer> b');
    expect(extractAnswer('<answer> a </answer> <answer> b <answer> c </answer>')).toBe('b <answer> c');
  });

  it('returns an empty string for an empty answer', () => {
    expect(extractAnswer('<answer></answer>')).toBe('');
    expect(extractAnswer('<answer>   </answer>')).toBe('');
  });

  it('only sees what it is given: pass the response, not the prompt', () => {
    const prompt = 'give the final answer inside <answer></answer>. Question: Q?';
    const response = '<think> hmm </think> <answer> Paris </answer>';
    expect(extractAnswer(response)).toBe('Paris');
    expect(extractAnswer(prompt + '\n<think> unsure </think>')).toBe('');
    expect(extractAnswer('<think> unsure </think>')).toBeNull();
  });
});

describe('processReward', () => {
  it('is useful / number of search actions', () => {
    expect(processReward(['useful', 'irrelevant', 'redundant', 'useful'])).toBe(0.5);
    expect(processReward(['useful'])).toBe(1);
    expect(processReward(['redundant', 'irrelevant', 'useful'])).toBeCloseTo(1 / 3, 15);
    expect(processReward(['irrelevant', 'redundant'])).toBe(0);
  });

  it('is 0 without search actions', () => {
    expect(processReward([])).toBe(0);
  });

  it('throws on an unknown label, naming its index', () => {
    const bad = ['useful', 'helpful'] as unknown as StepLabel[];
    expect(() => processReward(bad)).toThrow(/index 1/);
    expect(() => processReward(['Useful'] as unknown as StepLabel[])).toThrow(/index 0/);
    expect(() => processReward([undefined] as unknown as StepLabel[])).toThrow(/index 0/);
  });
});

describe('hybridReward', () => {
  it('is em * (1 + process)', () => {
    expect(hybridReward(1, 0.5)).toBe(1.5);
    expect(hybridReward(1, 0)).toBe(1);
    expect(hybridReward(1, 1)).toBe(2);
    expect(hybridReward(0, 1)).toBe(0);
    expect(hybridReward(0, 0.5)).toBe(0);
  });

  it('composes with the other rewards', () => {
    const em = exactMatch(extractAnswer('<answer> the franc </answer>') ?? '', ['Franc']);
    expect(hybridReward(em, processReward(['useful', 'redundant']))).toBe(1.5);
  });
});
