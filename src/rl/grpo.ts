// The GRPO loss on host log-probs (DESIGN 4.4), as verl computes it for Search-R1, with its exact gradient.
//
// Per unmasked token t of sequence i, with d = new - old, r = exp(d) and A = the sequence's advantage:
//   pg   = max(-A r, -A clip(r, 1 - clipLow, 1 + clipHigh))          (verl compute_policy_loss, no dual clip)
//   k3   = min(exp(ref - new) - (ref - new) - 1, 10)                  (verl kl_penalty 'low_var_kl', clamped to
//                                                                       [-10, 10] as verl does; k3 >= 0, so only 10
//                                                                       binds: a token the policy now finds far less
//                                                                       likely than the reference did costs at most 10)
//   loss = sum_{i,t} w[i][t] * (pg + klBeta * k3)
// The aggregation weights w (verl agg_loss) depend only on the masks, so a micro-batch can compute its share of the
// loss and gradient without the rest of the batch (src/rl/update.ts does):
//   'token-mean'           w = 1 / (unmasked tokens of the batch)
//   'seq-mean-token-mean'  w = 1 / (sequences with >= 1 unmasked token * unmasked tokens of sequence i)
//   'dr-grpo'              w = 1 / (sequences * maxResponseTokens)  (Dr. GRPO's constant horizon; default: the
//                          longest mask of the batch)
// Mixed batches (Actor tokens and the Meta-Refiner's decision tokens, DESIGN 4.4 "the three losses are summed with
// weights"): each sequence has a `role` (default 'actor'); the weights are computed within each role's sequences
// (so one judge token is not averaged into thousands of Actor tokens), times cfg.roleWeights[role] (default 1) and
// the sequence's own `weight` (default 1). For 'dr-grpo', maxResponseTokens applies to the 'actor' role; the other
// roles use their longest mask.
//
// coefficients[i][t] = dLoss/dNew[i][t] (0 on masked tokens):
//   pg branch: -A r where the unclipped term is the max (ties included), 0 where the clipped term wins (then r is
//   outside the clip range and the clip is flat); KL: klBeta * (1 - exp(ref - new)), 0 where k3 is clamped (flat);
//   both times w.

/** verl's clamp of the per-token low-variance KL (torch.clamp(kld, min=-10, max=10)). */
export const K3_CLAMP = 10;

export type LossRole = 'actor' | 'judge' | 'trim';
export const LOSS_ROLES: readonly LossRole[] = ['actor', 'judge', 'trim'];

export type LossAggregation = 'token-mean' | 'seq-mean-token-mean' | 'dr-grpo';
export const LOSS_AGGREGATIONS: readonly LossAggregation[] = ['token-mean', 'seq-mean-token-mean', 'dr-grpo'];

export interface GrpoConfig {
  clipLow: number;
  clipHigh: number;
  klBeta: number;
  aggregation: LossAggregation;
  /** Dr. GRPO's horizon for the 'actor' role (default: the longest mask of the batch). */
  maxResponseTokens?: number;
  /** Weight of each role's aggregated loss in the sum (default 1 each). */
  roleWeights?: Partial<Record<LossRole, number>>;
}

/** Search-R1's GRPO script: epsilon 0.2, beta 0.001, token-mean. */
export const DEFAULT_GRPO: GrpoConfig = Object.freeze({ clipLow: 0.2, clipHigh: 0.2, klBeta: 0.001, aggregation: 'token-mean' as const });

export interface GrpoSequence {
  newLogprobs: Float32Array;
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array;
  /** 1 = the token is in the loss. Same length as the log-prob arrays. */
  mask: Uint8Array;
  advantage: number;
  /** Loss group (default 'actor'). */
  role?: LossRole;
  /** Multiplies this sequence's token losses (default 1). */
  weight?: number;
}

export interface RoleLoss {
  /** Aggregated clipped surrogate of the role (before its role weight). */
  policyLoss: number;
  /** Aggregated klBeta * k3 of the role (before its role weight). */
  klLoss: number;
  /** Sum of k3 over the role's unmasked tokens (klSum / tokens: the role's token-mean KL to the reference). */
  klSum: number;
  tokens: number;
  sequences: number;
}

