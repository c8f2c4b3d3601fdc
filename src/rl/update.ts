// The fp32 GRPO update on the tape (DESIGN 4.4), for the Actor's trajectories and the Meta-Refiner's decision tokens
// alike (a judge/trim sequence is [bos] + prompt + decision token with promptLength = ids.length - 1 and mask [1]).
//
// sequenceLogprobs: a forward pass without an update (the tape is built and thrown away), fp32, log p of the
//   response tokens (ids[promptLength..]; only the mask's tokens when a mask is given) and the entropy of each of
//   those positions' distributions; used for the reference log-probs with the frozen warm-start model and for the
//   old log-probs of mini-batches after the first. Old log-probs are the fp32 ones (rollouts were sampled from the
//   int8 policy): the first mini-batch's gradient pass runs under the old weights and takes its own. With
//   `temperature` T the distribution is softmax(logits / T), as verl scores rollouts sampled at temperature T
//   (decoder-cache.ts PickResult does the same). A sequence's own `temperature` overrides the option (the
//   Meta-Refiner's decision tokens are taken at T = 1 while the Actor samples at T; joint.ts sets it), so one batch
//   can mix them.
// grpoUpdate: per mini-batch (default 1: one optimizer step for the whole batch), the aggregation weights are taken
//   from the mini-batch's masks (grpo.ts), then micro-batches of at most `batchTokens` padded tokens each run a
//   forward on the tape with logits only for the rows that predict an unmasked token, read the new log-probs,
//   compute the per-token coefficients c = dLoss/dNew (grpo.ts sequenceTerms), and run the backward pass from a
//   weighted nll with weights -c: the nll root is -sum w logp, so its gradient is exactly sum c * dlogp/dtheta =
//   dLoss/dtheta. Gradients are summed over micro-batches, clipped to `maxGradNorm` (global L2 norm; the norm before
//   clipping is reported), and AdamW takes one step.
// Changes to the interface agreed with the trainer (additive): UpdateSequence has optional `role` and `weight`
//   (grpo.ts GrpoSequence) and `temperature`; options `batchTokens`, `temperature`, `entropy`; UpdateResult has
//   `loss`, `byRole`, `steps`.
import type { AdamW } from '../engine/optim.ts';
import { Tape, type Var } from '../engine/tape.ts';
import type { Ops, Tensor } from '../engine/types.ts';
import type { Transformer } from '../model/transformer.ts';
import { aggregationWeights, type GrpoConfig, type LossRole, type RoleLoss, sequenceTerms } from './grpo.ts';

export interface UpdateSequence {
  /** The full sequence: prompt + response. */
  ids: Int32Array;
  promptLength: number;
  /** Per response token (length ids.length - promptLength): 1 = in the loss. */
  mask: Uint8Array;
  /** Per response token; omitted: recomputed in fp32 with the current weights before the update (on-policy). */
  oldLogprobs?: Float32Array;
  /** Per response token, from the frozen reference model. */
  refLogprobs: Float32Array;
  advantage: number;
  /** Loss group (default 'actor'), see grpo.ts. */
  role?: LossRole;
  /** Per-sequence loss weight (default 1); opts.weights, when given, overrides it. */
  weight?: number;
  /** The distribution's temperature for this sequence (default: the option's). */
  temperature?: number;
}

export interface UpdateResult {
  /** Mean over mini-batches of the total loss (policyLoss + klLoss). */
  loss: number;
  policyLoss: number;
  klLoss: number;
  clipFraction: number;
  /** Mean entropy (nats) of the policy at its unmasked tokens (0 when opts.entropy is false). */
  entropy: number;
  /** Token mean of k3 KL to the reference. */
  kl: number;
  /** Global gradient L2 norm before clipping (mean over mini-batches). */
  gradNorm: number;
  /** Unmasked tokens. */
  tokens: number;
  /** Per sequence, per response token: its contribution to its mini-batch's loss (0 on masked tokens). */
  tokenLoss: Float32Array[];
  /** Per role present (mean over the mini-batches holding it). */
  byRole: Partial<Record<LossRole, RoleLoss>>;
  /** Optimizer steps taken (= mini-batches). */
  steps: number;
}

