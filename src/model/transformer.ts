// A decoder-only transformer (pre-LN, GELU MLP, tied embeddings, learned positions, optional token shift) built on
// the tape, so it trains on any backend.
import { Rng } from '../engine/rng.ts';
import { Tape, type Var } from '../engine/tape.ts';
import type { Ops, Tensor } from '../engine/types.ts';

export interface TransformerConfig {
  vocab: number;
  dim: number;
  heads: number;
  layers: number;
  /** Longest sequence (positions). */
  context: number;
  /** Hidden width of the MLP as a multiple of dim. */
  mlpRatio: number;
  /**
   * Token shift (0 or absent: none; at most MAX_SHIFT): the input of position i also gets tok_emb[ids[i - s]] x
   * shift.s for s = 1..shift (the pad id 0 before a sequence's start). Every position then carries its previous
   * tokens, so one attention layer can match "the token after the one I just wrote" (an induction head, what
   * copying a name spelled in several tokens needs) without first learning a previous-token head.
   */
  shift?: number;
  /**
   * The token embedding stays at its random initialization (normal, std FROZEN_EMBEDDING_STD) and is never trained:
   * no gradient, no optimizer state, in SFT and in GRPO. Trained, the tied table learns a softmax "never say this"
   * for every id the training data never emits (all but the training entities' names on an entity-disjoint world),
   * so a held-out name is nearly impossible to write even when the passage in front of the policy spells it. Frozen,
   * every id's embedding is drawn from one distribution, so a copy circuit learned on training names would read and
   * write a held-out name the same way (the idea; on the small preset's 25-minute schedule the circuit did not form,
   * public/policy/README.md). Absent: trained as usual.
   */
  frozenEmbeddings?: boolean;
}

/** Largest token shift a config may ask for. */
export const MAX_SHIFT = 4;

/** Standard deviation of a frozen token embedding (about the per-value RMS a trained 128-wide table reaches). */
export const FROZEN_EMBEDDING_STD = 0.2;

/** The token shift of a config (0 when absent). */
export const shiftOf = (c: TransformerConfig): number => c.shift ?? 0;

/**
 * The ids `s` positions back of every position of a right-padded batch [batch, t] (0, the pad id, before a
 * sequence's start): what the shift.s projection reads.
 */
export function shiftedIds(ids: Int32Array, batch: number, t: number, s: number): Int32Array {
  const out = new Int32Array(batch * t);
  for (let b = 0; b < batch; b++) for (let i = s; i < t; i++) out[b * t + i] = ids[b * t + i - s];
  return out;
}

export const TRANSFORMER_PRESETS = {
  /** For tests: about 0.1M parameters. */
  tiny: { vocab: 256, dim: 64, heads: 2, layers: 1, context: 64, mlpRatio: 4 },
} satisfies Record<string, TransformerConfig>;

export interface ForwardOptions {
  /** Valid tokens per sequence of a right-padded batch (1 <= len <= t); omitted: every token is valid. */
  keyLengths?: Int32Array;
  /**
   * Only these rows (indices into the batch*t positions, any order, repeats allowed) get logits, in this order:
   * logits [rows.length, vocab]. The output projection is the largest matmul of a small model with a large
   * vocabulary, and the losses need few rows (SFT and GRPO train on the policy's own tokens only; the judge and
   * trim roles on one decision token).
   */
  rows?: Int32Array;
}

/** LayerNorm epsilon of every norm in the model (the tape's default). */
export const LN_EPS = 1e-5;

/** Parameters of a config, without building it. */
export function parameterCount(c: TransformerConfig): number {
  const hidden = c.dim * c.mlpRatio;
  const perLayer = 4 * c.dim + 4 * (c.dim * c.dim + c.dim) + (c.dim * hidden + hidden) + (hidden * c.dim + c.dim);
  return c.vocab * c.dim + c.context * c.dim + shiftOf(c) * c.dim * c.dim + c.layers * perLayer + 2 * c.dim;
}

export interface Layer {
  ln1g: Var; ln1b: Var;
  wq: Var; bq: Var; wk: Var; bk: Var; wv: Var; bv: Var; wo: Var; bo: Var;
  ln2g: Var; ln2b: Var;
  w1: Var; b1: Var; w2: Var; b2: Var;
}

export class Transformer {
  /** Every weight, trained or not (the checkpoint's tensors); a frozen one has requiresGrad false and never a gradient. */
  readonly params: Var[] = [];
  readonly tokEmb: Var;
  readonly posEmb: Var;
  /** shift.1 .. shift.S [dim, dim] (empty without a token shift). */
  readonly shifts: Var[] = [];
  readonly layers: Layer[] = [];
  readonly lnfg: Var;
  readonly lnfb: Var;

