// Tape-free inference for the policy: batched prefill and step-by-step decoding with per-sequence KV caches, fp32
// or int8 weights, next-token picking (seeded sampling through ops.sample, or greedy; on the cpu backends one fused
// pick call, src/engine/cpu/pick.ts).
//
// Layout. The decoder owns `slots` sequences. Per layer, K and V caches are [slots * context, dim] tensors; slot s
// holds its positions 0 .. length(s)-1 in rows s*context + position. A call appends a chunk of tokens to each of
// some slots: the new K/V rows are computed for all chunks at once (packed rows: projections and MLP run on
// sum(chunk lengths) rows, no padding), then written into each slot's rows with copyRows at that slot's position
// (rows are picked out of the packed tensors with the embedding gather, the engine's row gather); on the cpu backends
// one scatterRows call per cache does it for all chunks (src/engine/cpu/row-scatter.ts). Attention:
//   - chunks of one token (decoding): one attention call over the whole cache, batch = slots, tq = 1,
//     tk = context, keyLengths = each slot's new length (slots not in the call get 1 and are ignored);
//   - longer chunks all starting at position 0 (prompts): one padded attention call, batch = chunks, tq = tk =
//     the longest chunk, keyLengths = chunk lengths (queries gathered into the padded layout and back);
//   - longer chunks appended after earlier tokens (observations inserted into a running sequence): one
//     attention call per chunk against its slot's cached keys, tq = chunk length, tk = position + chunk length
//     (the causal offset tk - tq is the chunk's start).
// On the cpu backends, a call with no prompt chunk (decoding, continuations, or both) instead runs one
// attentionCached call per layer: every packed row against its slot's cache with its causal key count
// (src/engine/cpu/cached-attention.ts), no gathers; each row's result then depends on its own tokens only.
// The math is the tape forward's (Transformer.forward), op for op on each row, so the logits agree with a full
// forward over the same tokens (tests/unit/policy.test.ts); logits are computed for the last token of each chunk only.
//
// Weights. 'fp32' reads the model's live parameters. 'int8' uses per-output-channel int8 copies (Int8Weight,
// quantizeInt8) of the six matrices of every layer and of the tied output projection (tok_emb^T, one scale per
// vocabulary entry), taken by refreshInt8(): call it after every update of the fp32 weights (DESIGN 4.4: rollouts
// are sampled from the int8 policy, refreshed after each update). Embedding lookups, the token-shift projections,
// biases and norms stay fp32.
//
// Batch composition. Each row's result depends only on that row's tokens on the reference backend (float64 sums
// in a fixed order), and on the WASM backend in int8 mode (the int8 kernel's sum order does not depend on the row
// count) and for the fp32 layer matmuls (same sum order on every gemm path); the fp32 output projection (a transposed matmul) takes a differently-rounded path for <= 8 rows on
// WASM, so fp32 logits there can differ in the last bits between batch sizes.
import { ShapeError } from '../engine/errors.ts';
import type { AttentionSpec, Int8Weight, Ops, Tensor } from '../engine/types.ts';
import { quantizeInt8 } from '../engine/cpu/matmul.ts';
import { cachedAttention } from '../engine/cpu/cached-attention.ts';
import { pickOp } from '../engine/cpu/pick.ts';
import { rowScatter } from '../engine/cpu/row-scatter.ts';
import { LN_EPS, shiftOf, type Transformer } from './transformer.ts';

export type DecoderWeights = 'int8' | 'fp32';

export interface DecoderOptions {
  /** Sequences decoded together (the batch). */
  slots: number;
  /** Tokens per slot (default and maximum: the model's context). */
  context?: number;
  /**
   * Default 'int8' (call refreshInt8() before the first use and after every weight update). On the cpu backend the
   * int8 matmul is a WASM SIMD kernel about as fast as the fp32 one at these sizes (compute-bound: the weights are
   * dequantized to f32 in registers; see src/bench/rollout-bench.ts).
   */
  weights?: DecoderWeights;
}

/** Tokens appended to one slot. */
export interface DecodeChunk {
  slot: number;
  ids: ArrayLike<number>;
}

/** A chunk whose next token is picked: its uniform (sampling) and tokens it may not pick (logit -1e9). */
export interface PickChunk extends DecodeChunk {
  /** In [0, 1), from the sequence's own seeded stream; ignored when greedy. */
  uniform: number;
  ban?: readonly number[];
}