export interface ForwardOptions {
  /** Most padded tokens (sequences x longest length) per forward pass (default 4096). */
  batchTokens?: number;
  /** Logits are divided by it (default 1). */
  temperature?: number;
}

interface SeqRef {
  ids: Int32Array;
  promptLength: number;
  /** Overrides the option's temperature. */
  temperature?: number;
}

/** A sequence for sequenceLogprobs: `mask` (per response token), when given, limits the scored tokens to its 1s. */
export interface ScoredSeq extends SeqRef {
  mask?: Uint8Array;
}

/** The response-token indices whose mask entry is 1. */
function maskPositions(mask: Uint8Array): number[] {
  const p: number[] = [];
  for (let j = 0; j < mask.length; j++) if (mask[j]) p.push(j);
  return p;
}

/** Micro-batches (microBatches) within groups of equal temperature. */
function temperatureBatches(seqs: readonly SeqRef[], lengths: readonly number[], fallback: number, batchTokens: number): { temperature: number; group: number[] }[] {
  const temps = seqs.map((s, i) => {
    const t = s.temperature ?? fallback;
    if (!(t > 0 && Number.isFinite(t))) throw new RangeError(`sequence ${i}: temperature must be > 0, got ${t}`);
    return t;
  });
  const out: { temperature: number; group: number[] }[] = [];
  for (const t of [...new Set(temps)].sort((a, b) => a - b)) {
    const masked = lengths.map((l, i) => (temps[i] === t ? l : 0));
    for (const group of microBatches(masked, batchTokens)) out.push({ temperature: t, group });
  }
  return out;
}

function checkSeq(s: SeqRef, i: number, context: number): void {
  if (!(s.ids instanceof Int32Array)) throw new TypeError(`sequence ${i}: ids must be an Int32Array`);
  if (!Number.isInteger(s.promptLength) || s.promptLength < 1 || s.promptLength > s.ids.length)
    throw new RangeError(`sequence ${i}: promptLength ${s.promptLength} must be in 1..${s.ids.length} (ids.length)`);
  if (s.ids.length > context) throw new RangeError(`sequence ${i}: ${s.ids.length} tokens exceed the model's context (${context})`);
}

/** Groups sequence indices (longest first) so that each group's count x longest length <= batchTokens. */
export function microBatches(lengths: readonly number[], batchTokens: number): number[][] {
  if (!(Number.isInteger(batchTokens) && batchTokens >= 1)) throw new RangeError(`batchTokens must be a positive integer, got ${batchTokens}`);
  const order = [...lengths.keys()].filter((i) => lengths[i] > 0).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const out: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of order) {
    if (cur.length > 0 && (cur.length + 1) * longest > batchTokens) {
      out.push(cur);
      cur = [];
    }
    if (cur.length === 0) longest = lengths[i];
    cur.push(i);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** A padded forward over some sequences with logits for `rows` (per sequence, response token indices). */
function forwardRows(
  tape: Tape,
  model: Transformer,
  seqs: readonly SeqRef[],
  picks: readonly (readonly number[])[],
  temperature: number,
): { logits: Var; targets: Int32Array } {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.ids.length));
  const ids = new Int32Array(B * T);
  const keyLengths = new Int32Array(B);
  const rows: number[] = [];
  const targets: number[] = [];
  seqs.forEach((s, b) => {
    ids.set(s.ids, b * T);
    keyLengths[b] = s.ids.length;
    for (const j of picks[b]) {
      const p = s.promptLength + j;
      rows.push(b * T + p - 1);
      targets.push(s.ids[p]);
    }
  });
  let logits = model.forward(tape, ids, B, T, { keyLengths, rows: Int32Array.from(rows) });
  if (temperature !== 1) logits = tape.scale(logits, 1 / temperature);
  return { logits, targets: Int32Array.from(targets) };
}

