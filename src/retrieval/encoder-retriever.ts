// The encoder behind `retrieval eval --retriever e5` (the DenseEncoder contract of ./types.ts): an E5-style
// encoder (BERT, WordPiece, mean pooling, L2-normalized, "query: " / "passage: " prefixes added inside encode()).
//   path undefined: the shipped encoder (public/encoder/, trained by `npm run cli -- encoder train`);
//   path: a directory with config.json + model.safetensors + tokenizer.json (or vocab.txt), the path of such a
//         model.safetensors, or an http(s) URL of either (e.g. a HF ".../resolve/main/" URL of e5-small-v2).
// In the browser (no file system) the path is a URL, relative ones included; undefined means "/encoder/" (Vite
// serves public/ at the root).
import { E5Encoder } from '../model/e5.ts';
import { fetchEncoderFiles } from '../model/encoder-files.ts';
import type { DenseEncoder, LoadEncoderOptions } from './types.ts';

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

export async function loadEncoderRetriever(path: string | undefined, opts: LoadEncoderOptions): Promise<DenseEncoder> {
  const ops = opts.backend.ops;
  if (inNode && (path === undefined || !/^https?:\/\//i.test(path))) {
    const node = await import('../model/encoder-files-node.ts');
    return node.readEncoderDir(ops, path ?? node.SHIPPED_ENCODER_DIR);
  }
  const files = await fetchEncoderFiles(path ?? '/encoder/');
  return E5Encoder.fromFiles(ops, files);
}