export interface PickOptions {
  /** 0: greedy (argmax, first index on ties). */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
}

export interface PickResult {
  tokens: Int32Array;
  /**
   * log p(token) under the distribution sampled from before the nucleus cut: log softmax(logits / temperature)
   * (the tempered distribution, as verl scores rollouts; equal to the sampling distribution when topP = 1);
   * greedy: log softmax(logits). Banned tokens are excluded (their logits are -1e9).
   */
  logprobs: Float32Array;
}

/** What the rollout engine drives: a batch of sequences extended chunk by chunk. */
export interface SequenceModel {
  readonly slots: number;
  readonly context: number;
  readonly vocab: number;
  /** Empties the given slots (all when omitted). */
  reset(slots?: readonly number[]): void;
  /** Tokens held by a slot. */
  length(slot: number): number;
  /** Appends each chunk to its slot and picks the token that follows each chunk. */
  step(chunks: readonly PickChunk[], opts: PickOptions): Promise<PickResult>;
}

interface LayerInt8 {
  wq: Int8Weight; wk: Int8Weight; wv: Int8Weight; wo: Int8Weight; w1: Int8Weight; w2: Int8Weight;
}

export const BANNED_LOGIT = -1e9;

/** Greedy pick and its log-probability from host logits [rows, vocab]. */
export function argmaxRows(logits: Float32Array, rows: number, vocab: number): PickResult {
  const tokens = new Int32Array(rows);
  const logprobs = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let best = 0;
    for (let c = 1; c < vocab; c++) if (logits[o + c] > logits[o + best]) best = c;
    const max = logits[o + best];
    let z = 0;
    for (let c = 0; c < vocab; c++) z += Math.exp(logits[o + c] - max);
    tokens[r] = best;
    logprobs[r] = -Math.log(z);
  }
  return { tokens, logprobs };
}

export class KvDecoder implements SequenceModel {
  readonly ops: Ops;
  readonly slots: number;
  readonly context: number;
  readonly vocab: number;
  readonly weights: DecoderWeights;
  private readonly kCache: Tensor[] = [];
  private readonly vCache: Tensor[] = [];
  private readonly lens: Int32Array;
  /** Token shift S of the model: the last S tokens of every slot ([slots, S], oldest first; 0 = pad before the start). */
  private readonly shift: number;
  private readonly recent: Int32Array;
  private int8: { layers: LayerInt8[]; out: Int8Weight } | null = null;
  private disposed = false;

  constructor(
    readonly model: Transformer,
    opts: DecoderOptions,
  ) {
    const c = model.config;
    this.ops = model.ops;
    if (!Number.isInteger(opts.slots) || opts.slots < 1) throw new Error(`KvDecoder: slots must be a positive integer, got ${opts.slots}`);
    const context = opts.context ?? c.context;
    if (!Number.isInteger(context) || context < 1 || context > c.context)
      throw new Error(`KvDecoder: context must be an integer in 1..${c.context} (the model's positions), got ${context}`);
    this.slots = opts.slots;
    this.context = context;
    this.vocab = c.vocab;
    this.weights = opts.weights ?? 'int8';
    if (this.weights !== 'int8' && this.weights !== 'fp32') throw new Error(`KvDecoder: weights must be 'int8' or 'fp32', got ${String(this.weights)}`);
    this.lens = new Int32Array(this.slots);
    this.shift = shiftOf(c);
    this.recent = new Int32Array(this.slots * this.shift);
    for (let l = 0; l < c.layers; l++) {
      this.kCache.push(this.ops.zeros([this.slots * context, c.dim]));
      this.vCache.push(this.ops.zeros([this.slots * context, c.dim]));
    }
  }

  /** A decoder with its int8 weights taken (when int8). */
  static async create(model: Transformer, opts: DecoderOptions): Promise<KvDecoder> {
    const d = new KvDecoder(model, opts);
    if (d.weights === 'int8') await d.refreshInt8();
    return d;
  }

  /** Bytes of the KV caches (for sizing batch x context). */
  get cacheBytes(): number {
    return 2 * this.kCache.length * this.slots * this.context * this.model.config.dim * 4;
  }