/** Entropy of softmax of each row of host logits [rows, vocab]. */
function rowEntropies(logits: Float32Array, rows: number, vocab: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) if (logits[o + c] > max) max = logits[o + c];
    let z = 0;
    let s = 0;
    for (let c = 0; c < vocab; c++) {
      const x = logits[o + c] - max;
      const e = Math.exp(x);
      z += e;
      s += e * x;
    }
    out[r] = Math.log(z) - s / z;
  }
  return out;
}

async function readLogprobs(ops: Ops, logits: Var, targets: Int32Array): Promise<Float32Array> {
  const tt = ops.tensor(targets, [targets.length]);
  const { logp, lse } = ops.logprob(logits.value, tt);
  try {
    return await ops.readF32(logp);
  } finally {
    for (const t of [tt, logp, lse]) ops.dispose(t);
  }
}

/**
 * Log-probabilities and entropies of the response tokens (ids[promptLength..]) under the model's current fp32
 * weights; no update. Arrays per sequence, of length ids.length - promptLength. A sequence with a `mask` gets logits
 * only at its mask's 1s (the loss tokens: the observation tokens of a trajectory are most of its response and their
 * vocabulary projection costs about as much as the rest of the forward); its other entries are NaN.
 */
export async function sequenceLogprobs(
  ops: Ops,
  model: Transformer,
  seqs: readonly ScoredSeq[],
  opts: ForwardOptions & { entropy?: boolean } = {},
): Promise<{ logprobs: Float32Array[]; entropy: Float32Array[] }> {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new RangeError(`sequenceLogprobs: temperature must be > 0, got ${temperature}`);
  seqs.forEach((s, i) => checkSeq(s, i, model.config.context));
  const withEntropy = opts.entropy ?? true;
  const logprobs = seqs.map((s) => new Float32Array(s.ids.length - s.promptLength));
  const entropy = seqs.map((s) => new Float32Array(withEntropy ? s.ids.length - s.promptLength : 0));
  const picksOf = seqs.map((s, i) => {
    const n = s.ids.length - s.promptLength;
    if (!s.mask) return Array.from({ length: n }, (_, j) => j);
    if (s.mask.length !== n) throw new RangeError(`sequence ${i}: mask has ${s.mask.length} entries for ${n} response tokens`);
    logprobs[i].fill(NaN);
    entropy[i].fill(NaN);
    return maskPositions(s.mask);
  });
  // Sequences with nothing to score need no forward.
  const lengths = seqs.map((s, i) => (picksOf[i].length > 0 ? s.ids.length : 0));
  for (const { temperature: temp, group } of temperatureBatches(seqs, lengths, temperature, opts.batchTokens ?? 4096)) {
    const tape = new Tape(ops);
    try {
      const picks = group.map((i) => picksOf[i]);
      const { logits, targets } = forwardRows(tape, model, group.map((i) => seqs[i]), picks, temp);
      const lp = await readLogprobs(ops, logits, targets);
      const ent = withEntropy ? rowEntropies(await ops.readF32(logits.value), targets.length, model.config.vocab) : null;
      let at = 0;
      group.forEach((i, g) => {
        picks[g].forEach((j, k) => {
          logprobs[i][j] = lp[at + k];
          if (ent) entropy[i][j] = ent[at + k];
        });
        at += picks[g].length;
      });
    } finally {
      tape.dispose();
    }
  }
  return { logprobs, entropy };
}

