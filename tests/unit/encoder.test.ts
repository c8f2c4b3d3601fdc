// The E5-style encoder (src/model/encoder.ts, e5.ts, encoder-train.ts, encoder-files*.ts): config and file errors
// that name what and where, determinism by seed, unit-norm pooled vectors that padding does not change, a few
// training steps on the tiny preset lowering the InfoNCE loss, and the loaders (directory, URL with a cache,
// picked files, the retrieval contract). Tiny shapes only: no world is built here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { E5Encoder, type EncoderFiles } from '../../src/model/e5.ts';
import {
  BertEncoder, configFromHf, configToHf, EncoderConfigError, encoderParamShapes, ENCODER_PRESETS, type EncoderConfig,
} from '../../src/model/encoder.ts';
import { EncoderFilesError, fetchEncoderFiles, pickedEncoderFiles } from '../../src/model/encoder-files.ts';
import { readEncoderFilesSync } from '../../src/model/encoder-files-node.ts';
import { pseudoQuery, trainEncoder, type TrainPassage, type TrainQuestion } from '../../src/model/encoder-train.ts';
import { MemoryModelCache } from '../../src/model/model-cache.ts';
import { ShapeMismatchError, writeSafetensors, type TensorToWrite } from '../../src/model/safetensors.ts';
import { Rng } from '../../src/engine/rng.ts';
import { loadEncoderRetriever } from '../../src/retrieval/encoder-retriever.ts';
import { TokenizerError, WordPieceTokenizer } from '../../src/text/wordpiece.ts';
import { ENCODER_TEST_SENTENCES, perturbedEncoderWeights, testEncoderSetup, testTokenizer } from '../shared/encoder-fixture.ts';

let be: Backend;
beforeAll(async () => {
  be = await createBackend('cpu', { threads: 1 });
});
afterAll(() => be?.dispose());

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The three files of a model (F32 safetensors, HF config.json, tokenizer.json). */
function modelFiles(config: EncoderConfig, weights: Map<string, Float32Array>, tok: WordPieceTokenizer, dir = 'model'): EncoderFiles {
  const shapes = encoderParamShapes(config);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, data] of weights) tensors.set(name, { dtype: 'F32', shape: shapes[name], data });
  return {
    model: { name: `${dir}/model.safetensors`, bytes: writeSafetensors(tensors) },
    config: { name: `${dir}/config.json`, bytes: enc(JSON.stringify(configToHf(config))) },
    tokenizer: { name: `${dir}/tokenizer.json`, bytes: enc(tok.toTokenizerJson()) },
  };
}

const norms = (v: Float32Array, dim: number): number[] =>
  Array.from({ length: v.length / dim }, (_, r) => Math.hypot(...v.subarray(r * dim, (r + 1) * dim)));

describe('encoder config (HF BertConfig)', () => {
  it('round-trips through config.json and reads real E5 fields', () => {
    const c: EncoderConfig = { ...ENCODER_PRESETS.tiny, typeVocab: 2, layerNormEps: 1e-12, hiddenAct: 'gelu_new' };
    expect(configFromHf(JSON.stringify(configToHf(c)))).toEqual(c);
    // e5-small-v2's config.json (the fields that matter).
    const e5 = configFromHf({
      architectures: ['BertModel'], model_type: 'bert', vocab_size: 30522, hidden_size: 384, num_hidden_layers: 12,
      num_attention_heads: 12, intermediate_size: 1536, hidden_act: 'gelu', max_position_embeddings: 512, type_vocab_size: 2,
      layer_norm_eps: 1e-12, position_embedding_type: 'absolute',
    });
    expect(e5).toMatchObject({ vocab: 30522, dim: 384, heads: 12, layers: 12, maxLen: 512, mlpRatio: 4, hiddenAct: 'gelu' });
  });

  it('bad configs name the file and the field', () => {
    const base = configToHf(ENCODER_PRESETS.tiny);
    expect(() => configFromHf({ ...base, hidden_size: undefined }, 'e5/config.json')).toThrow(/e5\/config\.json: hidden_size must be a positive integer/);
    expect(() => configFromHf({ ...base, num_attention_heads: 5 }, 'c.json')).toThrow(/c\.json: dim 32 is not a multiple of heads 5/);
    expect(() => configFromHf({ ...base, model_type: 'roberta' }, 'c.json')).toThrow(/c\.json: model_type is "roberta"/);
    expect(() => configFromHf({ ...base, hidden_act: 'relu' }, 'c.json')).toThrow(/c\.json: hidden_act "relu" is not supported/);
    expect(() => configFromHf('{ nope', 'c.json')).toThrow(EncoderConfigError);
  });
});

