// Getting an encoder's files (config.json, model.safetensors, tokenizer.json or vocab.txt) in the browser and in
// Node without a file system: from a URL (fetched only when the user gives one), or from files the user picks;
// either way cached in IndexedDB (src/model/model-cache.ts) where there is one. Node's directories are in
// encoder-files-node.ts.
import type { EncoderFiles } from './e5.ts';
import { type ModelCache } from './model-cache.ts';

export class EncoderFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderFilesError';
  }
}

/** The model, config and tokenizer file names we look for, in order of preference. */
export const MODEL_FILES = ['model.safetensors'];
export const CONFIG_FILES = ['config.json'];
export const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt'];

async function fetchBytes(url: string, fetcher: typeof fetch): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetcher(url);
  } catch (e) {
    throw new EncoderFilesError(`${url}: the request failed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new EncoderFilesError(`${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

function join(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

/**
 * The files of a model at `url`: a directory URL (".../e5-small-v2/" holding config.json, model.safetensors and
 * tokenizer.json or vocab.txt, as HF's "resolve/main/" URLs) or the URL of its model.safetensors.
 */
export async function fetchEncoderFiles(url: string, opts: { fetch?: typeof fetch; cache?: ModelCache } = {}): Promise<EncoderFiles> {
  const fetcher = opts.fetch ?? fetch;
  const key = `url:${url}`;
  if (opts.cache) {
    const hit = await opts.cache.get(key);
    if (hit) return hit;
  }
  const isModel = /\.safetensors([?#].*)?$/i.test(url);
  const base = isModel ? url.replace(/[^/]*([?#].*)?$/, '') : url;
  const modelUrl = isModel ? url : join(base, MODEL_FILES[0]);
  const model = await fetchBytes(modelUrl, fetcher);
  if (!model) throw new EncoderFilesError(`${modelUrl}: not found (HTTP 404); expected the encoder's model.safetensors`);
  const configUrl = join(base, CONFIG_FILES[0]);
  const config = await fetchBytes(configUrl, fetcher);
  if (!config) throw new EncoderFilesError(`${configUrl}: not found (HTTP 404); the model needs its config.json (HF BertConfig)`);
  let tokenizer: { name: string; bytes: Uint8Array } | null = null;
  for (const name of TOKENIZER_FILES) {
    const bytes = await fetchBytes(join(base, name), fetcher);
    if (bytes) {
      tokenizer = { name: join(base, name), bytes };
      break;
    }
  }
  if (!tokenizer) throw new EncoderFilesError(`${base}: neither ${TOKENIZER_FILES.join(' nor ')} was found next to the model`);
  const files: EncoderFiles = { model: { name: modelUrl, bytes: model }, config: { name: configUrl, bytes: config }, tokenizer };
  if (opts.cache) await opts.cache.put(key, files);
  return files;
}

/** The minimal File-like object (a browser File, or a test double). */
export interface PickedFile {
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  size?: number;
  lastModified?: number;
}

/**
 * The files of a model from files the user picked (an <input type=file multiple> or a dropped folder): a
 * *.safetensors, a config.json and a tokenizer.json or vocab.txt. Cached under their names, sizes and dates.
 */
export async function pickedEncoderFiles(picked: readonly PickedFile[], opts: { cache?: ModelCache } = {}): Promise<EncoderFiles> {
  const byName = (pred: (n: string) => boolean): PickedFile | undefined => picked.find((f) => pred(f.name.toLowerCase()));
  const model = byName((n) => n.endsWith('.safetensors'));
  const config = byName((n) => n === 'config.json' || n.endsWith('/config.json'));
  const tokenizer = byName((n) => n.endsWith('tokenizer.json')) ?? byName((n) => n.endsWith('vocab.txt'));
  const names = picked.map((f) => f.name).join(', ') || 'no files';
  if (!model) throw new EncoderFilesError(`picked files (${names}): no *.safetensors model file among them`);
  if (!config) throw new EncoderFilesError(`picked files (${names}): no config.json among them`);
  if (!tokenizer) throw new EncoderFilesError(`picked files (${names}): no tokenizer.json or vocab.txt among them`);
  const key = `file:${[model, config, tokenizer].map((f) => `${f.name}:${f.size ?? '?'}:${f.lastModified ?? '?'}`).join('|')}`;
  if (opts.cache) {
    const hit = await opts.cache.get(key);
    if (hit) return hit;
  }
  const read = async (f: PickedFile): Promise<{ name: string; bytes: Uint8Array }> => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
  const files: EncoderFiles = { model: await read(model), config: await read(config), tokenizer: await read(tokenizer) };
  if (opts.cache) await opts.cache.put(key, files);
  return files;
}
