// The policy: the decoder-only transformer of src/model/transformer.ts (pre-LN, GELU MLP, tied embeddings, learned
// positions, optional token shift) shared by the Actor, the Discriminator and the Trimmer (DESIGN 4.2, 6), with its presets and its
// safetensors checkpoints. Inference without the tape (batched KV-cache decoding, int8 weights) is in
// decoder-cache.ts; the batched rollout engine in src/agent/rollout.ts.
//
// Presets fix everything but the vocabulary, which comes from the world's policy tokenizer (8000 ids on the
// default world, ~1.7k on the tiny one):
//   tiny   tests: 2 layers x 32 wide, context 512 (~0.1M parameters with the tiny world's vocabulary).
//   small  the shipped default, sized so the warm start trains in <= 30 min on 2 CPU cores (WASM backend): 4 layers x
//          128 wide, 4 heads of 32, context 2048, token shift 2; 2.11M parameters with 8000 ids (1.02M of them the
//          tied embedding). The token shift (transformer.ts) is what lets a model this small copy names it has
//          never seen token by token: with the same data and steps, dev EM 0.049 against 0.011 without it
//          (public/policy/README.md); it costs ~6% per SFT step. Measured without it (src/bench/rollout-bench.ts,
//          case policy-train-step): one SFT step on 8 x 512 tokens
//          takes ~0.95 s with logits only for the loss rows (Transformer.forward `rows`; 1.44 s with logits
//          everywhere), i.e. ~4.3k tokens/s, ~7.5M tokens in 30 minutes: about 3,500 questions' worth of Actor,
//          Discriminator (2 per question) and Trimmer examples (~2,150 tokens per question on the default world).
//          Long examples cost more per token (attention): 2 x 1536 tokens ~1.4 s.
//   base   for GPUs: 6 layers x 320 wide, 5 heads of 64, context 2048, token shift 2 (~10.8M parameters with 8000 ids).
// The 2048-token context covers the longest inputs the method builds: an Actor trajectory with 4 searches of
// 3 passages (~50 prompt + 4 x ~300 information + policy tokens, ~1450) and the judge/trim prompts over it
// (up to ~1700 measured on the default world). No passage is truncated; a rollout that would outgrow the
// context ends cleanly, marked truncated (src/agent/rollout.ts).
//
// Checkpoint (safetensors): every parameter as F32 under its name (`tok_emb`, `pos_emb`, `h{l}.attn.wq`, ...,
// `lnf.b`), metadata
//   format = "search-r2-policy", version = "1", config = JSON of the TransformerConfig,
//   tokenizer = the policy tokenizer's hash, world = worldHash(corpus) of the world it was trained on,
//   plus any caller extras (step, preset, role, ...).
// Loading checks format, config, tokenizer and world, in that order, and names the one that differs.
import { writeSafetensors, parseSafetensors, readSafetensors, type TensorToWrite, floatData, expectShapes, SafetensorsError } from './safetensors.ts';
import { MAX_SHIFT, parameterCount, shiftOf, Transformer, type TransformerConfig, type TransformerInit } from './transformer.ts';
import type { Ops } from '../engine/types.ts';
import { fnv1a64 } from '../text/policy-vocab.ts';
import type { CorpusRecord } from '../world/types.ts';

export type PolicyPresetName = 'tiny' | 'small' | 'base';
/** A preset: a TransformerConfig without the vocabulary (the tokenizer's). */
export type PolicyShape = Omit<TransformerConfig, 'vocab'>;

export const POLICY_PRESETS: Readonly<Record<PolicyPresetName, Readonly<PolicyShape>>> = Object.freeze({
  tiny: Object.freeze({ dim: 32, heads: 2, layers: 2, context: 512, mlpRatio: 4 }),
  small: Object.freeze({ dim: 128, heads: 4, layers: 4, context: 2048, mlpRatio: 4, shift: 2 }),
  base: Object.freeze({ dim: 320, heads: 5, layers: 6, context: 2048, mlpRatio: 4, shift: 2 }),
});

export const POLICY_PRESET_NAMES = Object.keys(POLICY_PRESETS) as PolicyPresetName[];

/** The full config of a preset for a vocabulary size. */
export function policyConfig(preset: PolicyPresetName | PolicyShape, vocab: number): TransformerConfig {
  const shape = typeof preset === 'string' ? POLICY_PRESETS[preset] : preset;
  if (!shape) throw new Error(`policy: unknown preset "${String(preset)}" (expected ${POLICY_PRESET_NAMES.join(', ')})`);
  if (!Number.isInteger(vocab) || vocab < 1) throw new Error(`policy: vocab must be a positive integer, got ${vocab}`);
  return { vocab, ...shape };
}

export function policyParameterCount(preset: PolicyPresetName | PolicyShape, vocab: number): number {
  return parameterCount(policyConfig(preset, vocab));
}

