// Node: an encoder from a directory (config.json, model.safetensors, tokenizer.json or vocab.txt), from the path of
// its model.safetensors (the other files next to it), or from a URL (fetched). The shipped encoder is
// public/encoder/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ops } from '../engine/types.ts';
import { E5Encoder, type E5Options, type EncoderFiles } from './e5.ts';
import { CONFIG_FILES, EncoderFilesError, fetchEncoderFiles, MODEL_FILES, TOKENIZER_FILES } from './encoder-files.ts';

/** public/encoder/ of this checkout: the encoder `npm run cli -- encoder train` produced and the app ships. */
export const SHIPPED_ENCODER_DIR = fileURLToPath(new URL('../../public/encoder/', import.meta.url));

/** The three files of an encoder at `path` (a directory or a *.safetensors file). */
export function readEncoderFilesSync(path: string): EncoderFiles {
  if (!existsSync(path)) throw new EncoderFilesError(`${path}: no such file or directory (an encoder directory or its model.safetensors)`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const modelPath = isDir ? join(dir, MODEL_FILES[0]) : path;
  if (!existsSync(modelPath)) throw new EncoderFilesError(`${dir}: no ${MODEL_FILES[0]} (the encoder's weights)`);
  const configPath = join(dir, CONFIG_FILES[0]);
  if (!existsSync(configPath)) throw new EncoderFilesError(`${dir}: no ${CONFIG_FILES[0]} next to ${modelPath} (HF BertConfig)`);
  const tokName = TOKENIZER_FILES.find((n) => existsSync(join(dir, n)));
  if (!tokName) throw new EncoderFilesError(`${dir}: neither ${TOKENIZER_FILES.join(' nor ')} next to ${modelPath}`);
  const read = (p: string): { name: string; bytes: Uint8Array } => ({ name: p, bytes: new Uint8Array(readFileSync(p)) });
  return { model: read(modelPath), config: read(configPath), tokenizer: read(join(dir, tokName)) };
}

/** An E5Encoder from a directory, a model file or an http(s) URL. */
export async function readEncoderDir(ops: Ops, path: string, opts: E5Options = {}): Promise<E5Encoder> {
  const files = /^https?:\/\//i.test(path) ? await fetchEncoderFiles(path) : readEncoderFilesSync(path);
  return E5Encoder.fromFiles(ops, files, opts);
}