  /** Re-quantizes the int8 weights from the model's current fp32 weights (after each update). */
  async refreshInt8(): Promise<void> {
    this.alive();
    const o = this.ops;
    const { dim, vocab } = this.model.config;
    const q = async (w: Tensor, k: number, n: number): Promise<Int8Weight> => {
      const r = quantizeInt8(await o.readF32(w), k, n);
      return { q: o.tensor(r.q, [n, Math.ceil(k / 4)]), scales: o.tensor(r.scales, [n]), k, n };
    };
    const layers: LayerInt8[] = [];
    for (const L of this.model.layers) {
      const hidden = L.w1.shape[1];
      layers.push({
        wq: await q(L.wq.value, dim, dim),
        wk: await q(L.wk.value, dim, dim),
        wv: await q(L.wv.value, dim, dim),
        wo: await q(L.wo.value, dim, dim),
        w1: await q(L.w1.value, dim, hidden),
        w2: await q(L.w2.value, hidden, dim),
      });
    }
    // The tied output projection: logits = h tok_emb^T, i.e. W [dim, vocab] = tok_emb^T, one scale per token.
    const emb = await o.readF32(this.model.tokEmb.value);
    const embT = new Float32Array(dim * vocab);
    for (let v = 0; v < vocab; v++) for (let d = 0; d < dim; d++) embT[d * vocab + v] = emb[v * dim + d];
    const out = quantizeInt8(embT, dim, vocab);
    this.dropInt8();
    this.int8 = {
      layers,
      out: { q: o.tensor(out.q, [vocab, Math.ceil(dim / 4)]), scales: o.tensor(out.scales, [vocab]), k: dim, n: vocab },
    };
  }

  reset(slots?: readonly number[]): void {
    if (!slots) {
      this.lens.fill(0);
      this.recent.fill(0);
    } else
      for (const s of slots) {
        this.lens[this.checkSlot(s)] = 0;
        this.recent.fill(0, s * this.shift, (s + 1) * this.shift);
      }
  }

  length(slot: number): number {
    return this.lens[this.checkSlot(slot)];
  }