describe('loading weights and tokenizer', () => {
  const { config, weights, tokenizer } = testEncoderSetup(1);

  it('a model file whose shapes do not match its config: the error names the tensor, the file and the config', async () => {
    const files = modelFiles(config, weights, tokenizer, 'e5');
    const wrong = { ...config, dim: 48, heads: 2 };
    const bad = { ...files, config: { name: 'e5/config.json', bytes: enc(JSON.stringify(configToHf({ ...wrong, vocab: config.vocab }))) } };
    const err = await E5Encoder.fromFiles(be.ops, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeMismatchError);
    const msg = (err as Error).message;
    expect(msg).toContain('model file e5/model.safetensors');
    expect(msg).toContain("tensor 'embeddings.word_embeddings.weight' has shape [");
    expect(msg).toContain(`the config needs [${config.vocab}, 48]`);
    expect(msg).toContain('(the config is e5/config.json)');
    // A missing tensor.
    const partial = new Map(weights);
    partial.delete('encoder.layer.0.output.dense.bias');
    const missing = modelFiles(config, partial, tokenizer, 'm');
    await expect(E5Encoder.fromFiles(be.ops, missing)).rejects.toThrow(/model file m\/model\.safetensors: tensor 'encoder\.layer\.0\.output\.dense\.bias' is missing/);
  });

  it('a tokenizer that does not match the model: the error names both files and both sizes', async () => {
    const files = modelFiles(config, weights, tokenizer, 'e5');
    const other = new WordPieceTokenizer([...tokenizer.tokens, 'extra'], {}, 'x');
    const bad = { ...files, tokenizer: { name: 'e5/vocab.txt', bytes: enc(other.toVocabTxt()) } };
    const err = await E5Encoder.fromFiles(be.ops, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as Error).message).toBe(
      `tokenizer e5/vocab.txt does not match the model: it has ${tokenizer.size + 1} tokens but e5/config.json says vocab_size ${config.vocab} (model e5/model.safetensors)`,
    );
  });

  it('HF extras are ignored (pooler, position_ids, a "bert." prefix); unknown tensors are not', async () => {
    const shapes = encoderParamShapes(config);
    const tensors = new Map<string, TensorToWrite>();
    for (const [name, data] of weights) tensors.set(`bert.${name}`, { dtype: 'F16', shape: shapes[name], data });
    tensors.set('bert.pooler.dense.weight', { dtype: 'F32', shape: [config.dim, config.dim], data: new Float32Array(config.dim * config.dim) });
    tensors.set('bert.embeddings.position_ids', { dtype: 'I32', shape: [1, config.maxLen], data: new Int32Array(config.maxLen) });
    const m = BertEncoder.fromSafetensors(be.ops, config, writeSafetensors(tensors), 'hf.safetensors');
    expect(m.parameterCount).toBe(Object.values(shapes).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0));
    m.dispose();
    tensors.set('bert.encoder.layer.9.foo', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    expect(() => BertEncoder.fromSafetensors(be.ops, config, writeSafetensors(tensors), 'hf.safetensors')).toThrow(/tensor 'encoder\.layer\.9\.foo' \[2\] is unexpected/);
  });

  it('safetensors + config.json + tokenizer.json round trip gives the same embeddings', async () => {
    const a = await E5Encoder.fromFiles(be.ops, modelFiles(config, weights, tokenizer));
    const b = await E5Encoder.fromFiles(be.ops, {
      model: { name: 'again.safetensors', bytes: await a.model.toSafetensors() },
      config: { name: 'config.json', bytes: enc(JSON.stringify(configToHf(a.model.config))) },
      tokenizer: { name: 'vocab.txt', bytes: enc(tokenizer.toVocabTxt()) },
    });
    expect(a.id).toMatch(/^model@[0-9a-f]{16}$/);
    const texts = ['What currency is used in Burkina Faso?', 'where is lesser sunda islands'];
    expect(await b.encode(texts, 'query')).toEqual(await a.encode(texts, 'query'));
    a.dispose();
    b.dispose();
  });
});

