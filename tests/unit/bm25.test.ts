// BM25: the tokenizer, scores checked against the formula by hand, deterministic ties, and top-k.
import { describe, expect, it } from 'vitest';
import { BM25_B, BM25_K1, Bm25Index, createBm25Retriever, tokenize } from '../../src/retrieval/bm25.ts';

describe('tokenize', () => {
  it('lowercases and splits on everything but letters, marks and digits', () => {
    expect(tokenize("São Tomé's 2nd-largest CITY!")).toEqual(['são', 'tomé', 's', '2nd', 'largest', 'city']);
    expect(tokenize('"Aruba"\nAruba is a territory in Caribbean.')).toEqual(['aruba', 'aruba', 'is', 'a', 'territory', 'in', 'caribbean']);
    expect(tokenize('Ōsaka, 大阪 & Zürich (+41)')).toEqual(['ōsaka', '大阪', 'zürich', '41']);
    expect(tokenize('  ...  ')).toEqual([]);
  });

  it('folds compatibility forms (NFKC) and keeps decomposed accents in the word', () => {
    expect(tokenize('ﬁne ＡＢＣ')).toEqual(['fine', 'abc']);
    expect(tokenize('Sa\u0303o Paulo')).toEqual(['são', 'paulo']); // NFKC composes a + combining tilde
  });
});

describe('Bm25Index', () => {
  const docs = ['apple banana apple', 'banana cherry', 'cherry cherry cherry date', 'elderberry'];

  it('uses Pyserini defaults k1 = 0.9, b = 0.4', () => {
    expect([BM25_K1, BM25_B]).toEqual([0.9, 0.4]);
  });

  it('scores by the Lucene BM25 formula', () => {
    const ix = new Bm25Index(docs);
    const n = 4;
    const avgdl = (3 + 2 + 4 + 1) / 4;
    const idf = (df: number): number => Math.log(1 + (n - df + 0.5) / (df + 0.5));
    const term = (tf: number, dl: number): number => (tf * (0.9 + 1)) / (tf + 0.9 * (1 - 0.4 + (0.4 * dl) / avgdl));
    expect(ix.avgdl).toBe(avgdl);
    expect(ix.idf('cherry')).toBeCloseTo(idf(2), 12);
    const hits = ix.search('banana cherry', 4);
    const want = [
      { index: 1, score: idf(2) * term(1, 2) + idf(2) * term(1, 2) },
      { index: 2, score: idf(2) * term(3, 4) },
      { index: 0, score: idf(2) * term(1, 3) },
    ].sort((a, b) => b.score - a.score);
    expect(hits.map((h) => h.index)).toEqual(want.map((h) => h.index));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 12));
  });

  it('counts a repeated query term once per repeat', () => {
    const ix = new Bm25Index(docs);
    const once = ix.search('apple', 1)[0].score;
    expect(ix.search('apple apple', 1)[0].score).toBeCloseTo(2 * once, 12);
  });

  it('breaks ties by the lower passage index and ranks only matching passages', () => {
    const ix = new Bm25Index(['x y', 'z', 'x y', 'x y', 'q']);
    expect(ix.search('x', 10).map((h) => h.index)).toEqual([0, 2, 3]);
    expect(ix.search('x', 2).map((h) => h.index)).toEqual([0, 2]);
    expect(ix.search('nothing here', 3)).toEqual([]);
    expect(ix.search('', 3)).toEqual([]);
  });

  it('gives the same top-k as a full sort on a larger random corpus', () => {
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const corpus = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => words[Math.floor(rnd() * 40)]).join(' '));
    const ix = new Bm25Index(corpus);
    for (let t = 0; t < 20; t++) {
      const q = `${words[Math.floor(rnd() * 40)]} ${words[Math.floor(rnd() * 40)]}`;
      const all = ix.search(q, corpus.length);
      const sorted = [...all].sort((a, b) => b.score - a.score || a.index - b.index);
      expect(all).toEqual(sorted);
      expect(ix.search(q, 3)).toEqual(sorted.slice(0, 3));
    }
  });

  it('refuses bad parameters', () => {
    expect(() => new Bm25Index(docs, { b: 2 })).toThrow(/0 <= b <= 1/);
    expect(() => new Bm25Index(docs).search('apple', 0)).toThrow('bm25: k must be a positive integer, got 0');
  });

  it('works as a Retriever over corpus records, titles included', async () => {
    const r = createBm25Retriever([
      { id: 'a', contents: '"Ouagadougou"\nThe capital of Burkina Faso.' },
      { id: 'b', contents: '"Burkina Faso"\nA landlocked country in Western Africa.' },
    ]);
    const [hits] = await r.search(['Ouagadougou'], 3);
    expect(hits.map((h) => h.id)).toEqual(['a']);
    expect(r.name).toBe('bm25');
  });
});