export interface UpdateOptions extends ForwardOptions {
  /** Optimizer steps per call: the batch is split into this many consecutive mini-batches (default 1). */
  miniBatches?: number;
  /** Global gradient-norm clip (default 1.0, verl's grad_clip); Infinity: no clipping. */
  maxGradNorm?: number;
  /** Per-sequence loss weights (override UpdateSequence.weight). */
  weights?: number[];
  /** Compute the entropy statistic (reads the logits back; default true). */
  entropy?: boolean;
}

export interface GradientResult {
  loss: number;
  policyLoss: number;
  klLoss: number;
  clipped: number;
  tokens: number;
  klSum: number;
  entropySum: number;
  tokenLoss: Float32Array[];
  byRole: Partial<Record<LossRole, RoleLoss>>;
}

function validateUpdate(seqs: readonly UpdateSequence[], context: number, weights?: readonly number[]): void {
  if (weights && weights.length !== seqs.length) throw new RangeError(`grpoUpdate: ${weights.length} weights for ${seqs.length} sequences`);
  seqs.forEach((s, i) => {
    checkSeq(s, i, context);
    const n = s.ids.length - s.promptLength;
    if (s.mask.length !== n) throw new RangeError(`sequence ${i}: mask has ${s.mask.length} entries for ${n} response tokens`);
    if (s.refLogprobs.length !== n) throw new RangeError(`sequence ${i}: refLogprobs has ${s.refLogprobs.length} entries for ${n} response tokens`);
    if (s.oldLogprobs && s.oldLogprobs.length !== n) throw new RangeError(`sequence ${i}: oldLogprobs has ${s.oldLogprobs.length} entries for ${n} response tokens`);
  });
}

/**
 * The gradient of the GRPO loss of `seqs` (one mini-batch), summed into each parameter's `grad` (created where
 * null). No optimizer step. Exported for the gradient checks. A sequence without `oldLogprobs` takes this forward
 * pass's own fp32 log-probs as its old ones (ratio exactly 1): right only while the weights are those the rollouts'
 * old policy had, i.e. before the update's first optimizer step (grpoUpdate's first mini-batch).
 */