  /**
   * Weights initialised from `seed` (normal, std 0.02; layernorm gains 1; biases 0). Position embeddings: normal
   * (std 0.01) by default; `positions: 'sinusoidal'` starts them at the sin/cos table of Vaswani et al. scaled to the
   * token embeddings' RMS (still trained): every position, also ones rarely seen in training, then starts with an
   * embedding from which relative offsets are linear maps, which lets attention find "the token before" anywhere
   * in the context (what copying a multi-token name needs).
   */
  constructor(
    readonly ops: Ops,
    readonly config: TransformerConfig,
    seed: number,
    init: TransformerInit = {},
  ) {
    const { vocab, dim, layers, context, mlpRatio, heads } = config;
    if (dim % heads !== 0) throw new Error(`Transformer: dim ${dim} is not a multiple of heads ${heads}`);
    const shift = shiftOf(config);
    if (!(Number.isInteger(shift) && shift >= 0 && shift <= MAX_SHIFT)) throw new Error(`Transformer: shift must be an integer in 0..${MAX_SHIFT}, got ${shift}`);
    const rng = new Rng(seed);
    const tape = new Tape(ops);
    const mk = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones', std = 0.02, trained = true): Var => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = init === 'normal' ? rng.normalArray(n, std) : new Float32Array(n).fill(init === 'ones' ? 1 : 0);
      const t = ops.tensor(data, shape);
      const v = trained ? tape.param(t, name) : tape.input(t, name);
      this.params.push(v);
      return v;
    };
    this.tokEmb = config.frozenEmbeddings ? mk('tok_emb', [vocab, dim], 'normal', FROZEN_EMBEDDING_STD, false) : mk('tok_emb', [vocab, dim], 'normal');
    this.posEmb = mk('pos_emb', [context, dim], 'normal', 0.01);
    if (init.positions === 'sinusoidal') ops.write(this.posEmb.value, sinusoidalPositions(context, dim, 0.02 * Math.SQRT2));
    for (let s = 1; s <= shift; s++) this.shifts.push(mk(`shift.${s}`, [dim, dim], 'normal'));
    const hidden = dim * mlpRatio;
    const residStd = 0.02 / Math.sqrt(2 * layers);
    for (let l = 0; l < layers; l++) {
      const p = `h${l}.`;
      this.layers.push({
        ln1g: mk(p + 'ln1.g', [dim], 'ones'), ln1b: mk(p + 'ln1.b', [dim], 'zeros'),
        wq: mk(p + 'attn.wq', [dim, dim], 'normal'), bq: mk(p + 'attn.bq', [dim], 'zeros'),
        wk: mk(p + 'attn.wk', [dim, dim], 'normal'), bk: mk(p + 'attn.bk', [dim], 'zeros'),
        wv: mk(p + 'attn.wv', [dim, dim], 'normal'), bv: mk(p + 'attn.bv', [dim], 'zeros'),
        wo: mk(p + 'attn.wo', [dim, dim], 'normal', residStd), bo: mk(p + 'attn.bo', [dim], 'zeros'),
        ln2g: mk(p + 'ln2.g', [dim], 'ones'), ln2b: mk(p + 'ln2.b', [dim], 'zeros'),
        w1: mk(p + 'mlp.w1', [dim, hidden], 'normal'), b1: mk(p + 'mlp.b1', [hidden], 'zeros'),
        w2: mk(p + 'mlp.w2', [hidden, dim], 'normal', residStd), b2: mk(p + 'mlp.b2', [dim], 'zeros'),
      });
    }
    this.lnfg = mk('lnf.g', [dim], 'ones');
    this.lnfb = mk('lnf.b', [dim], 'zeros');
  }

  get parameterCount(): number {
    return this.params.reduce((a, p) => a + p.value.size, 0);
  }

  /** The parameters by name (`tok_emb`, `pos_emb`, `h0.attn.wq`, ..., `lnf.b`): checkpoint names. */
  paramsByName(): Map<string, Var> {
    return new Map(this.params.map((p) => [p.name, p]));
  }

  /**
   * Logits [batch*t, vocab] for token ids [batch*t] (row-major by sequence). With `keyLengths` (padded batches,
   * e.g. rollouts of different lengths), sequence b's tokens are ids[b*t .. b*t + keyLengths[b]) and the padded
   * positions after them are masked out as keys; their logits rows are meaningless (give them zero loss weight).
   * The tape-free KV-cache decoder (decoder-cache.ts) computes the same function op by op.
   */
  forward(tape: Tape, ids: Int32Array, batch: number, t: number, opts: ForwardOptions = {}): Var {
    const { heads, context } = this.config;
    if (ids.length !== batch * t) throw new Error(`Transformer.forward: ${ids.length} ids for batch ${batch} x t ${t}`);
    if (t > context) throw new Error(`Transformer.forward: sequence length ${t} exceeds the context (${context})`);
    if (opts.keyLengths && opts.keyLengths.length !== batch)
      throw new Error(`Transformer.forward: keyLengths has ${opts.keyLengths.length} entries for batch ${batch}`);
    const o = this.ops;
    const pos = new Int32Array(batch * t);
    for (let i = 0; i < pos.length; i++) pos[i] = i % t;
    const idsT = o.tensor(ids, [ids.length]);
    const posT = o.tensor(pos, [pos.length]);
    let x = tape.add(tape.embedding(this.tokEmb, idsT, ids), tape.embedding(this.posEmb, posT, pos));
    this.shifts.forEach((w, j) => {
      const prev = shiftedIds(ids, batch, t, j + 1);
      const prevT = o.tensor(prev, [prev.length]);
      tape.adopt(prevT);
      x = tape.add(x, tape.matmul(tape.embedding(this.tokEmb, prevT, prev), w));
    });
    const spec = { batch, heads, tq: t, tk: t, ...(opts.keyLengths ? { keyLengths: opts.keyLengths } : {}) };
    for (const L of this.layers) {
      const h = tape.layernorm(x, L.ln1g, L.ln1b, LN_EPS);
      const q = tape.addBias(tape.matmul(h, L.wq), L.bq);
      const k = tape.addBias(tape.matmul(h, L.wk), L.bk);
      const v = tape.addBias(tape.matmul(h, L.wv), L.bv);
      const a = tape.addBias(tape.matmul(tape.attention(q, k, v, spec), L.wo), L.bo);
      x = tape.add(x, a);
      const h2 = tape.layernorm(x, L.ln2g, L.ln2b, LN_EPS);
      const m = tape.addBias(tape.matmul(tape.gelu(tape.addBias(tape.matmul(h2, L.w1), L.b1)), L.w2), L.b2);
      x = tape.add(x, m);
    }
    tape.adopt(idsT, posT);
    if (opts.rows) {
      const rows = Int32Array.from(opts.rows); // kept by the tape for the backward scatter
      for (const r of rows)
        if (!(r >= 0 && r < batch * t)) throw new Error(`Transformer.forward: row ${r} is outside 0..${batch * t - 1}`);
      const rowsT = o.tensor(rows, [rows.length]);
      tape.adopt(rowsT);
      x = tape.embedding(x, rowsT, rows);
    }
    const hf = tape.layernorm(x, this.lnfg, this.lnfb, LN_EPS);
    return tape.matmul(hf, this.tokEmb, { transB: true });
  }

  dispose(): void {
    for (const p of this.params) {
      this.ops.dispose(p.value);
      if (p.grad) this.ops.dispose(p.grad);
    }
  }
}

