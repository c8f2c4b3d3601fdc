// BM25 over the corpus: the lexical baseline (Search-R1 also reports BM25 runs, through Pyserini).
//
// Scoring, as Lucene's BM25Similarity (Pyserini/Anserini) with Pyserini's defaults k1 = 0.9, b = 0.4:
//   score(q, d) = sum over query terms t of  qtf(t) * idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
//   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
// where qtf counts repeats of t in the query (Anserini's bag-of-words query), |d| is the document's token count
// and avgdl the mean over the corpus. (Lucene dropped the constant (k1 + 1) factor and stores |d| lossily; the
// ranking is the same up to that rounding.) Scores are summed in float64, query terms in first-occurrence order.
// Only documents sharing a term with the query are ranked (as Lucene); ties go to the lower passage index.
//
// Tokenizer (documented, deliberately simple; Pyserini's default analyzer also stems and drops stopwords):
// Unicode NFKC, lowercase, then split on every run of characters that are not letters, combining marks or
// digits (\p{L}\p{M}\p{N}). "São Tomé's 2nd-largest" -> ["são", "tomé", "s", "2nd", "largest"].
import type { CorpusRecord } from '../world/types.ts';
import type { Retriever, SearchHit } from './types.ts';

export const BM25_K1 = 0.9;
export const BM25_B = 0.4;

const SPLIT = /[^\p{L}\p{M}\p{N}]+/u;

export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().split(SPLIT).filter((t) => t.length > 0);
}

export interface Bm25Options {
  k1?: number;
  b?: number;
}

export interface Bm25Hit {
  index: number;
  score: number;
}

export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly size: number;
  readonly avgdl: number;
  private readonly vocab = new Map<string, number>();
  /** Postings in CSR form: term t's documents are docs[offsets[t] .. offsets[t + 1]), increasing. */
  private readonly offsets: Int32Array;
  private readonly docs: Int32Array;
  private readonly tfs: Int32Array;
  private readonly lengths: Int32Array;
  private readonly acc: Float64Array;
  private readonly seen: Uint8Array;

  constructor(documents: readonly string[], opts: Bm25Options = {}) {
    this.k1 = opts.k1 ?? BM25_K1;
    this.b = opts.b ?? BM25_B;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1)) throw new RangeError(`bm25: need k1 >= 0 and 0 <= b <= 1, got k1 = ${this.k1}, b = ${this.b}`);
    const n = documents.length;
    this.size = n;
    this.lengths = new Int32Array(n);
    // Pass 1: per-document term counts (term ids in first-seen order) and document frequencies.
    const docTerms: Int32Array[] = new Array<Int32Array>(n);
    const docCounts: Int32Array[] = new Array<Int32Array>(n);
    const df: number[] = [];
    let total = 0;
    let postings = 0;
    for (let d = 0; d < n; d++) {
      const counts = new Map<number, number>();
      const toks = tokenize(documents[d]);
      for (const tok of toks) {
        let t = this.vocab.get(tok);
        if (t === undefined) {
          t = df.length;
          this.vocab.set(tok, t);
          df.push(0);
        }
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      this.lengths[d] = toks.length;
      total += toks.length;
      docTerms[d] = Int32Array.from(counts.keys());
      docCounts[d] = Int32Array.from(counts.values());
      for (const t of docTerms[d]) df[t]++;
      postings += counts.size;
    }
    this.avgdl = n > 0 ? total / n : 0;
    // Pass 2: CSR postings, documents in increasing order.
    const v = df.length;
    this.offsets = new Int32Array(v + 1);
    for (let t = 0; t < v; t++) this.offsets[t + 1] = this.offsets[t] + df[t];
    this.docs = new Int32Array(postings);
    this.tfs = new Int32Array(postings);
    const fill = this.offsets.slice(0, v);
    for (let d = 0; d < n; d++) {
      const terms = docTerms[d];
      const counts = docCounts[d];
      for (let j = 0; j < terms.length; j++) {
        const at = fill[terms[j]]++;
        this.docs[at] = d;
        this.tfs[at] = counts[j];
      }
    }
    this.acc = new Float64Array(n);
    this.seen = new Uint8Array(n);
  }

  get vocabularySize(): number {
    return this.vocab.size;
  }

  /** Documents containing the term (0 for unknown terms); the term is taken as one token as is. */
  documentFrequency(token: string): number {
    const t = this.vocab.get(token);
    return t === undefined ? 0 : this.offsets[t + 1] - this.offsets[t];
  }

  idf(token: string): number {
    const df = this.documentFrequency(token);
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  /** The k best documents for the query, best first (fewer when fewer documents share a term with it). */
  search(query: string, k: number): Bm25Hit[] {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`bm25: k must be a positive integer, got ${k}`);
    const qtf = new Map<number, number>();
    for (const tok of tokenize(query)) {
      const t = this.vocab.get(tok);
      if (t !== undefined) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    }
    const { acc, seen, docs, tfs, lengths, k1, b } = this;
    const touched: number[] = [];
    const norm = this.avgdl > 0 ? b / this.avgdl : 0;
    for (const [t, count] of qtf) {
      const start = this.offsets[t];
      const end = this.offsets[t + 1];
      const df = end - start;
      const w = count * Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
      for (let p = start; p < end; p++) {
        const d = docs[p];
        const tf = tfs[p];
        if (!seen[d]) {
          seen[d] = 1;
          touched.push(d);
        }
        acc[d] += (w * tf * (k1 + 1)) / (tf + k1 * (1 - b + norm * lengths[d]));
      }
    }
    // Top-k over the touched documents: score descending, lower index first on ties.
    const best: Bm25Hit[] = [];
    for (const d of touched) {
      const s = acc[d];
      acc[d] = 0;
      seen[d] = 0;
      if (best.length === k) {
        const last = best[k - 1];
        if (s < last.score || (s === last.score && d > last.index)) continue;
        best.pop();
      }
      let j = best.length;
      while (j > 0 && (best[j - 1].score < s || (best[j - 1].score === s && best[j - 1].index > d))) j--;
      best.splice(j, 0, { index: d, score: s });
    }
    return best;
  }
}

/** BM25 over a corpus (every record's whole `contents`, title line included, as Pyserini indexes wiki-18). */
export function createBm25Retriever(corpus: readonly CorpusRecord[], opts: Bm25Options = {}): Retriever & { index: Bm25Index } {
  const index = new Bm25Index(corpus.map((r) => r.contents), opts);
  return {
    name: 'bm25',
    index,
    async search(queries: readonly string[], k: number): Promise<SearchHit[][]> {
      return queries.map((q) => index.search(q, k).map((h) => ({ index: h.index, id: corpus[h.index].id, score: h.score })));
    },
  };
}