export async function grpoGradients(
  ops: Ops,
  model: Transformer,
  seqs: readonly UpdateSequence[],
  cfg: GrpoConfig,
  opts: ForwardOptions & { entropy?: boolean } = {},
): Promise<GradientResult> {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new RangeError(`grpoUpdate: temperature must be > 0, got ${temperature}`);
  validateUpdate(seqs, model.config.context);
  const withEntropy = opts.entropy ?? true;
  const w = aggregationWeights(seqs, cfg);
  const picks = seqs.map((s) => maskPositions(s.mask));
  const res: GradientResult = {
    loss: 0, policyLoss: 0, klLoss: 0, clipped: 0, tokens: 0, klSum: 0, entropySum: 0,
    tokenLoss: seqs.map((s) => new Float32Array(s.mask.length)), byRole: {},
  };
  for (const s of seqs) {
    const role = s.role ?? 'actor';
    const br = (res.byRole[role] ??= { policyLoss: 0, klLoss: 0, klSum: 0, tokens: 0, sequences: 0 });
    br.sequences++;
  }
  const lengths = seqs.map((s, i) => (picks[i].length > 0 ? s.ids.length : 0));
  // Gradients summed over the micro-batches.
  const accumulated = new Map<Var, Tensor>();
  for (const { temperature: temp, group } of temperatureBatches(seqs, lengths, temperature, opts.batchTokens ?? 4096)) {
    const tape = new Tape(ops);
    try {
      const { logits, targets } = forwardRows(tape, model, group.map((i) => seqs[i]), group.map((i) => picks[i]), temp);
      const lp = await readLogprobs(ops, logits, targets);
      if (withEntropy) {
        const ent = rowEntropies(await ops.readF32(logits.value), targets.length, model.config.vocab);
        for (const e of ent) res.entropySum += e;
      }
      const nllWeights = new Float32Array(targets.length);
      let at = 0;
      for (const i of group) {
        const s = seqs[i];
        const newLp = new Float32Array(s.mask.length); // masked entries are unused
        picks[i].forEach((j, k) => (newLp[j] = lp[at + k]));
        const t = sequenceTerms({ ...s, oldLogprobs: s.oldLogprobs ?? newLp, newLogprobs: newLp }, w[i], cfg);
        picks[i].forEach((j, k) => (nllWeights[at + k] = -t.coefficients[j]));
        at += picks[i].length;
        res.tokenLoss[i] = t.tokenLoss;
        res.policyLoss += t.policyLoss;
        res.klLoss += t.klLoss;
        res.clipped += t.clipped;
        res.tokens += t.tokens;
        res.klSum += t.klSum;
        const role = s.role ?? 'actor';
        const rw = cfg.roleWeights?.[role] ?? 1;
        const br = res.byRole[role] as RoleLoss;
        br.policyLoss += rw > 0 ? t.policyLoss / rw : 0;
        br.klLoss += rw > 0 ? t.klLoss / rw : 0;
        br.klSum += t.klSum;
        br.tokens += t.tokens;
      }
      const tt = ops.tensor(targets, [targets.length]);
      const wt = ops.tensor(nllWeights, [nllWeights.length]);
      tape.adopt(tt, wt);
      const root = tape.nll(logits, tt, wt);
      tape.backward(root);
      // backward() leaves a fresh gradient on every parameter it reached; sum it into the accumulated one.
      for (const p of model.params) {
        const g = p.grad;
        if (!g) continue;
        const prev = accumulated.get(p);
        if (prev) {
          accumulated.set(p, ops.add(prev, g));
          ops.dispose(prev);
          ops.dispose(g);
        } else accumulated.set(p, g);
        p.grad = null;
      }
    } finally {
      tape.dispose();
    }
  }
  res.loss = res.policyLoss + res.klLoss;
  for (const [p, g] of accumulated) {
    if (p.grad) {
      const sum = ops.add(p.grad, g);
      ops.dispose(p.grad);
      ops.dispose(g);
      p.grad = sum;
    } else p.grad = g;
  }
  accumulated.clear();
  return res;
}

/** Global L2 norm of the parameters' gradients. */
export async function gradNorm(ops: Ops, params: readonly Var[]): Promise<number> {
  let s = 0;
  for (const p of params) {
    if (!p.grad) continue;
    const sq = ops.mul(p.grad, p.grad);
    const t = ops.sum(sq);
    s += (await ops.readF32(t))[0];
    ops.dispose(sq);
    ops.dispose(t);
  }
  return Math.sqrt(s);
}

/**
 * One GRPO update (see the header): old log-probs recomputed in fp32 where missing, per mini-batch gradients,
 * clipping and an AdamW step. The optimizer must own `model.params`.
 */