describe('pooled embeddings', () => {
  const { config, weights, tokenizer } = testEncoderSetup(2);

  it('have unit norm, and padding (batch composition) does not change them', async () => {
    const m = new BertEncoder(be.ops, config, weights);
    const e5 = new E5Encoder('t', m, tokenizer, { batchSize: 3 });
    const texts = ENCODER_TEST_SENTENCES.map((s) => s.replace(/^(query|passage): /, ''));
    const together = await e5.encode(texts, 'passage');
    for (const n of norms(together, config.dim)) expect(Math.abs(n - 1)).toBeLessThan(1e-5);
    for (let i = 0; i < texts.length; i++) {
      const alone = await e5.encode([texts[i]], 'passage');
      for (let j = 0; j < config.dim; j++) expect(Math.abs(alone[j] - together[i * config.dim + j])).toBeLessThan(1e-6);
    }
    // Padded to a longer length with garbage ids in the padding: same valid-token embedding.
    const one = tokenizer.encode(`passage: ${texts[2]}`, config.maxLen);
    const t = one.length + 7;
    const ids = new Int32Array(t).fill(5);
    ids.set(one.ids);
    const padded = await m.embed(ids, Int32Array.of(one.length), 1, t);
    const exact = await m.embed(one.ids, Int32Array.of(one.length), 1, one.length);
    for (let j = 0; j < config.dim; j++) expect(Math.abs(padded[j] - exact[j])).toBeLessThan(1e-6);
    // The prefixes matter: query and passage embeddings of the same text differ.
    const q = await e5.encode([texts[0]], 'query');
    expect(q).not.toEqual(together.subarray(0, config.dim));
    m.dispose();
  });

  it('the reference and the WASM SIMD backends agree', async () => {
    const ref = createCpuReferenceBackend();
    const a = new BertEncoder(ref.ops, config, weights);
    const b = new BertEncoder(be.ops, config, weights);
    const batch = tokenizer.encodeBatch(ENCODER_TEST_SENTENCES, config.maxLen);
    const ya = await a.embed(batch.ids, batch.lengths, batch.batch, batch.seqLen);
    const yb = await b.embed(batch.ids, batch.lengths, batch.batch, batch.seqLen);
    for (let i = 0; i < ya.length; i++) expect(Math.abs(ya[i] - yb[i])).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
    ref.dispose();
  });

  it('rejects ids outside the vocabulary and sequences longer than the positions', async () => {
    const m = new BertEncoder(be.ops, config, weights);
    await expect(m.embed(Int32Array.of(2, config.vocab, 3), Int32Array.of(3), 1, 3)).rejects.toThrow(/token id \d+ \(row 0, position 1\) is outside the vocabulary/);
    const t = config.maxLen + 1;
    await expect(m.embed(new Int32Array(t), Int32Array.of(t), 1, t)).rejects.toThrow(/exceeds max_position_embeddings/);
    m.dispose();
  });
});

// ---- training ---------------------------------------------------------------------------------------------------

const COUNTRIES = ['Aruba', 'Angola', 'Uruguay', 'Cyprus', 'Iran', 'Nepal', 'Peru', 'Chile', 'Ghana', 'Mali', 'Oman', 'Fiji'];
const CURRENCIES = ['florin', 'kwanza', 'peso', 'euro', 'rial', 'rupee', 'sol', 'escudo', 'cedi', 'franc', 'baisa', 'dollar'];

