// Build a WordPiece vocabulary from a corpus, deterministically, the way HF tokenizers' WordPieceTrainer does:
// BPE merges over the corpus's BasicTokenizer words, with '##' marking word-internal pieces.
//
//   1. Count the words BasicTokenizer gives (the same normalizer the tokenizer will use; words longer than
//      maxInputCharsPerWord are skipped: the tokenizer maps them to [UNK] anyway).
//   2. Alphabet: every character of the corpus, both as a word start `c` and as a continuation `##c` (except
//      punctuation and CJK ideographs, which are always words of their own). This guarantees that every word
//      made of corpus characters encodes without [UNK].
//   3. Merge: repeatedly join the most frequent adjacent pair (a, ##b) -> "ab" (count-weighted over the words;
//      ties broken by the pair's strings, so the result does not depend on corpus order), appending each new
//      piece, until the vocabulary has `vocabSize` tokens or no pair occurs `minFrequency` times.
//
// Our vocabulary's special tokens are [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4 (BERT's own vocab has
// [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103); the tokenizer looks them up by string either way.
import { BERT_UNCASED, basicTokenize, isBertPunctuation, isCjkIdeograph, type NormalizerOptions, vocabToText } from './wordpiece.ts';

/** Special tokens of vocabularies we train, in id order: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4. */
export const TRAINED_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceTrainOptions {
  /**
   * Target vocabulary size including specials and alphabet (default 8000). The alphabet is never cut (that would
   * break coverage), so a corpus with more distinct characters than this yields specials + alphabet.
   */
  vocabSize?: number;
  /** A pair must occur at least this often (count-weighted) to be merged (default 2). */
  minFrequency?: number;
  /** Must match the tokenizer's (default: BERT uncased). */
  normalizer?: NormalizerOptions;
  /** Default '##'. */
  continuingSubwordPrefix?: string;
  /** Default 100. */
  maxInputCharsPerWord?: number;
  /**
   * Text whose BasicTokenizer words are added whole right after the special tokens, e.g. E5's prefixes
   * ['query:', 'passage:'] (-> 'query', ':', 'passage'), which the corpus itself may lack: a ':' missing from
   * the vocabulary would make every prefix encode with an [UNK].
   */
  extraWords?: readonly string[];
}

export interface WordPieceTrainResult {
  /** tokens[id]: specials, extra words, alphabet, then merged pieces in merge order. */
  tokens: string[];
  stats: {
    /** BasicTokenizer words counted (with repetition). */
    words: number;
    uniqueWords: number;
    /** Alphabet tokens (word-start and ## forms). */
    alphabet: number;
    merges: number;
    /** Why merging stopped: the target size, no pair frequent enough, or every word already one token. */
    stop: 'vocab_size' | 'min_frequency' | 'exhausted';
  };
}

/** A max-heap of pairs keyed by (count desc, left string asc, right string asc). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly less: (ca: number, ka: number, cb: number, kb: number) => boolean) {}
  get size(): number {
    return this.keys.length;
  }
  push(count: number, key: number): void {
    const c = this.counts;
    const k = this.keys;
    let i = k.length;
    c.push(count);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(c[i], k[i], c[p], k[p])) break;
      [c[i], c[p]] = [c[p], c[i]];
      [k[i], k[p]] = [k[p], k[i]];
      i = p;
    }
  }
  /** Pops the best entry: [count, key]. */
  pop(): [number, number] {
    const c = this.counts;
    const k = this.keys;
    const top: [number, number] = [c[0], k[0]];
    const lc = c.pop() as number;
    const lk = k.pop() as number;
    if (k.length > 0) {
      c[0] = lc;
      k[0] = lk;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < k.length && this.less(c[l], k[l], c[m], k[m])) m = l;
        if (r < k.length && this.less(c[r], k[r], c[m], k[m])) m = r;
        if (m === i) break;
        [c[i], c[m]] = [c[m], c[i]];
        [k[i], k[m]] = [k[m], k[i]];
        i = m;
      }
    }
    return top;
  }
}

const PAIR_BASE = 2 ** 21;