/** What a checkpoint is bound to: the tokenizer whose ids it reads and the world it was trained on. */
export interface PolicyBinding {
  /** PolicyTokenizer.hash. */
  tokenizerHash: string;
  /** worldHash(corpus). */
  worldHash: string;
  /** The tokenizer's entity slots (PolicyTokenizer.slots) when it has any: how to rebuild it from the world. */
  tokenizerSlots?: number;
}

/** The binding of a model that reads `tokenizer`'s ids on the world of `worldHashValue`. */
export function policyBinding(tokenizer: { hash: string; slots: number }, worldHashValue: string): PolicyBinding {
  return { tokenizerHash: tokenizer.hash, worldHash: worldHashValue, ...(tokenizer.slots > 0 ? { tokenizerSlots: tokenizer.slots } : {}) };
}

/** Metadata key of PolicyBinding.tokenizerSlots (absent: no slots). */
const SLOTS_KEY = 'tokenizer_slots';

function parseSlots(value: string | undefined, source: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isInteger(n)) throw new PolicyCheckpointError('format', `policy checkpoint ${source}: metadata ${SLOTS_KEY} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The entity slots of the tokenizer a checkpoint was trained with (0: none), read from its metadata, so that the
 * caller can rebuild that tokenizer from the world before loading it.
 */
export function checkpointTokenizerSlots(bytes: Uint8Array | ArrayBuffer, source: string): number {
  let md: Record<string, string>;
  try {
    // The header only: the tensors are decoded once, by loadPolicy.
    md = parseSafetensors(bytes, source).metadata;
  } catch (e) {
    throw new PolicyCheckpointError('format', `policy checkpoint ${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSlots(md[SLOTS_KEY], source);
}

/** Identifies a world's corpus: FNV-1a 64 over its ids and contents in order ("fnv1a64:<16 hex>"). */
export function worldHash(corpus: readonly CorpusRecord[]): string {
  // Hashed in pieces to keep the string small; each record's hash is chained into the next.
  let h = fnv1a64(`search-r2-world-corpus/1:${corpus.length}`);
  for (const r of corpus) h = fnv1a64(`${h}\u0000${r.id}\u0000${r.contents}`);
  return `fnv1a64:${h}`;
}

export const POLICY_FORMAT = 'search-r2-policy';
export const POLICY_VERSION = '1';

export type PolicyMismatch = 'format' | 'config' | 'tokenizer' | 'world';

/** A checkpoint that does not fit: `field` says which of format / config / tokenizer / world differs. */
export class PolicyCheckpointError extends Error {
  constructor(
    readonly field: PolicyMismatch,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyCheckpointError';
  }
}

/** Serializes the model's current weights (read back from its backend) with its binding and extra metadata. */
export async function savePolicy(
  model: Transformer,
  binding: PolicyBinding,
  extra: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const tensors = new Map<string, TensorToWrite>();
  for (const p of model.params) tensors.set(p.name, { dtype: 'F32', shape: [...p.shape], data: await model.ops.readF32(p.value) });
  for (const k of ['format', 'version', 'config', 'tokenizer', 'world', SLOTS_KEY])
    if (k in extra) throw new Error(`savePolicy: metadata key "${k}" is reserved`);
  return writeSafetensors(tensors, {
    ...extra,
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    config: JSON.stringify(model.config),
    tokenizer: binding.tokenizerHash,
    world: binding.worldHash,
    ...(binding.tokenizerSlots ? { [SLOTS_KEY]: String(binding.tokenizerSlots) } : {}),
  });
}

export interface LoadPolicyOptions {
  /** The binding the caller runs with; a checkpoint bound to another tokenizer or world is refused. */
  expect: PolicyBinding;
  /** The config the caller needs (e.g. a preset); omitted: the checkpoint's own config is used. */
  config?: TransformerConfig;
}

export interface LoadedPolicy {
  model: Transformer;
  config: TransformerConfig;
  binding: PolicyBinding;
  /** All metadata of the file (the reserved keys and the extras). */
  metadata: Record<string, string>;
}

const CONFIG_KEYS = ['vocab', 'dim', 'heads', 'layers', 'context', 'mlpRatio'] as const;
/**
 * The config fields a requested config must match, the optional token shift included (0 when absent).
 * frozenEmbeddings is not one: it changes training, not the function, and a loaded model keeps the file's.
 */
const configValue = (c: TransformerConfig, k: (typeof CONFIG_KEYS)[number] | 'shift'): number => (k === 'shift' ? shiftOf(c) : c[k]);
const COMPARED_KEYS = [...CONFIG_KEYS, 'shift'] as const;

function parseConfig(text: string | undefined, source: string): TransformerConfig {
  let raw: unknown;
  try {
    raw = text === undefined ? undefined : JSON.parse(text);
  } catch {
    raw = undefined;
  }
  if (raw === null || typeof raw !== 'object')
    throw new PolicyCheckpointError('format', `policy checkpoint ${source}: metadata "config" is missing or not JSON`);
  const o = raw as Record<string, unknown>;
  const c = {} as TransformerConfig;
  for (const k of CONFIG_KEYS) {
    const v = o[k];
    if (typeof v !== 'number' || !(v > 0)) throw new PolicyCheckpointError('format', `policy checkpoint ${source}: config.${k} is ${JSON.stringify(v)}`);
    c[k] = v;
  }
  if (o.shift !== undefined) {
    if (!(typeof o.shift === 'number' && Number.isInteger(o.shift) && o.shift >= 0 && o.shift <= MAX_SHIFT))
      throw new PolicyCheckpointError('format', `policy checkpoint ${source}: config.shift is ${JSON.stringify(o.shift)} (expected an integer in 0..${MAX_SHIFT})`);
    if (o.shift > 0) c.shift = o.shift;
  }
  if (o.frozenEmbeddings !== undefined) {
    if (typeof o.frozenEmbeddings !== 'boolean')
      throw new PolicyCheckpointError('format', `policy checkpoint ${source}: config.frozenEmbeddings is ${JSON.stringify(o.frozenEmbeddings)} (expected true or false)`);
    if (o.frozenEmbeddings) c.frozenEmbeddings = true;
  }
  return c;
}

const fmtConfig = (c: TransformerConfig): string => COMPARED_KEYS.map((k) => `${k}=${configValue(c, k)}`).join(' ');

/**
 * Builds a Transformer on `ops` from checkpoint bytes. Throws PolicyCheckpointError naming what differs: the file
 * is not a policy checkpoint ('format'), its config is not the requested one ('config'), it was trained with
 * another tokenizer ('tokenizer') or on another world ('world'); shape problems inside the file are 'format'.
 */
export function loadPolicy(ops: Ops, bytes: Uint8Array | ArrayBuffer, source: string, opts: LoadPolicyOptions): LoadedPolicy {
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(bytes, source);
  } catch (e) {
    throw new PolicyCheckpointError('format', `policy checkpoint ${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const md = file.metadata;
  if (md.format !== POLICY_FORMAT)
    throw new PolicyCheckpointError('format', `policy checkpoint ${source}: metadata format is ${JSON.stringify(md.format)}, expected "${POLICY_FORMAT}" (not a policy checkpoint)`);
  if (md.version !== POLICY_VERSION)
    throw new PolicyCheckpointError('format', `policy checkpoint ${source}: version ${JSON.stringify(md.version)}, this code reads version ${POLICY_VERSION}`);
  const config = parseConfig(md.config, source);
  if (opts.config) {
    const want = opts.config;
    const diff = COMPARED_KEYS.filter((k) => configValue(want, k) !== configValue(config, k));
    if (diff.length > 0)
      throw new PolicyCheckpointError(
        'config',
        `policy checkpoint ${source}: config differs in ${diff.map((k) => `${k} (file ${configValue(config, k)}, wanted ${configValue(want, k)})`).join(', ')}; file: ${fmtConfig(config)}`,
      );
  }
  if (md.tokenizer !== opts.expect.tokenizerHash)
    throw new PolicyCheckpointError(
      'tokenizer',
      `policy checkpoint ${source}: trained with tokenizer ${md.tokenizer ?? '(none)'}, but the current tokenizer is ${opts.expect.tokenizerHash} (rebuild the checkpoint for this vocabulary)`,
    );
  if (md.world !== opts.expect.worldHash)
    throw new PolicyCheckpointError(
      'world',
      `policy checkpoint ${source}: trained on world ${md.world ?? '(none)'}, but the current world is ${opts.expect.worldHash}`,
    );
  const model = new Transformer(ops, config, 0);
  try {
    const spec: Record<string, readonly number[]> = {};
    for (const p of model.params) spec[p.name] = p.shape;
    try {
      expectShapes(file.tensors, spec, source);
    } catch (e) {
      throw new PolicyCheckpointError('format', `policy checkpoint ${source}: ${e instanceof SafetensorsError ? e.message : String(e)}`);
    }
    for (const p of model.params) {
      const t = file.tensors.get(p.name);
      if (!t) throw new PolicyCheckpointError('format', `policy checkpoint ${source}: tensor '${p.name}' is missing`);
      ops.write(p.value, floatData(t, p.name, source));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  const slots = parseSlots(md[SLOTS_KEY], source);
  return { model, config, binding: { tokenizerHash: md.tokenizer, worldHash: md.world, ...(slots > 0 ? { tokenizerSlots: slots } : {}) }, metadata: md };
}

/** A fresh policy of a preset for a tokenizer (weights from `seed`). */
export function createPolicy(ops: Ops, preset: PolicyPresetName | PolicyShape, vocab: number, seed: number, init: TransformerInit = {}): Transformer {
  return new Transformer(ops, policyConfig(preset, vocab), seed, init);
}