export interface GrpoLossResult {
  /** policyLoss + klLoss. */
  loss: number;
  /** Sum over roles of roleWeight * aggregated surrogate. */
  policyLoss: number;
  /** Sum over roles of roleWeight * klBeta * aggregated k3. */
  klLoss: number;
  /** Share of unmasked tokens where the clipped term won (verl's pg_clipfrac: -A clip(r) > -A r). */
  clipFraction: number;
  /** Token mean of k3 over unmasked tokens (not times klBeta). */
  kl: number;
  /** Unmasked tokens. */
  tokens: number;
  /** dLoss/dNew per token (0 on masked tokens). */
  coefficients: Float32Array[];
  /** Per token: its contribution to `loss` (w * (pg + klBeta * k3)); 0 on masked tokens. Sums to `loss`. */
  tokenLoss: Float32Array[];
  /** Per role present in the batch. */
  byRole: Partial<Record<LossRole, RoleLoss>>;
}

export function validateGrpoConfig(cfg: GrpoConfig): void {
  const bad = (what: string): never => {
    throw new RangeError(`grpo: ${what}`);
  };
  if (!(cfg.clipLow >= 0 && cfg.clipLow < 1)) bad(`clipLow must be in [0, 1), got ${cfg.clipLow}`);
  if (!(cfg.clipHigh >= 0 && Number.isFinite(cfg.clipHigh))) bad(`clipHigh must be >= 0, got ${cfg.clipHigh}`);
  if (!(cfg.klBeta >= 0 && Number.isFinite(cfg.klBeta))) bad(`klBeta must be >= 0, got ${cfg.klBeta}`);
  if (!LOSS_AGGREGATIONS.includes(cfg.aggregation)) bad(`aggregation must be one of ${LOSS_AGGREGATIONS.join(', ')}, got ${String(cfg.aggregation)}`);
  if (cfg.maxResponseTokens !== undefined && !(Number.isInteger(cfg.maxResponseTokens) && cfg.maxResponseTokens >= 1))
    bad(`maxResponseTokens must be a positive integer, got ${cfg.maxResponseTokens}`);
  for (const [r, w] of Object.entries(cfg.roleWeights ?? {}))
    if (!LOSS_ROLES.includes(r as LossRole) || !(typeof w === 'number' && w >= 0 && Number.isFinite(w))) bad(`roleWeights.${r} must be a number >= 0, got ${String(w)}`);
}

/** What the aggregation weights of a sequence depend on. */
export interface MaskInfo {
  mask: Uint8Array;
  role?: LossRole;
  weight?: number;
}

/**
 * The aggregation weight of each sequence (one number per sequence: every unmasked token of sequence i gets
 * weights[i]), from the masks of the whole (mini-)batch. See the header.
 */