export interface TransformerInit {
  /** Position-embedding initialisation (default 'normal'). */
  positions?: 'normal' | 'sinusoidal';
}

/** The sin/cos position table [context, dim] (pairs (sin, cos) at frequencies 10000^(-2i/dim)) times `amplitude`. */
export function sinusoidalPositions(context: number, dim: number, amplitude: number): Float32Array {
  const out = new Float32Array(context * dim);
  for (let p = 0; p < context; p++)
    for (let i = 0; i < dim; i += 2) {
      const a = p * Math.pow(10000, -i / dim);
      out[p * dim + i] = amplitude * Math.sin(a);
      if (i + 1 < dim) out[p * dim + i + 1] = amplitude * Math.cos(a);
    }
  return out;
}

/** Next-token loss (token mean) on sequences [batch, t]: predicts ids[i+1] from ids[..i]. */
export function lmLoss(model: Transformer, tape: Tape, ids: Int32Array, batch: number, t: number): Var {
  const o = model.ops;
  const logits = model.forward(tape, ids, batch, t);
  const targets = new Int32Array(batch * t);
  const weights = new Float32Array(batch * t);
  const count = batch * (t - 1);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < t - 1; i++) {
      targets[b * t + i] = ids[b * t + i + 1];
      weights[b * t + i] = 1 / count;
    }
  const tt: Tensor = o.tensor(targets, [targets.length]);
  const wt: Tensor = o.tensor(weights, [weights.length]);
  tape.adopt(tt, wt);
  return tape.nll(logits, tt, wt);
}
