// The E5-style text encoder: a BERT encoder (post-LN, GELU MLP, bidirectional attention over padded batches)
// built on the tape, so it trains and runs on every backend, followed by mean pooling over the real tokens and L2
// normalization. Parameters carry HF BertModel's names and layouts (Linear weights [out, in], used through
// matmul's transB), so real E5 / MiniLM safetensors load as they are and our own weights load in transformers:
//
//   embeddings.word_embeddings.weight [vocab, dim]     embeddings.position_embeddings.weight [maxLen, dim]
//   embeddings.token_type_embeddings.weight [typeVocab, dim]     embeddings.LayerNorm.{weight,bias} [dim]
//   encoder.layer.N.attention.self.{query,key,value}.{weight [dim, dim], bias [dim]}
//   encoder.layer.N.attention.output.dense.{weight [dim, dim], bias}   encoder.layer.N.attention.output.LayerNorm.*
//   encoder.layer.N.intermediate.dense.{weight [hidden, dim], bias [hidden]}
//   encoder.layer.N.output.dense.{weight [dim, hidden], bias [dim]}   encoder.layer.N.output.LayerNorm.*
//
// forward: x = LN(word[ids] + pos[0..T) + type[0]); per layer x = LN(x + Attn(x)), x = LN(x + MLP(x));
// pooled = mean of x over each sequence's real tokens (a matmul with a host-built matrix), then L2-normalized.
// GELU is the tanh approximation (HF "gelu_new"); BERT checkpoints trained with the exact erf GELU ("gelu") load
// and run with the approximation (embeddings agree to a cosine of about 0.9999).
// The config file is HF's BertConfig (config.json); see configToHf / configFromHf.
import { meanPoolMatrix } from '../engine/pooling.ts';
import { Rng } from '../engine/rng.ts';
import { Tape, type Var } from '../engine/tape.ts';
import type { AttentionSpec, Ops } from '../engine/types.ts';
import { expectShapes, floatData, readSafetensors, SafetensorsError, type TensorToWrite, writeSafetensors } from './safetensors.ts';

export interface EncoderConfig {
  /** Rows of the word-embedding table; the tokenizer must have exactly this many tokens. */
  vocab: number;
  /** Hidden width (HF hidden_size). */
  dim: number;
  heads: number;
  layers: number;
  /** Position embeddings: the longest sequence, [CLS] and [SEP] included (HF max_position_embeddings). */
  maxLen: number;
  /** MLP width as a multiple of dim: intermediate_size = round(dim * mlpRatio). */
  mlpRatio: number;
  /** Token-type embeddings (HF type_vocab_size, default 2); every token uses type 0. */
  typeVocab?: number;
  /** LayerNorm epsilon (HF layer_norm_eps, default 1e-12). */
  layerNormEps?: number;
  /** HF hidden_act as found in config.json; we compute the tanh approximation for every GELU variant. */
  hiddenAct?: string;
}

/** vocab is a placeholder in the presets: training sets it to the trained tokenizer's size. */
export const ENCODER_PRESETS = {
  /** Tests: about 30k parameters besides the embedding table. */
  tiny: { vocab: 512, dim: 32, heads: 2, layers: 1, maxLen: 32, mlpRatio: 4 },
  /**
   * The shipped encoder (public/encoder/), trained on the default world in about 10 minutes on 2 CPU cores. Wide and
   * shallow: at equal training time, dim 256 x 1 layer retrieved better than 128 x 2 (entity names and rare values
   * need room in one mean-pooled vector) and as well as 384 x 1 at half the cost. 256 positions: a country passage
   * is about 145 tokens, and its last facts (domain, calling code) must not be cut.
   */
  small: { vocab: 8192, dim: 256, heads: 4, layers: 1, maxLen: 256, mlpRatio: 4 },
} satisfies Record<string, EncoderConfig>;
export type EncoderPreset = keyof typeof ENCODER_PRESETS;

