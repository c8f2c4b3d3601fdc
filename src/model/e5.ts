// An E5 text encoder: WordPiece tokenizer + BERT encoder + E5's "query: " / "passage: " prefixes, mean pooling and
// L2 normalization (the DenseEncoder contract of src/retrieval/types.ts). Platform-neutral: it takes the files'
// bytes; src/model/encoder-files.ts gets them from a directory, a URL or files the user picks.
//
// A model is three files, as HF ships BERT encoders:
//   config.json        HF BertConfig (vocab_size, hidden_size, num_hidden_layers, ...)
//   model.safetensors  the weights by HF name (F32, F16 or BF16)
//   tokenizer.json     a HF tokenizers WordPiece tokenizer, or vocab.txt (one token per line)
// Loading checks that they fit together: every tensor's shape against the config (an error naming the tensor and
// the file), and the tokenizer's size against vocab_size (an error naming both files).
import type { Backend, Ops } from '../engine/types.ts';
import type { DenseEncoder } from '../retrieval/types.ts';
import { checkTokenizerFitsModel, TokenizerError, WordPieceTokenizer } from '../text/wordpiece.ts';
import { BertEncoder, configFromHf, type EncoderConfig } from './encoder.ts';
import { ShapeMismatchError } from './safetensors.ts';

export const QUERY_PREFIX = 'query: ';
export const PASSAGE_PREFIX = 'passage: ';

/** The bytes of one model's files, each with the name that errors show (a path, a URL, a picked file's name). */
export interface EncoderFiles {
  config: { name: string; bytes: Uint8Array };
  model: { name: string; bytes: Uint8Array };
  /** tokenizer.json (JSON) or vocab.txt (anything else). */
  tokenizer: { name: string; bytes: Uint8Array };
}

export interface E5Options {
  /** Tokens per text, [CLS] and [SEP] included (default min(config maxLen, 512)). */
  maxLen?: number;
  /** Texts per forward pass (default 64). */
  batchSize?: number;
  /** Identifies the weights; default "<name>@<sha256 prefix of the model file>". */
  id?: string;
}

/** A tokenizer from tokenizer.json or vocab.txt bytes (chosen by the content: JSON objects are tokenizer.json). */
export function tokenizerFromBytes(bytes: Uint8Array, name: string): WordPieceTokenizer {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  const json = bytes[i] === 0x7b; // '{'
  return json ? WordPieceTokenizer.fromTokenizerJson(bytes, name) : WordPieceTokenizer.fromVocabTxt(bytes, name);
}

/** Hex SHA-256 of bytes (WebCrypto: Node and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const view = new Uint8Array(bytes.byteLength);
  view.set(bytes);
  const digest = await crypto.subtle.digest('SHA-256', view.buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The base name of a path or URL ("e5-small-v2" from ".../e5-small-v2/model.safetensors"). */
export function modelName(path: string): string {
  const parts = path.replace(/[?#].*$/, '').split(/[\\/]+/).filter((p) => p.length > 0);
  let last = parts[parts.length - 1] ?? 'encoder';
  if (/\.(safetensors|json|txt|onnx)$/i.test(last) && parts.length > 1) last = parts[parts.length - 2];
  return last;
}

export class E5Encoder implements DenseEncoder {
  readonly dim: number;
  readonly maxLen: number;
  readonly batchSize: number;

  constructor(
    readonly id: string,
    readonly model: BertEncoder,
    readonly tokenizer: WordPieceTokenizer,
    opts: E5Options = {},
  ) {
    checkTokenizerFitsModel(tokenizer, model.config.vocab, id);
    this.dim = model.config.dim;
    this.maxLen = Math.min(model.config.maxLen, opts.maxLen ?? 512);
    if (this.maxLen < 2) throw new RangeError(`E5Encoder: maxLen must be at least 2, got ${this.maxLen}`);
    this.batchSize = opts.batchSize ?? 64;
  }

  /** The model's files' bytes, checked against each other, as an encoder on `ops`. */
  static async fromFiles(ops: Ops, files: EncoderFiles, opts: E5Options = {}): Promise<E5Encoder> {
    const config: EncoderConfig = configFromHf(files.config.bytes, files.config.name);
    const tokenizer = tokenizerFromBytes(files.tokenizer.bytes, files.tokenizer.name);
    if (tokenizer.size !== config.vocab) {
      throw new TokenizerError(
        `tokenizer ${files.tokenizer.name} does not match the model: it has ${tokenizer.size} tokens but ${files.config.name} says vocab_size ${config.vocab} (model ${files.model.name})`,
      );
    }
    let model: BertEncoder;
    try {
      model = BertEncoder.fromSafetensors(ops, config, files.model.bytes, files.model.name);
    } catch (e) {
      if (e instanceof ShapeMismatchError) throw new ShapeMismatchError(`${e.message}\n  (the config is ${files.config.name})`, e.problems);
      throw e;
    }
    const id = opts.id ?? `${modelName(files.model.name)}@${(await sha256Hex(files.model.bytes)).slice(0, 16)}`;
    return new E5Encoder(id, model, tokenizer, opts);
  }

  /** Adds E5's prefix. Passages are given as the corpus `contents` ("\"Title\"\ntext"). */
  static prefixed(text: string, kind: 'query' | 'passage'): string {
    return (kind === 'query' ? QUERY_PREFIX : PASSAGE_PREFIX) + text;
  }

  /**
   * Embeddings [texts.length, dim], L2-normalized. Texts are tokenized, sorted by length and run in batches of
   * `batchSize` (padded to the batch's longest); the result is in input order and depends only on `texts`.
   */
  async encode(texts: readonly string[], kind: 'query' | 'passage'): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    const encs = texts.map((t) => this.tokenizer.encode(E5Encoder.prefixed(t, kind), this.maxLen));
    const order = encs.map((_, i) => i).sort((a, b) => encs[a].length - encs[b].length || a - b);
    for (let s = 0; s < order.length; s += this.batchSize) {
      const rows = order.slice(s, s + this.batchSize);
      const t = rows.reduce((m, r) => Math.max(m, encs[r].length), 0);
      const ids = new Int32Array(rows.length * t).fill(this.tokenizer.padId);
      const lengths = new Int32Array(rows.length);
      rows.forEach((r, b) => {
        ids.set(encs[r].ids, b * t);
        lengths[b] = encs[r].length;
      });
      const y = await this.model.embed(ids, lengths, rows.length, t);
      rows.forEach((r, b) => out.set(y.subarray(b * this.dim, (b + 1) * this.dim), r * this.dim));
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** An E5Encoder on a backend from the files' bytes. */
export function e5FromFiles(backend: Backend, files: EncoderFiles, opts: E5Options = {}): Promise<E5Encoder> {
  return E5Encoder.fromFiles(backend.ops, files, opts);
}
