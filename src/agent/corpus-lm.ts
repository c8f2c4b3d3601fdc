// Language-modelling examples over the retrieval corpus, the warm start's stand-in for an LLM's pretraining on
// Wikipedia: every passage, written as an information block shows it (`Doc 1(Title: "T") text`), packed into
// chunks of at most `chunkTokens` tokens after <bos>, with the loss on every token.
//
// Why: the policy's vocabulary is counted over the whole corpus and every question, but the Actor, judge and trim
// examples only show the training questions and the passages their searches retrieve. On the default world 2,848
// of the 8,000 ids never occur in them and 5,897 are never a trained output; the dev splits' questions and answers
// are full of such ids (names of held-out entities spelled by one word piece: "Moscow", "Praia"), whose embeddings
// then stay at their random initialization (tied embeddings: the policy can neither read nor write them). Passages
// are world knowledge the system has at training time, as an LLM has read Wikipedia; the held-out part is the
// questions (never used here).
import { Rng } from '../engine/rng.ts';
import { passagesToString } from '../retrieval/format.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { shuffle, streamSeed } from '../world/random.ts';
import type { CorpusRecord } from '../world/types.ts';
import type { SftExample } from './sft-data.ts';

export interface CorpusLmOptions {
  seed: number;
  /** Most tokens per example, <bos> included (default 512). A longer passage is cut. */
  chunkTokens?: number;
}

/** The corpus as LM examples (see the header): passages in a seeded order, packed greedily into chunks. */
export function corpusExamples(tokenizer: PolicyTokenizer, corpus: readonly CorpusRecord[], opts: CorpusLmOptions): SftExample[] {
  const max = opts.chunkTokens ?? 512;
  if (!Number.isInteger(max) || max < 8) throw new RangeError(`corpusExamples: chunkTokens must be an integer >= 8, got ${max}`);
  const order = shuffle(new Rng(streamSeed(opts.seed, 'corpus-lm')), corpus.map((_, i) => i));
  const out: SftExample[] = [];
  let cur: number[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const ids = Int32Array.from([tokenizer.special.bos, ...cur]);
    const mask = new Uint8Array(ids.length).fill(1);
    mask[0] = 0;
    out.push({ role: 'corpus', questionId: `corpus:${out.length}`, ids, mask, promptLength: 1, target: null, label: 'good', correct: true, cut: null });
    cur = [];
  };
  for (const i of order) {
    const ids = tokenizer.encode(passagesToString([corpus[i].contents]).trim()).subarray(0, max - 1);
    if (cur.length + ids.length > max - 1) flush();
    for (const id of ids) cur.push(id);
  }
  flush();
  return out;
}