/** Train a WordPiece vocabulary on `corpus` (any iterable of texts, e.g. passage contents). */
export function trainWordPiece(corpus: Iterable<string>, opts: WordPieceTrainOptions = {}): WordPieceTrainResult {
  const vocabSize = opts.vocabSize ?? 8000;
  const minFrequency = opts.minFrequency ?? 2;
  const normalizer = opts.normalizer ?? BERT_UNCASED;
  const prefix = opts.continuingSubwordPrefix ?? '##';
  const maxChars = opts.maxInputCharsPerWord ?? 100;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < TRAINED_SPECIAL_TOKENS.length) {
    throw new Error(`trainWordPiece: vocabSize must be an integer >= ${TRAINED_SPECIAL_TOKENS.length}, got ${vocabSize}`);
  }
  if (vocabSize >= PAIR_BASE) throw new Error(`trainWordPiece: vocabSize must be below ${PAIR_BASE}`);

  // 1. Word counts.
  const counts = new Map<string, number>();
  let total = 0;
  for (const text of corpus) {
    for (const w of basicTokenize(text, normalizer)) {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      total++;
    }
  }
  const uniq = [...counts]
    .map(([w, c]) => ({ w, c, chars: Array.from(w) }))
    .filter((e) => e.chars.length <= maxChars)
    .sort((a, b) => b.c - a.c || (a.w < b.w ? -1 : a.w > b.w ? 1 : 0));

  // Interned symbols; `tokens` is the vocabulary in id order.
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = tokens.length;
      ids.set(s, id);
      tokens.push(s);
    }
    return id;
  };
  for (const s of TRAINED_SPECIAL_TOKENS) intern(s);
  for (const w of opts.extraWords ?? []) {
    for (const piece of basicTokenize(w, normalizer)) intern(piece);
  }

  // 2. Alphabet, sorted by code point: word-start forms, then ## forms.
  const chars = new Set<string>();
  for (const e of uniq) for (const ch of e.chars) chars.add(ch);
  const sortedChars = [...chars].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
  const before = tokens.length;
  for (const ch of sortedChars) intern(ch);
  for (const ch of sortedChars) {
    const cp = ch.codePointAt(0) as number;
    if (!isBertPunctuation(cp) && !(normalizer.handleChineseChars && isCjkIdeograph(cp))) intern(prefix + ch);
  }
  const alphabet = tokens.length - before;

  // Words as symbol sequences.
  const words: number[][] = uniq.map((e) => e.chars.map((ch, i) => ids.get(i === 0 ? ch : prefix + ch) as number));
  const freq = uniq.map((e) => e.c);

  // 3. Pair statistics.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  words.forEach((syms, w) => {
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i] * PAIR_BASE + syms[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]);
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== w) list.push(w);
    }
  });
  const less = (ca: number, ka: number, cb: number, kb: number): boolean => {
    if (ca !== cb) return ca > cb;
    const la = tokens[Math.floor(ka / PAIR_BASE)];
    const lb = tokens[Math.floor(kb / PAIR_BASE)];
    if (la !== lb) return la < lb;
    return tokens[ka % PAIR_BASE] < tokens[kb % PAIR_BASE];
  };
  const heap = new PairHeap(less);
  for (const [key, c] of pairCount) heap.push(c, key);

  const seen = new Int32Array(words.length).fill(-1);
  let merges = 0;
  let stop: 'vocab_size' | 'min_frequency' | 'exhausted' = 'exhausted';
  const changed = new Set<number>();
  const add = (key: number, delta: number, w: number): void => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + delta);
    changed.add(key);
    if (delta > 0) {
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== w) list.push(w);
    }
  };
  while (tokens.length < vocabSize) {
    if (heap.size === 0) break;
    const [c, key] = heap.pop();
    if (pairCount.get(key) !== c) continue; // stale entry
    if (c < minFrequency) {
      stop = 'min_frequency';
      break;
    }
    const a = Math.floor(key / PAIR_BASE);
    const b = key % PAIR_BASE;
    const merged = intern(tokens[a] + tokens[b].slice(prefix.length));
    merges++;
    changed.clear();
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === merges) continue;
      seen[w] = merges;
      const syms = words[w];
      let has = false;
      for (let i = 0; i + 1 < syms.length; i++) {
        if (syms[i] === a && syms[i + 1] === b) {
          has = true;
          break;
        }
      }
      if (!has) continue;
      const f = freq[w];
      for (let i = 0; i + 1 < syms.length; i++) add(syms[i] * PAIR_BASE + syms[i + 1], -f, w);
      const next: number[] = [];
      for (let i = 0; i < syms.length; ) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          next.push(merged);
          i += 2;
        } else next.push(syms[i++]);
      }
      words[w] = next;
      for (let i = 0; i + 1 < next.length; i++) add(next[i] * PAIR_BASE + next[i + 1], f, w);
    }
    pairWords.delete(key);
    for (const k of changed) {
      const n = pairCount.get(k) as number;
      if (n > 0) heap.push(n, k);
      else {
        pairCount.delete(k);
        pairWords.delete(k);
      }
    }
  }
  if (tokens.length >= vocabSize) stop = 'vocab_size';
  return { tokens, stats: { words: total, uniqueWords: uniq.length, alphabet, merges, stop } };
}

/** vocab.txt text of a trained vocabulary. */
export function trainedVocabToText(result: WordPieceTrainResult): string {
  return vocabToText(result.tokens);
}