function toyWorld(): { passages: TrainPassage[]; questions: TrainQuestion[] } {
  const passages: TrainPassage[] = [];
  const questions: TrainQuestion[] = [];
  COUNTRIES.forEach((c, i) => {
    passages.push({ id: `country:${i}`, contents: `"${c}"\n${c} is a country. Its currency is the ${CURRENCIES[i]}. Its capital is ${c} City.` });
    passages.push({ id: `city:${i}`, contents: `"${c} City"\n${c} City is a city in ${c}. It has a population of ${1000 * (i + 3)}.` });
    questions.push({ question: `What currency is used in ${c}?`, supporting_ids: [`country:${i}`] });
    questions.push({ question: `What is the population of ${c} City?`, supporting_ids: [`city:${i}`] });
  });
  return { passages, questions };
}

describe('contrastive training (tiny preset)', () => {
  const { passages, questions } = toyWorld();
  const opts = { preset: 'tiny' as const, seed: 3, steps: 40, batchSize: 8, lr: 3e-3, vocabSize: 200, logEvery: 10 };

  it('lowers the InfoNCE loss and is deterministic in the seed', async () => {
    const a = await trainEncoder(be.ops, passages, questions, opts);
    expect(a.log).toHaveLength(4);
    const first = a.log[0].loss;
    const last = a.log[a.log.length - 1].loss;
    expect(last).toBeLessThan(first * 0.7);
    expect(a.config.vocab).toBe(a.tokenizer.size);
    const b = await trainEncoder(be.ops, passages, questions, opts);
    expect(b.log.map((e) => [e.loss, e.in_batch_acc])).toEqual(a.log.map((e) => [e.loss, e.in_batch_acc]));
    const [wa, wb] = [await a.encoder.model.weights(), await b.encoder.model.weights()];
    for (const [name, v] of wa) expect(wb.get(name), name).toEqual(v);
    const c = await trainEncoder(be.ops, passages, questions, { ...opts, seed: 4, steps: 10 });
    expect((await c.encoder.model.weights()).get('embeddings.LayerNorm.bias')).not.toEqual(wa.get('embeddings.LayerNorm.bias'));
    // The trained tokenizer knows E5's prefixes without [UNK].
    expect(a.tokenizer.tokenize('query: passage:')).toEqual(['query', ':', 'passage', ':']);
    for (const r of [a, b, c]) r.encoder.dispose();
  });

  it('initialization is a function of the seed', async () => {
    const cfg = { ...ENCODER_PRESETS.tiny, vocab: 64 };
    const [x, y, z] = [new BertEncoder(be.ops, cfg, 1), new BertEncoder(be.ops, cfg, 1), new BertEncoder(be.ops, cfg, 2)];
    const [wx, wy, wz] = [await x.weights(), await y.weights(), await z.weights()];
    expect(wy).toEqual(wx);
    expect(wz.get('embeddings.word_embeddings.weight')).not.toEqual(wx.get('embeddings.word_embeddings.weight'));
    expect(wx.get('encoder.layer.0.output.LayerNorm.weight')?.every((v) => v === 1)).toBe(true);
    for (const m of [x, y, z]) m.dispose();
  });

  it('pseudo-queries come from the passage (title and/or a span of a sentence)', () => {
    const rng = new Rng(1);
    const contents = '"Protaras (Cyprus, 01)"\nProtaras is a town in Cyprus. It has a population of 20,230.';
    const words = new Set(contents.replace(/["\n.(),]/g, ' ').split(/\s+/).filter((w) => w));
    for (let i = 0; i < 50; i++) {
      const q = pseudoQuery(contents, rng);
      expect(q.length).toBeGreaterThan(0);
      for (const w of q.replace(/[.(),]/g, ' ').split(/\s+/).filter((x) => x)) expect(words.has(w), `${w} in "${q}"`).toBe(true);
    }
  });
});

// ---- files, URLs, caches, the retrieval contract ---------------------------------------------------------------

describe('encoder files', () => {
  const { config, weights, tokenizer } = testEncoderSetup(1);
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'encoder-test-'));
    const f = modelFiles(config, weights, tokenizer);
    writeFileSync(join(dir, 'model.safetensors'), f.model.bytes);
    writeFileSync(join(dir, 'config.json'), f.config.bytes);
    writeFileSync(join(dir, 'tokenizer.json'), f.tokenizer.bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loadEncoderRetriever reads a directory (or its model file) and meets the DenseEncoder contract', async () => {
    const e = await loadEncoderRetriever(dir, { backend: be });
    const e2 = await loadEncoderRetriever(join(dir, 'model.safetensors'), { backend: be });
    expect(e.id).toBe(e2.id);
    expect(e.dim).toBe(config.dim);
    const v = await e.encode(['Aruba', 'Angola', 'Peru'], 'passage');
    expect(v).toHaveLength(3 * config.dim);
    for (const n of norms(v, config.dim)) expect(Math.abs(n - 1)).toBeLessThan(1e-5);
    expect(await e2.encode(['Aruba', 'Angola', 'Peru'], 'passage')).toEqual(v);
    e.dispose?.();
    e2.dispose?.();
    expect(() => readEncoderFilesSync(join(dir, 'nope'))).toThrow(/nope: no such file or directory/);
  });

  it('fetches from a URL once, then serves the cache', async () => {
    const files = readEncoderFilesSync(dir);
    const served = new Map([
      ['https://example.org/e5/model.safetensors', files.model.bytes],
      ['https://example.org/e5/config.json', files.config.bytes],
      ['https://example.org/e5/vocab.txt', enc(tokenizer.toVocabTxt())],
    ]);
    const calls: string[] = [];
    const fakeFetch = (async (url: string) => {
      calls.push(url);
      const body = served.get(url);
      return body ? new Response(body.slice()) : new Response('no', { status: 404, statusText: 'Not Found' });
    }) as unknown as typeof fetch; // a test double of fetch
    const cache = new MemoryModelCache();
    const got = await fetchEncoderFiles('https://example.org/e5/', { fetch: fakeFetch, cache });
    expect(got.tokenizer.name).toBe('https://example.org/e5/vocab.txt');
    const n = calls.length;
    const again = await fetchEncoderFiles('https://example.org/e5/', { fetch: fakeFetch, cache });
    expect(calls.length).toBe(n);
    expect(again.model.bytes).toEqual(files.model.bytes);
    expect((await cache.list())[0]).toMatchObject({ key: 'url:https://example.org/e5/' });
    const e = await E5Encoder.fromFiles(be.ops, again);
    expect(e.dim).toBe(config.dim);
    e.dispose();
    await expect(fetchEncoderFiles('https://example.org/none/', { fetch: fakeFetch })).rejects.toThrow(/none\/model\.safetensors: not found/);
  });

  it('takes files the user picked, and says which one is missing', async () => {
    const files = readEncoderFilesSync(dir);
    const pick = (name: string, bytes: Uint8Array) => ({ name, size: bytes.length, lastModified: 1, arrayBuffer: async () => bytes.slice().buffer });
    const picked = [pick('e5.safetensors', files.model.bytes), pick('config.json', files.config.bytes), pick('tokenizer.json', files.tokenizer.bytes)];
    const got = await pickedEncoderFiles(picked, { cache: new MemoryModelCache() });
    expect(got.model.name).toBe('e5.safetensors');
    await expect(pickedEncoderFiles(picked.slice(0, 2))).rejects.toThrow(EncoderFilesError);
    await expect(pickedEncoderFiles(picked.slice(0, 2))).rejects.toThrow(/no tokenizer\.json or vocab\.txt/);
  });
});

describe('fixture sanity', () => {
  it('the test tokenizer covers the test sentences without [UNK]', () => {
    const tok = testTokenizer();
    for (const s of ENCODER_TEST_SENTENCES) expect(tok.tokenize(s)).not.toContain('[UNK]');
    expect(perturbedEncoderWeights({ ...ENCODER_PRESETS.tiny, vocab: tok.size }, 1).size).toBe(Object.keys(encoderParamShapes({ ...ENCODER_PRESETS.tiny, vocab: tok.size })).length);
  });
});