export async function grpoUpdate(
  ops: Ops,
  model: Transformer,
  optimizer: AdamW,
  seqs: readonly UpdateSequence[],
  cfg: GrpoConfig,
  opts: UpdateOptions = {},
): Promise<UpdateResult> {
  const miniBatches = opts.miniBatches ?? 1;
  const maxGradNorm = opts.maxGradNorm ?? 1;
  if (!(Number.isInteger(miniBatches) && miniBatches >= 1)) throw new RangeError(`grpoUpdate: miniBatches must be a positive integer, got ${miniBatches}`);
  if (!(maxGradNorm > 0)) throw new RangeError(`grpoUpdate: maxGradNorm must be > 0, got ${maxGradNorm}`);
  validateUpdate(seqs, model.config.context, opts.weights);
  if (seqs.length === 0) throw new RangeError('grpoUpdate: no sequences');
  for (const p of model.params)
    if (p.grad) {
      ops.dispose(p.grad);
      p.grad = null;
    }
  const m = Math.min(miniBatches, seqs.length);
  // Old log-probs where the caller did not give them: the fp32 log-probs under the weights before any step. The first
  // mini-batch's gradient pass runs under exactly those weights and uses its own (grpoGradients), so only the
  // sequences of later mini-batches need a separate forward, made here before the first step.
  const firstEnd = Math.floor(seqs.length / m);
  const missing = seqs.map((s, i) => (s.oldLogprobs || i < firstEnd ? -1 : i)).filter((i) => i >= 0);
  const old = new Map<number, Float32Array>();
  if (missing.length > 0) {
    const r = await sequenceLogprobs(ops, model, missing.map((i) => seqs[i]), { batchTokens: opts.batchTokens, temperature: opts.temperature, entropy: false });
    missing.forEach((i, k) => old.set(i, r.logprobs[k]));
  }
  const full: UpdateSequence[] = seqs.map((s, i) => {
    const o = s.oldLogprobs ?? old.get(i);
    return { ...s, ...(o ? { oldLogprobs: o } : {}), ...(opts.weights ? { weight: opts.weights[i] } : {}) };
  });
  const out: UpdateResult = {
    loss: 0, policyLoss: 0, klLoss: 0, clipFraction: 0, entropy: 0, kl: 0, gradNorm: 0, tokens: 0,
    tokenLoss: seqs.map((s) => new Float32Array(s.mask.length)), byRole: {}, steps: 0,
  };
  let clipped = 0;
  let klSum = 0;
  let entropySum = 0;
  const roleCount: Partial<Record<LossRole, number>> = {};
  for (let b = 0; b < m; b++) {
    const lo = Math.floor((b * seqs.length) / m);
    const hi = Math.floor(((b + 1) * seqs.length) / m);
    const part = full.slice(lo, hi);
    const g = await grpoGradients(ops, model, part, cfg, { batchTokens: opts.batchTokens, temperature: opts.temperature, entropy: opts.entropy });
    const norm = await gradNorm(ops, model.params);
    if (Number.isFinite(maxGradNorm) && norm > maxGradNorm) {
      const c = maxGradNorm / (norm + 1e-6);
      for (const p of model.params) {
        if (!p.grad) continue;
        const s = ops.scale(p.grad, c);
        ops.dispose(p.grad);
        p.grad = s;
      }
    }
    if (!Number.isFinite(norm)) {
      // A non-finite gradient would poison the weights: skip the step (verl does the same).
      for (const p of model.params)
        if (p.grad) {
          ops.dispose(p.grad);
          p.grad = null;
        }
    } else {
      optimizer.update();
      out.steps++;
    }
    out.loss += g.loss / m;
    out.policyLoss += g.policyLoss / m;
    out.klLoss += g.klLoss / m;
    out.gradNorm += norm / m;
    out.tokens += g.tokens;
    clipped += g.clipped;
    klSum += g.klSum;
    entropySum += g.entropySum;
    g.tokenLoss.forEach((t, k) => (out.tokenLoss[lo + k] = t));
    for (const [role, r] of Object.entries(g.byRole) as [LossRole, RoleLoss][]) {
      const br = (out.byRole[role] ??= { policyLoss: 0, klLoss: 0, klSum: 0, tokens: 0, sequences: 0 });
      br.policyLoss += r.policyLoss;
      br.klLoss += r.klLoss;
      br.klSum += r.klSum;
      br.tokens += r.tokens;
      br.sequences += r.sequences;
      roleCount[role] = (roleCount[role] ?? 0) + 1;
    }
  }
  for (const [role, n] of Object.entries(roleCount) as [LossRole, number][]) {
    const br = out.byRole[role] as RoleLoss;
    br.policyLoss /= n;
    br.klLoss /= n;
  }
  out.clipFraction = out.tokens > 0 ? clipped / out.tokens : 0;
  out.kl = out.tokens > 0 ? klSum / out.tokens : 0;
  out.entropy = out.tokens > 0 && (opts.entropy ?? true) ? entropySum / out.tokens : 0;
  return out;
}