export function aggregationWeights(seqs: readonly MaskInfo[], cfg: GrpoConfig): number[] {
  validateGrpoConfig(cfg);
  const count = (m: Uint8Array): number => {
    let n = 0;
    for (let t = 0; t < m.length; t++) if (m[t]) n++;
    return n;
  };
  const out = new Array<number>(seqs.length).fill(0);
  for (const role of LOSS_ROLES) {
    const idx = seqs.map((s, i) => ((s.role ?? 'actor') === role ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const rw = cfg.roleWeights?.[role] ?? 1;
    const counts = idx.map((i) => count(seqs[i].mask));
    const total = counts.reduce((a, b) => a + b, 0);
    const nonEmpty = counts.filter((c) => c > 0).length;
    const horizon = role === 'actor' && cfg.maxResponseTokens !== undefined ? cfg.maxResponseTokens : Math.max(1, ...idx.map((i) => seqs[i].mask.length));
    idx.forEach((i, j) => {
      const sw = seqs[i].weight ?? 1;
      if (!(Number.isFinite(sw) && sw >= 0)) throw new RangeError(`grpo: sequence ${i} has weight ${sw}; weights must be finite and >= 0`);
      const c = counts[j];
      if (c === 0) return;
      let w: number;
      if (cfg.aggregation === 'token-mean') w = 1 / total;
      else if (cfg.aggregation === 'seq-mean-token-mean') w = 1 / (nonEmpty * c);
      else w = 1 / (idx.length * horizon);
      out[i] = w * rw * sw;
    });
  }
  return out;
}

/** Per-token terms of one sequence under aggregation weight w. */
export interface SequenceTerms {
  coefficients: Float32Array;
  tokenLoss: Float32Array;
  /** Sums over its unmasked tokens: raw surrogate, raw k3, clipped tokens, tokens. */
  pgSum: number;
  klSum: number;
  clipped: number;
  tokens: number;
  /** w * sum(pg), w * klBeta * sum(k3). */
  policyLoss: number;
  klLoss: number;
}

export function sequenceTerms(s: GrpoSequence, w: number, cfg: GrpoConfig): SequenceTerms {
  const n = s.mask.length;
  if (s.newLogprobs.length !== n || s.oldLogprobs.length !== n || s.refLogprobs.length !== n)
    throw new RangeError(`grpo: log-prob arrays (${s.newLogprobs.length}, ${s.oldLogprobs.length}, ${s.refLogprobs.length}) must match the mask (${n})`);
  if (!Number.isFinite(s.advantage)) throw new RangeError(`grpo: advantage must be finite, got ${s.advantage}`);
  const A = s.advantage;
  const lo = 1 - cfg.clipLow;
  const hi = 1 + cfg.clipHigh;
  const coefficients = new Float32Array(n);
  const tokenLoss = new Float32Array(n);
  let pgSum = 0;
  let klSum = 0;
  let clipped = 0;
  let tokens = 0;
  for (let t = 0; t < n; t++) {
    if (!s.mask[t]) continue;
    tokens++;
    const lpNew = s.newLogprobs[t];
    const r = Math.exp(lpNew - s.oldLogprobs[t]);
    const rc = Math.min(Math.max(r, lo), hi);
    const l1 = -A * r;
    const l2 = -A * rc;
    const pg = Math.max(l1, l2);
    const unclipped = l1 >= l2;
    if (!unclipped) clipped++;
    const d = s.refLogprobs[t] - lpNew;
    const ed = Math.exp(d);
    const raw = ed - d - 1;
    const k3 = Math.min(raw, K3_CLAMP);
    pgSum += pg;
    klSum += k3;
    tokenLoss[t] = w * (pg + cfg.klBeta * k3);
    coefficients[t] = w * ((unclipped ? -A * r : 0) + (raw > K3_CLAMP ? 0 : cfg.klBeta * (1 - ed)));
  }
  return { coefficients, tokenLoss, pgSum, klSum, clipped, tokens, policyLoss: w * pgSum, klLoss: w * cfg.klBeta * klSum };
}

/** The GRPO loss of a batch with its per-token gradient (see the header). */
export function grpoLoss(seqs: readonly GrpoSequence[], cfg: GrpoConfig): GrpoLossResult {
  const weights = aggregationWeights(seqs, cfg);
  const coefficients: Float32Array[] = [];
  const tokenLoss: Float32Array[] = [];
  const byRole: Partial<Record<LossRole, RoleLoss>> = {};
  let policyLoss = 0;
  let klLoss = 0;
  let clipped = 0;
  let tokens = 0;
  let klSum = 0;
  seqs.forEach((s, i) => {
    const t = sequenceTerms(s, weights[i], cfg);
    coefficients.push(t.coefficients);
    tokenLoss.push(t.tokenLoss);
    policyLoss += t.policyLoss;
    klLoss += t.klLoss;
    clipped += t.clipped;
    tokens += t.tokens;
    klSum += t.klSum;
    const role = s.role ?? 'actor';
    const rw = cfg.roleWeights?.[role] ?? 1;
    const br = (byRole[role] ??= { policyLoss: 0, klLoss: 0, klSum: 0, tokens: 0, sequences: 0 });
    // Role losses before the role weight (and before the sequences' own weights' role share).
    const unweighted = rw > 0 ? 1 / rw : 0;
    br.policyLoss += t.policyLoss * unweighted;
    br.klLoss += t.klLoss * unweighted;
    br.klSum += t.klSum;
    br.tokens += t.tokens;
    br.sequences++;
  });
  return {
    loss: policyLoss + klLoss,
    policyLoss,
    klLoss,
    clipFraction: tokens > 0 ? clipped / tokens : 0,
    kl: tokens > 0 ? klSum / tokens : 0,
    tokens,
    coefficients,
    tokenLoss,
    byRole,
  };
}