/** Default optimizer steps of `encoder train` per preset (small: about 10 minutes on 2 CPU cores). */
export const ENCODER_TRAIN_STEPS: Record<EncoderPreset, number> = { tiny: 200, small: 1400 };

/** Thrown for a config that cannot describe a BERT encoder; the message names the file and the field. */
export class EncoderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderConfigError';
  }
}

/** HF's intermediate_size of a config. */
export function intermediateSize(c: EncoderConfig): number {
  return Math.round(c.dim * c.mlpRatio);
}

/** Throws EncoderConfigError (naming `source`) unless every field is usable. */
export function checkEncoderConfig(c: EncoderConfig, source = 'encoder config'): void {
  const posInt = (field: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new EncoderConfigError(`${source}: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  posInt('vocab', c.vocab);
  posInt('dim', c.dim);
  posInt('heads', c.heads);
  posInt('layers', c.layers);
  posInt('maxLen', c.maxLen);
  if (c.typeVocab !== undefined) posInt('typeVocab', c.typeVocab);
  if (c.dim % c.heads !== 0) throw new EncoderConfigError(`${source}: dim ${c.dim} is not a multiple of heads ${c.heads}`);
  if (c.maxLen < 2) throw new EncoderConfigError(`${source}: maxLen must be at least 2 ([CLS] and [SEP]), got ${c.maxLen}`);
  if (!(c.mlpRatio > 0) || !Number.isSafeInteger(intermediateSize(c)) || intermediateSize(c) < 1)
    throw new EncoderConfigError(`${source}: mlpRatio must be positive, got ${JSON.stringify(c.mlpRatio)}`);
  if (c.layerNormEps !== undefined && !(c.layerNormEps > 0 && c.layerNormEps < 1))
    throw new EncoderConfigError(`${source}: layerNormEps must be in (0, 1), got ${JSON.stringify(c.layerNormEps)}`);
}

/** HF parameter names and shapes of a config, in a fixed order (embeddings, then layer by layer). */
export function encoderParamShapes(c: EncoderConfig): Record<string, number[]> {
  const { vocab, dim, layers, maxLen } = c;
  const hidden = intermediateSize(c);
  const s: Record<string, number[]> = {
    'embeddings.word_embeddings.weight': [vocab, dim],
    'embeddings.position_embeddings.weight': [maxLen, dim],
    'embeddings.token_type_embeddings.weight': [c.typeVocab ?? 2, dim],
    'embeddings.LayerNorm.weight': [dim],
    'embeddings.LayerNorm.bias': [dim],
  };
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      s[`${p}attention.self.${n}.weight`] = [dim, dim];
      s[`${p}attention.self.${n}.bias`] = [dim];
    }
    s[`${p}attention.output.dense.weight`] = [dim, dim];
    s[`${p}attention.output.dense.bias`] = [dim];
    s[`${p}attention.output.LayerNorm.weight`] = [dim];
    s[`${p}attention.output.LayerNorm.bias`] = [dim];
    s[`${p}intermediate.dense.weight`] = [hidden, dim];
    s[`${p}intermediate.dense.bias`] = [hidden];
    s[`${p}output.dense.weight`] = [dim, hidden];
    s[`${p}output.dense.bias`] = [dim];
    s[`${p}output.LayerNorm.weight`] = [dim];
    s[`${p}output.LayerNorm.bias`] = [dim];
  }
  return s;
}

// ---- HF config.json ------------------------------------------------------------------------------------------

/** The HF BertConfig (config.json) of a config. */
export function configToHf(c: EncoderConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: c.vocab,
    hidden_size: c.dim,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: intermediateSize(c),
    hidden_act: c.hiddenAct ?? 'gelu_new',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: c.maxLen,
    type_vocab_size: c.typeVocab ?? 2,
    initializer_range: 0.02,
    layer_norm_eps: c.layerNormEps ?? 1e-12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    ...extra,
  };
}

const GELU_ACTS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu_python'];

/** An EncoderConfig from HF config.json (text, bytes or parsed); errors name `source` and the field. */
export function configFromHf(input: string | Uint8Array | object, source = 'config.json'): EncoderConfig {
  let j: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new EncoderConfigError(`${source}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new EncoderConfigError(`${source}: expected a JSON object (HF BertConfig)`);
  const o = j as Record<string, unknown>;
  if (o.model_type !== undefined && o.model_type !== 'bert')
    throw new EncoderConfigError(`${source}: model_type is ${JSON.stringify(o.model_type)}; only BERT encoders ("bert") are supported`);
  if (o.position_embedding_type !== undefined && o.position_embedding_type !== 'absolute')
    throw new EncoderConfigError(`${source}: position_embedding_type ${JSON.stringify(o.position_embedding_type)} is not supported (only "absolute")`);
  const need = (field: string): number => {
    const v = o[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new EncoderConfigError(`${source}: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const dim = need('hidden_size');
  const act = o.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || !GELU_ACTS.includes(act))
    throw new EncoderConfigError(`${source}: hidden_act ${JSON.stringify(act)} is not supported (one of ${GELU_ACTS.join(', ')})`);
  const eps = o.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number') throw new EncoderConfigError(`${source}: layer_norm_eps must be a number, got ${JSON.stringify(eps)}`);
  const c: EncoderConfig = {
    vocab: need('vocab_size'),
    dim,
    heads: need('num_attention_heads'),
    layers: need('num_hidden_layers'),
    maxLen: need('max_position_embeddings'),
    mlpRatio: (o.intermediate_size === undefined ? 4 * dim : need('intermediate_size')) / dim,
    typeVocab: o.type_vocab_size === undefined ? 2 : need('type_vocab_size'),
    layerNormEps: eps,
    hiddenAct: act,
  };
  checkEncoderConfig(c, source);
  return c;
}

// ---- the model -----------------------------------------------------------------------------------------------

interface Layer {
  wq: Var; bq: Var; wk: Var; bk: Var; wv: Var; bv: Var; wo: Var; bo: Var;
  ln1g: Var; ln1b: Var;
  wi: Var; bi: Var; wo2: Var; bo2: Var;
  ln2g: Var; ln2b: Var;
}

/** Weights by HF name, as plain arrays. */
export type EncoderWeights = ReadonlyMap<string, Float32Array>;

/** Tensors the HF checkpoints carry that the encoder does not use. */
export function isIgnorableBertTensor(name: string): boolean {
  return name === 'embeddings.position_ids' || name.startsWith('pooler.') || name.startsWith('cls.') || /(^|\.)num_batches_tracked$/.test(name);
}

export class BertEncoder {
  /** Parameters in encoderParamShapes order; `named` maps HF names to them. */
  readonly params: Var[] = [];
  readonly named = new Map<string, Var>();
  readonly wordEmb: Var;
  readonly posEmb: Var;
  readonly typeEmb: Var;
  readonly embLnG: Var;
  readonly embLnB: Var;
  readonly layers: Layer[] = [];
  readonly eps: number;

  /**
   * Weights from `init`: a seed (BERT's init: normal with std 0.02, LayerNorm gains 1, biases 0) or the arrays
   * by HF name (shapes checked with expectShapes; `source` names them in errors).
   */
  constructor(
    readonly ops: Ops,
    readonly config: EncoderConfig,
    init: number | EncoderWeights,
    source = 'encoder weights',
  ) {
    checkEncoderConfig(config, source);
    this.eps = config.layerNormEps ?? 1e-12;
    const shapes = encoderParamShapes(config);
    let make: (name: string, shape: number[]) => Float32Array;
    if (typeof init === 'number') {
      const rng = new Rng(init);
      make = (name, shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        if (/LayerNorm\.weight$/.test(name)) return new Float32Array(n).fill(1);
        if (/(bias)$/.test(name)) return new Float32Array(n);
        return rng.normalArray(n, 0.02);
      };
    } else {
      make = (name) => {
        const d = init.get(name);
        if (!d) throw new SafetensorsError(`${source}: tensor '${name}' is missing`);
        return d;
      };
    }
    const mk = (name: string): Var => {
      const shape = shapes[name];
      const data = make(name, shape);
      const n = shape.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw new SafetensorsError(`model file ${source}: tensor '${name}' has ${data.length} values, the config needs ${n} ([${shape.join(', ')}])`);
      const v = new Tape(ops).param(ops.tensor(data, shape), name);
      this.params.push(v);
      this.named.set(name, v);
      return v;
    };
    this.wordEmb = mk('embeddings.word_embeddings.weight');
    this.posEmb = mk('embeddings.position_embeddings.weight');
    this.typeEmb = mk('embeddings.token_type_embeddings.weight');
    this.embLnG = mk('embeddings.LayerNorm.weight');
    this.embLnB = mk('embeddings.LayerNorm.bias');
    for (let l = 0; l < config.layers; l++) {
      const p = `encoder.layer.${l}.`;
      this.layers.push({
        wq: mk(`${p}attention.self.query.weight`), bq: mk(`${p}attention.self.query.bias`),
        wk: mk(`${p}attention.self.key.weight`), bk: mk(`${p}attention.self.key.bias`),
        wv: mk(`${p}attention.self.value.weight`), bv: mk(`${p}attention.self.value.bias`),
        wo: mk(`${p}attention.output.dense.weight`), bo: mk(`${p}attention.output.dense.bias`),
        ln1g: mk(`${p}attention.output.LayerNorm.weight`), ln1b: mk(`${p}attention.output.LayerNorm.bias`),
        wi: mk(`${p}intermediate.dense.weight`), bi: mk(`${p}intermediate.dense.bias`),
        wo2: mk(`${p}output.dense.weight`), bo2: mk(`${p}output.dense.bias`),
        ln2g: mk(`${p}output.LayerNorm.weight`), ln2b: mk(`${p}output.LayerNorm.bias`),
      });
    }
  }

  /**
   * From safetensors bytes: every tensor the config needs, with its shape (a ShapeMismatchError naming the file
   * and each tensor otherwise). Pooler / MLM-head tensors and a leading "bert." prefix are ignored.
   */
  static fromSafetensors(ops: Ops, config: EncoderConfig, bytes: Uint8Array | ArrayBuffer, source: string): BertEncoder {
    checkEncoderConfig(config, source);
    const { tensors } = readSafetensors(bytes, source);
    const byName = new Map<string, (typeof tensors extends Map<string, infer T> ? T : never)>();
    for (const [name, t] of tensors) byName.set(name.startsWith('bert.') ? name.slice(5) : name, t);
    expectShapes(byName, encoderParamShapes(config), source, { ignoreUnexpected: isIgnorableBertTensor });
    const weights = new Map<string, Float32Array>();
    for (const name of Object.keys(encoderParamShapes(config))) weights.set(name, floatData(byName.get(name)!, name, source));
    return new BertEncoder(ops, config, weights, source);
  }

  get parameterCount(): number {
    return this.params.reduce((a, p) => a + p.value.size, 0);
  }

  /**
   * Last hidden states [batch*t, dim] of padded token ids [batch, t] (row-major), `lengths[b]` real tokens in
   * row b (keys past it are masked; its padded rows get outputs that callers ignore).
   */
  hidden(tape: Tape, ids: Int32Array, lengths: Int32Array, batch: number, t: number): Var {
    const { heads, maxLen, vocab } = this.config;
    if (ids.length !== batch * t) throw new RangeError(`BertEncoder: ${ids.length} ids for batch ${batch} x t ${t}`);
    if (lengths.length !== batch) throw new RangeError(`BertEncoder: ${lengths.length} lengths for batch ${batch}`);
    if (t > maxLen) throw new RangeError(`BertEncoder: sequence length ${t} exceeds max_position_embeddings (${maxLen})`);
    for (let i = 0; i < ids.length; i++)
      if (!(ids[i] >= 0 && ids[i] < vocab)) throw new RangeError(`BertEncoder: token id ${ids[i]} (row ${Math.floor(i / t)}, position ${i % t}) is outside the vocabulary [0, ${vocab})`);
    const o = this.ops;
    const pos = new Int32Array(batch * t);
    for (let i = 0; i < pos.length; i++) pos[i] = i % t;
    const types = new Int32Array(batch * t);
    const idsT = o.tensor(ids, [ids.length]);
    const posT = o.tensor(pos, [pos.length]);
    const typT = o.tensor(types, [types.length]);
    tape.adopt(idsT, posT, typT);
    const e = tape.add(
      tape.add(tape.embedding(this.wordEmb, idsT, ids), tape.embedding(this.posEmb, posT, pos)),
      tape.embedding(this.typeEmb, typT, types),
    );
    let x = tape.layernorm(e, this.embLnG, this.embLnB, this.eps);
    const spec: AttentionSpec = { batch, heads, tq: t, tk: t, causal: false, keyLengths: Int32Array.from(lengths) };
    const lin = (h: Var, w: Var, b: Var): Var => tape.addBias(tape.matmul(h, w, { transB: true }), b);
    for (const L of this.layers) {
      const a = tape.attention(lin(x, L.wq, L.bq), lin(x, L.wk, L.bk), lin(x, L.wv, L.bv), spec);
      x = tape.layernorm(tape.add(x, lin(a, L.wo, L.bo)), L.ln1g, L.ln1b, this.eps);
      const m = lin(tape.gelu(lin(x, L.wi, L.bi)), L.wo2, L.bo2);
      x = tape.layernorm(tape.add(x, m), L.ln2g, L.ln2b, this.eps);
    }
    return x;
  }

  /** Mean-pooled, L2-normalized embeddings [batch, dim] (E5's sentence embedding). */
  forward(tape: Tape, ids: Int32Array, lengths: Int32Array, batch: number, t: number): Var {
    const h = this.hidden(tape, ids, lengths, batch, t);
    const p = this.ops.tensor(meanPoolMatrix(lengths, t), [batch, batch * t]);
    tape.adopt(p);
    return tape.l2normalize(tape.matmul(tape.input(p), h));
  }

  /** Inference: the embeddings [batch, dim] as a host array (the tape is disposed). */
  async embed(ids: Int32Array, lengths: Int32Array, batch: number, t: number): Promise<Float32Array> {
    const tape = new Tape(this.ops);
    try {
      const y = this.forward(tape, ids, lengths, batch, t);
      return (await this.ops.readF32(y.value)).slice();
    } finally {
      tape.dispose();
    }
  }

  /** Every parameter by HF name (host copies). */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const p of this.params) out.set(p.name, (await this.ops.readF32(p.value)).slice());
    return out;
  }

  /** model.safetensors bytes (HF names; F32, or F16 rounded to nearest even for half the size). */
  async toSafetensors(metadata: Record<string, string> = {}, dtype: 'F32' | 'F16' = 'F32'): Promise<Uint8Array> {
    const w = await this.weights();
    const shapes = encoderParamShapes(this.config);
    const tensors = new Map<string, TensorToWrite>();
    for (const [name, data] of w) tensors.set(name, { dtype, shape: shapes[name], data });
    return writeSafetensors(tensors, { format: 'pt', ...metadata });
  }

  dispose(): void {
    for (const p of this.params) {
      this.ops.dispose(p.value);
      if (p.grad) this.ops.dispose(p.grad);
      p.grad = null;
    }
  }
}
