// Shared shapes of the retrieval layer: hits, retrievers, and the contract an encoder plugs into.
import type { Backend } from '../engine/types.ts';

/** One retrieved passage. */
export interface SearchHit {
  /** Row of the passage in the corpus (corpus.jsonl line order). */
  index: number;
  /** Passage id ("country:BFA", ...). */
  id: string;
  score: number;
}

/** Anything that answers text queries with ranked passages (BM25, encoder + dense index). */
export interface Retriever {
  /** "bm25", "e5:<encoder id>", ... */
  readonly name: string;
  /** Top-k passages for every query, best first; ties go to the lower passage index. */
  search(queries: readonly string[], k: number): Promise<SearchHit[][]>;
  dispose?(): void;
}

/**
 * The contract of a dense text encoder (E5-style: BERT, mean pooling, L2-normalized). The encoder module,
 * src/retrieval/encoder-retriever.ts, exports `loadEncoderRetriever: LoadEncoderRetriever`.
 */
export interface DenseEncoder {
  /** Identifies the weights (e.g. "e5-small-v2@<sha256 prefix>"): the dense-index cache key, so change it with them. */
  readonly id: string;
  /** Embedding width. */
  readonly dim: number;
  /**
   * Embeddings [texts.length, dim], row-major, L2-normalized. `kind` selects E5's prefix, which the encoder adds
   * itself ("query: " / "passage: "); passages are given as the corpus `contents` ("\"Title\"\ntext") as they are.
   * Must be deterministic: a resumed index build mixes chunks encoded in different sessions.
   */
  encode(texts: readonly string[], kind: 'query' | 'passage'): Promise<Float32Array>;
  dispose?(): void;
}

export interface LoadEncoderOptions {
  /** The backend to run on (and to keep the dense index on). */
  backend: Backend;
}

/** `path`: the encoder weights (a directory or file the user gives); undefined: the shipped encoder. */
export type LoadEncoderRetriever = (path: string | undefined, opts: LoadEncoderOptions) => Promise<DenseEncoder>;