  /**
   * Appends each chunk's tokens to its slot (KV caches updated) and, when `logits`, returns fp32 logits
   * [chunks.length, vocab] for the last token of each chunk, in chunk order (the caller disposes them).
   */
  forward(chunks: readonly DecodeChunk[], opts: { logits: true }): Tensor;
  forward(chunks: readonly DecodeChunk[], opts: { logits: false }): null;
  forward(chunks: readonly DecodeChunk[], opts: { logits: boolean }): Tensor | null {
    this.alive();
    if (chunks.length === 0) throw new Error('KvDecoder.forward: no chunks');
    if (this.weights === 'int8' && !this.int8) throw new Error('KvDecoder: int8 weights not taken yet; await refreshInt8() (or use KvDecoder.create)');
    const o = this.ops;
    const m = this.model;
    const { dim, heads, vocab } = m.config;
    const ctx = this.context;
    const seen = new Set<number>();
    for (const c of chunks) {
      this.checkSlot(c.slot);
      if (seen.has(c.slot)) throw new Error(`KvDecoder.forward: slot ${c.slot} appears twice in one call`);
      seen.add(c.slot);
      if (c.ids.length < 1) throw new Error(`KvDecoder.forward: empty chunk for slot ${c.slot}`);
      if (this.lens[c.slot] + c.ids.length > ctx)
        throw new Error(`KvDecoder.forward: slot ${c.slot} holds ${this.lens[c.slot]} tokens; ${c.ids.length} more exceed the context (${ctx})`);
      for (let i = 0; i < c.ids.length; i++)
        if (!(Number.isInteger(c.ids[i]) && c.ids[i] >= 0 && c.ids[i] < vocab))
          throw new ShapeError(`KvDecoder.forward: token ${c.ids[i]} of slot ${c.slot} is outside the vocabulary (0..${vocab - 1})`);
    }
    // Packed order: one-token chunks first (one decode attention call), then longer ones.
    const order = [...chunks.keys()].sort((a, b) => Number(chunks[a].ids.length > 1) - Number(chunks[b].ids.length > 1) || a - b);
    const n = order.length;
    const offs = new Int32Array(n);
    let N = 0;
    for (let j = 0; j < n; j++) {
      offs[j] = N;
      N += chunks[order[j]].ids.length;
    }
    let nd = 0;
    while (nd < n && chunks[order[nd]].ids.length === 1) nd++;
    const ids = new Int32Array(N);
    const pos = new Int32Array(N);
    for (let j = 0; j < n; j++) {
      const c = chunks[order[j]];
      const p0 = this.lens[c.slot];
      for (let i = 0; i < c.ids.length; i++) {
        ids[offs[j] + i] = c.ids[i];
        pos[offs[j] + i] = p0 + i;
      }
    }

    // Slot and causal key count (position + 1) of every packed row, for attention straight from the caches; used
    // when no chunk is a prompt from position 0 (prompts keep the padded call, which batches their queries).
    const cached = cachedAttention(o);
    const noPrompts = chunks.every((c) => c.ids.length === 1 || this.lens[c.slot] > 0);
    const rowSlots = new Int32Array(N);
    const rowKeys = new Int32Array(N);
    for (let j = 0; j < n; j++) {
      const c = chunks[order[j]];
      for (let i = 0; i < c.ids.length; i++) {
        rowSlots[offs[j] + i] = c.slot;
        rowKeys[offs[j] + i] = pos[offs[j] + i] + 1;
      }
    }
    // Cache row of every packed row (slot * context + position), for the one-call scatter.
    const scatter = rowScatter(o);
    let cacheRows: Int32Array | null = null;
    if (scatter) {
      cacheRows = new Int32Array(N);
      for (let j = 0; j < n; j++) {
        const c = chunks[order[j]];
        for (let i = 0; i < c.ids.length; i++) cacheRows[offs[j] + i] = c.slot * ctx + pos[offs[j] + i];
      }
    }

    const live: Tensor[] = [];
    const keep = <T extends Tensor>(t: T): T => {
      live.push(t);
      return t;
    };
    const free = (): void => {
      for (const t of live.splice(0)) o.dispose(t);
    };
    const idx = (a: ArrayLike<number>): Tensor => keep(o.tensor(Int32Array.from(a), [a.length]));
    /** Rows [start, start + count) of x [rows, dim], as their own tensor (x itself when that is all of it). */
    const rowsOf = (x: Tensor, start: number, count: number): Tensor => {
      if (start === 0 && count === x.shape[0]) return x;
      const r = new Int32Array(count);
      for (let i = 0; i < count; i++) r[i] = start + i;
      return keep(o.embedding(x, idx(r)));
    };
    const int8 = this.int8;
    const mm = (x: Tensor, w: Tensor, q: Int8Weight | undefined): Tensor =>
      keep(this.weights === 'int8' && q ? o.matmulInt8(x, q) : o.matmul(x, w));
    const ln = (x: Tensor, g: Tensor, b: Tensor): Tensor => {
      const r = o.layernorm(x, g, b, LN_EPS);
      o.dispose(r.mean);
      o.dispose(r.rstd);
      return keep(r.y);
    };

    try {
      let x = keep(o.add(keep(o.embedding(m.tokEmb.value, idx(ids))), keep(o.embedding(m.posEmb.value, idx(pos)))));
      // Token shift (Transformer.forward): the ids s back of every packed row, from the chunk or the slot's recent
      // tokens; the shift projections stay fp32 in int8 mode (like the embeddings).
      const S = this.shift;
      for (let s = 1; s <= S; s++) {
        const prev = new Int32Array(N);
        for (let j = 0; j < n; j++) {
          const c = chunks[order[j]];
          for (let i = 0; i < c.ids.length; i++) prev[offs[j] + i] = i >= s ? c.ids[i - s] : this.recent[c.slot * S + S + i - s];
        }
        x = keep(o.add(x, keep(o.matmul(keep(o.embedding(m.tokEmb.value, idx(prev))), m.shifts[s - 1].value))));
      }
      const multi = order.slice(nd).map((ci, j) => ({ c: chunks[ci], off: offs[nd + j], p0: this.lens[chunks[ci].slot] }));
      const allFromStart = multi.every((e) => e.p0 === 0);
      for (let l = 0; l < m.layers.length; l++) {
        const L = m.layers[l];
        const q8 = int8?.layers[l];
        const h = ln(x, L.ln1g.value, L.ln1b.value);
        const q = keep(o.addBias(mm(h, L.wq.value, q8?.wq), L.bq.value));
        const k = keep(o.addBias(mm(h, L.wk.value, q8?.wk), L.bk.value));
        const v = keep(o.addBias(mm(h, L.wv.value, q8?.wv), L.bv.value));
        // New K/V rows into the caches, at each slot's position: one scatter per cache where the backend has it.
        if (scatter && cacheRows) {
          scatter(this.kCache[l], cacheRows, k);
          scatter(this.vCache[l], cacheRows, v);
        } else {
          for (let j = 0; j < n; j++) {
            const c = chunks[order[j]];
            const len = c.ids.length;
            const at = c.slot * ctx + this.lens[c.slot];
            o.copyRows(this.kCache[l], at, rowsOf(k, offs[j], len));
            o.copyRows(this.vCache[l], at, rowsOf(v, offs[j], len));
          }
        }
        let att: Tensor;
        if (cached && noPrompts) {
          // The cpu backends: every row (decode or continuation) straight against its slot's cache, one call.
          att = keep(cached(q, this.kCache[l], this.vCache[l], { heads, blockRows: ctx, slots: rowSlots, lengths: rowKeys }));
        } else {
          const pieces: { off: number; t: Tensor }[] = [];
          if (nd > 0) {
            // Decoding: every slot is a batch entry of one call over the caches; slots not decoding see 1 key.
            const qMap = new Int32Array(this.slots);
            const keyLengths = new Int32Array(this.slots).fill(1);
            const slotsOfRows = new Int32Array(nd);
            for (let j = 0; j < nd; j++) {
              const s = chunks[order[j]].slot;
              qMap[s] = offs[j];
              keyLengths[s] = this.lens[s] + 1;
              slotsOfRows[j] = s;
            }
            const identity = nd === this.slots && slotsOfRows.every((s, j) => s === j) && N === nd;
            const qAll = identity ? q : keep(o.embedding(q, idx(qMap)));
            const spec: AttentionSpec = { batch: this.slots, heads, tq: 1, tk: ctx, keyLengths };
            const r = o.attention(qAll, this.kCache[l], this.vCache[l], spec);
            o.dispose(r.lse);
            keep(r.out);
            pieces.push({ off: 0, t: identity ? r.out : keep(o.embedding(r.out, idx(slotsOfRows))) });
          }
          if (multi.length > 0 && allFromStart) {
            // Prompts: one padded call over the chunks' own K/V (pad rows repeat a chunk's last row, masked as keys).
            const T = Math.max(...multi.map((e) => e.c.ids.length));
            const single = multi.length === 1 && nd === 0;
            const pad = new Int32Array(multi.length * T);
            const unpad: number[] = [];
            const keyLengths = new Int32Array(multi.length);
            multi.forEach((e, b) => {
              const len = e.c.ids.length;
              keyLengths[b] = len;
              for (let i = 0; i < T; i++) pad[b * T + i] = e.off + Math.min(i, len - 1);
              for (let i = 0; i < len; i++) unpad.push(b * T + i);
            });
            const padIdx = single ? null : idx(pad);
            const [qp, kp, vp] = [q, k, v].map((t) => (padIdx ? keep(o.embedding(t, padIdx)) : t));
            const spec: AttentionSpec = { batch: multi.length, heads, tq: T, tk: T, keyLengths };
            const r = o.attention(qp, kp, vp, spec);
            o.dispose(r.lse);
            keep(r.out);
            const packed = single || unpad.length === multi.length * T ? r.out : keep(o.embedding(r.out, idx(unpad)));
            pieces.push({ off: multi[0].off, t: packed });
          } else {
            // Continuations: each chunk attends to its slot's cached keys (its own rows were written above).
            for (const e of multi) {
              const len = e.c.ids.length;
              const tk = e.p0 + len;
              const qc = rowsOf(q, e.off, len);
              const kc = rowsOf(this.kCache[l], e.c.slot * ctx, tk);
              const vc = rowsOf(this.vCache[l], e.c.slot * ctx, tk);
              const r = o.attention(qc, kc, vc, { batch: 1, heads, tq: len, tk });
              o.dispose(r.lse);
              pieces.push({ off: e.off, t: keep(r.out) });
            }
          }
          if (pieces.length === 1 && pieces[0].t.shape[0] === N) att = pieces[0].t;
          else {
            att = keep(o.zeros([N, dim]));
            for (const p of pieces) o.copyRows(att, p.off, p.t);
          }
        }
        x = keep(o.add(x, keep(o.addBias(mm(att, L.wo.value, q8?.wo), L.bo.value))));
        const h2 = ln(x, L.ln2g.value, L.ln2b.value);
        const f = keep(o.gelu(keep(o.addBias(mm(h2, L.w1.value, q8?.w1), L.b1.value))));
        x = keep(o.add(x, keep(o.addBias(mm(f, L.w2.value, q8?.w2), L.b2.value))));
      }
      for (const c of chunks) {
        this.lens[c.slot] += c.ids.length;
        if (S > 0) {
          // The slot's last S tokens after this chunk (oldest first), without building the concatenation.
          const r = this.recent.subarray(c.slot * S, (c.slot + 1) * S);
          const k = c.ids.length;
          if (k < S) r.copyWithin(0, k);
          for (let i = Math.max(0, k - S); i < k; i++) r[S - k + i] = c.ids[i];
        }
      }
      if (!opts.logits) return null;
      // The last row of each chunk, in the caller's chunk order.
      const last = new Int32Array(chunks.length);
      for (let j = 0; j < n; j++) last[order[j]] = offs[j] + chunks[order[j]].ids.length - 1;
      const xl = N === chunks.length && last.every((r, i) => r === i) ? x : keep(o.embedding(x, idx(last)));
      const hf = ln(xl, m.lnfg.value, m.lnfb.value);
      return int8 && this.weights === 'int8' ? o.matmulInt8(hf, int8.out) : o.matmul(hf, m.tokEmb.value, { transB: true });
    } finally {
      free();
    }
  }

