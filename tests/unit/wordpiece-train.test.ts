// WordPiece vocabulary training: specials first, merges by hand, determinism, and full coverage of the corpus.
import { describe, expect, it } from 'vitest';
import { basicTokenize, WordPieceTokenizer } from '../../src/text/wordpiece.ts';
import { TRAINED_SPECIAL_TOKENS, trainedVocabToText, trainWordPiece } from '../../src/text/wordpiece-train.ts';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** A small corpus with accents, several scripts, CJK, punctuation, digits and emoji. */
function corpus(): string[] {
  const base = [
    '"Aruba"\nAruba is a territory in Caribbean, in the Americas region. Its capital is Oranjestad.',
    'Zürich is a city in Switzerland. It has a population of 402,762 (2017).',
    'São Tomé and Príncipe; its currency is the dobra (STN) — officially "Dobra".',
    'Москва is the capital of Russia. Its native name is Россия.',
    '東京 (Tokyo) is the capital of Japan; 日本 in Japanese. Seoul is 서울.',
    'Ελλάδα, Ἀθῆναι and ΟΔΟΣ; emoji 😀 and symbols 25°C, 5€, ½.',
    'Łódź, Øresund, Ångström, straße, İstanbul, ǅemal, ﬁne print.',
  ];
  const out: string[] = [];
  for (let i = 0; i < 30; i++) out.push(...base.map((s) => `${s} Passage ${i} of ${i * 7 + 3}.`));
  return out;
}

describe('trainWordPiece', () => {
  it('merges the most frequent pair first and stops at min frequency', () => {
    const r = trainWordPiece(['ab ab ab ac'], { minFrequency: 2 });
    // "a" only starts words and "b"/"c" only continue them here, but every letter gets both forms.
    expect(r.tokens).toEqual([...SPECIALS, 'a', 'b', 'c', '##a', '##b', '##c', 'ab']);
    expect(r.stats).toEqual({ words: 4, uniqueWords: 2, alphabet: 6, merges: 1, stop: 'min_frequency' });
    const all = trainWordPiece(['ab ab ab ac'], { minFrequency: 1 });
    expect(all.tokens.slice(5)).toEqual(['a', 'b', 'c', '##a', '##b', '##c', 'ab', 'ac']);
  });

  it('gives every letter both forms, punctuation and CJK only the word form', () => {
    const r = trainWordPiece(['x, 中'], { minFrequency: 1 });
    expect(r.tokens).toEqual([...SPECIALS, ',', 'x', '中', '##x']);
  });

  it('breaks count ties by the pair strings and stops at vocabSize', () => {
    const r = trainWordPiece(['cd ab'], { minFrequency: 1, vocabSize: 5 + 8 + 1 });
    expect(r.tokens.slice(-1)).toEqual(['ab']);
    expect(r.stats.stop).toBe('vocab_size');
    expect(r.tokens).toHaveLength(14);
  });

  it('puts the specials at ids 0-4 and extra words right after', () => {
    // E5's prefixes: ':' is not in this corpus, so without the extra words it would be [UNK].
    expect(trainWordPiece(corpus(), { vocabSize: 300 }).tokens).not.toContain(':');
    const r = trainWordPiece(corpus(), { vocabSize: 300, extraWords: ['Query:', 'passage:'] });
    expect(TRAINED_SPECIAL_TOKENS).toEqual(SPECIALS);
    expect(r.tokens.slice(0, 8)).toEqual([...SPECIALS, 'query', ':', 'passage']);
    const tok = new WordPieceTokenizer(r.tokens, {}, 'trained');
    expect([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId]).toEqual([0, 1, 2, 3, 4]);
    expect(tok.tokenize('query: passage:')).toEqual(['query', ':', 'passage', ':']);
  });

  it('is deterministic and independent of corpus order', () => {
    const c = corpus();
    const a = trainWordPiece(c, { vocabSize: 300 });
    const b = trainWordPiece(c, { vocabSize: 300 });
    const shuffled = [...c].reverse();
    const d = trainWordPiece(shuffled, { vocabSize: 300 });
    expect(b.tokens).toEqual(a.tokens);
    expect(d.tokens).toEqual(a.tokens);
    expect(a.tokens).toHaveLength(300);
    expect(a.stats.stop).toBe('vocab_size');
    expect(new Set(a.tokens).size).toBe(300);
    // With room to spare, merging goes on until every word is a single token.
    const full = trainWordPiece(c, { vocabSize: 5000 });
    expect(full.stats.stop).toBe('exhausted');
    for (const w of new Set(c.flatMap((t) => basicTokenize(t)))) expect(full.tokens).toContain(w);
  });

  it('covers the corpus: every word encodes without [UNK], at every vocabulary size', () => {
    const c = corpus();
    for (const vocabSize of [10, 200, 2000]) {
      const r = trainWordPiece(c, { vocabSize });
      const tok = WordPieceTokenizer.fromVocabTxt(trainedVocabToText(r), 'trained.txt');
      for (const text of c) {
        const ids = tok.encode(text, 10_000).ids;
        expect(Array.from(ids).includes(tok.unkId)).toBe(false);
      }
      // Every character of the corpus, alone and inside a word, is known.
      for (const w of new Set(c.flatMap((t) => basicTokenize(t)))) {
        for (const ch of w) expect(tok.tokenize(`${ch} a${ch}${ch}`)).not.toContain('[UNK]');
      }
    }
  });

  it('learns frequent words whole', () => {
    const r = trainWordPiece(corpus(), { vocabSize: 600 });
    const tok = new WordPieceTokenizer(r.tokens, {}, 'trained');
    expect(tok.tokenize('Aruba is the capital of Zürich')).toEqual(['aruba', 'is', 'the', 'capital', 'of', 'zurich']);
  });

  it('round-trips through vocab.txt', () => {
    const r = trainWordPiece(corpus(), { vocabSize: 300 });
    const text = trainedVocabToText(r);
    expect(text.split('\n')).toHaveLength(r.tokens.length + 1);
    expect(WordPieceTokenizer.fromVocabTxt(text, 'v.txt').tokens).toEqual(r.tokens);
  });

  it('rejects a vocabSize too small for the specials', () => {
    expect(() => trainWordPiece(['a'], { vocabSize: 3 })).toThrow(/vocabSize must be an integer >= 5/);
  });
});