  async step(chunks: readonly PickChunk[], opts: PickOptions): Promise<PickResult> {
    const o = this.ops;
    if (!(opts.temperature >= 0) || !(opts.topP > 0 && opts.topP <= 1))
      throw new Error(`KvDecoder.step: need temperature >= 0 and topP in (0, 1], got ${opts.temperature}, ${opts.topP}`);
    let logits = this.forward(chunks, { logits: true });
    const rows = chunks.length;
    const V = this.vocab;
    try {
      if (chunks.some((c) => c.ban && c.ban.length > 0)) {
        const bias = new Float32Array(rows * V);
        chunks.forEach((c, r) => {
          for (const t of c.ban ?? []) {
            if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new Error(`KvDecoder.step: banned token ${t} is outside the vocabulary`);
            bias[r * V + t] = BANNED_LOGIT;
          }
        });
        const b = o.tensor(bias, [rows, V]);
        const masked = o.add(logits, b);
        o.dispose(b);
        o.dispose(logits);
        logits = masked;
      }
      const picker = pickOp(o);
      if (opts.temperature === 0 && !picker) return argmaxRows(await o.readF32(logits), rows, V);
      const u = new Float32Array(rows);
      if (opts.temperature > 0)
        chunks.forEach((c, r) => {
          if (!(c.uniform >= 0 && c.uniform < 1)) throw new Error(`KvDecoder.step: uniform ${c.uniform} of slot ${c.slot} is not in [0, 1)`);
          u[r] = c.uniform;
        });
      const ut = o.tensor(u, [rows]);
      if (picker) {
        // The cpu backends: token and log-probability in one fused call (src/engine/cpu/pick.ts).
        const r = picker(logits, ut, { temperature: opts.temperature, topP: opts.topP });
        try {
          const [tokens, logprobs] = await Promise.all([o.readI32(r.tokens), o.readF32(r.logprobs)]);
          return { tokens, logprobs };
        } finally {
          for (const t of [ut, r.tokens, r.logprobs]) o.dispose(t);
        }
      }
      const tok = o.sample(logits, ut, { temperature: opts.temperature, topP: opts.topP });
      const scaled = opts.temperature === 1 ? logits : o.scale(logits, 1 / opts.temperature);
      const { logp, lse } = o.logprob(scaled, tok);
      try {
        const [tokens, logprobs] = await Promise.all([o.readI32(tok), o.readF32(logp)]);
        return { tokens, logprobs };
      } finally {
        for (const t of [ut, tok, logp, lse]) o.dispose(t);
        if (scaled !== logits) o.dispose(scaled);
      }
    } finally {
      o.dispose(logits);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.kCache, ...this.vCache]) this.ops.dispose(t);
    this.dropInt8();
  }

  private dropInt8(): void {
    if (!this.int8) return;
    const ws = [...this.int8.layers.flatMap((L) => [L.wq, L.wk, L.wv, L.wo, L.w1, L.w2]), this.int8.out];
    for (const w of ws) {
      this.ops.dispose(w.q);
      this.ops.dispose(w.scales);
    }
    this.int8 = null;
  }

  private checkSlot(s: number): number {
    if (!Number.isInteger(s) || s < 0 || s >= this.slots) throw new Error(`KvDecoder: slot ${s} is outside 0..${this.slots - 1}`);
    return s;
  }

  private alive(): void {
    if (this.disposed) throw new Error('KvDecoder: used after dispose()');
  }
}
