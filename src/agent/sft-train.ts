// The SFT warm start on our engine (DESIGN 6): one policy trained on the Actor, Discriminator and Trimmer examples of
// src/agent/sft-data.ts at once (the Meta-Refiner shares the Actor's weights, DESIGN 4.2), so one checkpoint serves
// all three roles.
//
// Loss: next-token cross-entropy on the tokens whose mask is 1 only (the Actor's own response tokens; the decision
// token of a judge/trim example), a weighted token mean per batch (sft-batch.ts: decision tokens weigh
// `decisionWeight` actor tokens). Logits are computed for the loss rows only (Transformer.forward `rows`).
// Optimizer: AdamW (weight decay on matrices and embeddings only, not on biases and norms), learning rate with a
// linear warmup then cosine decay to `minLrRatio` x lr, global gradient-norm clipping.
// Deterministic: the model's init seed and the sampler's seed fix everything; on the cpu backend the same seed gives
// the same weights bit for bit. Works on any Backend (it only calls Ops through the tape).
import { AdamW } from '../engine/optim.ts';
import { Tape } from '../engine/tape.ts';
import type { Var } from '../engine/tape.ts';
import type { Transformer } from '../model/transformer.ts';
import { makeBatch, type RoleData, type RoleMix, SFT_ROLES, type SamplerOptions, SftSampler, type TokenWeight } from './sft-batch.ts';
import type { SftExample, SftRole } from './sft-data.ts';

export interface SftTrainOptions {
  /** Steps (one batch each); fixes the learning-rate schedule. */
  steps: number;
  seed: number;
  /** Peak learning rate (default 2e-3). */
  lr?: number;
  /** Linear warmup steps (default min(100, steps / 10)). */
  warmupSteps?: number;
  /** Final learning rate as a share of lr (default 0.1). */
  minLrRatio?: number;
  /** AdamW weight decay on matrices and embeddings (default 0.01). */
  weightDecay?: number;
  /** Global gradient-norm clip (default 1; 0 disables). */
  clip?: number;
  /** Shares of examples per role (default actor 0.6, judge 0.25, trim 0.15). */
  mix?: RoleMix;
  /** Padded tokens per batch (default 4096). */
  tokenBudget?: number;
  /** Examples drawn per sampling round (default 32). */
  roundExamples?: number;
  /** Loss weight of a judge/trim decision token relative to an actor token (default 8). */
  decisionWeight?: number;
  /** Loss weight of the Actor's target tokens in `ids` (e.g. the format tags) relative to its other tokens (default: none, all 1). */
  tagWeight?: TokenWeight;
  /** Pad id (the tokenizer's <pad>). */
  padId: number;
  /** Tempered group sampling of the actor, judge and trim examples (SftSampler, sft-batch.ts); absent: plain passes. */
  balance?: SamplerOptions['balance'];
  /**
   * Wall-clock budget: after `calibrationSteps` steps the total is fixed at min(steps, steps that fit in the budget)
   * and the cosine schedule follows it; the result reports the step count that reproduces the run with `steps`.
   */
  budgetSeconds?: number;
  /** Steps timed before the budget fixes the total (default 10; must lie within the warmup). */
  calibrationSteps?: number;
  /** Stop after this many steps of the `steps`-step schedule (default: all of them). */
  stopAfter?: number;
  /** Stop (after the current step) once training has taken this many seconds; the schedule is not changed. */
  maxSeconds?: number;
  /**
   * DAgger recovery (dagger.ts): after each step of `atSteps` (ascending), `build(round)` is called (it rolls out the
   * model as trained so far) and its examples join those of the earlier rounds (DAgger aggregates); from the first
   * round on, `share` of the Actor's draws come from them. Their time counts toward the run's seconds.
   */
  recovery?: { atSteps: readonly number[]; share: number; build: (round: number) => Promise<SftExample[]> };
  /** Called after every step (awaited). */
  onStep?: (s: SftStepInfo) => void | Promise<void>;
}

export interface SftStepInfo {
  step: number;
  steps: number;
  lr: number;
  /** The batch loss (weighted token mean). */
  loss: number;
  /** Mean NLL of the batch's loss tokens per role (NaN when the batch has none of that role). */
  roleLoss: Record<SftRole, number>;
  gradNorm: number;
  examples: number;
  /** Padded length of the batch. */
  t: number;
  /** Real tokens of the batch. */
  tokens: number;
  seconds: number;
  /** Real tokens processed so far per second of training. */
  tokensPerSecond: number;
}

export interface SftTrainResult {
  steps: number;
  seconds: number;
  tokens: number;
  paddedTokens: number;
  tokensPerSecond: number;
  /** The schedule's length (steps is smaller when stopped early by stopAfter or maxSeconds). */
  plannedSteps: number;
  stoppedEarly: boolean;
  /** Mean loss over the first and the last tenth of the steps. */
  firstLoss: number;
  lastLoss: number;
  /** Mean per-role NLL over the last tenth of the steps. */
  lastRoleLoss: Record<SftRole, number>;
  examples: Record<SftRole, number>;
  /** Passes over each role's examples started (1 during the first). */
  passes: Record<SftRole, number>;
  /** With `balance`: the Actor's groups, their examples and the share of draws each gets (else empty). */
  groups: { key: string; examples: number; share: number }[];
  /** Examples left out because they are longer than the model's context. */
  droppedTooLong: number;
  /** DAgger recovery, one entry per round run: examples added (after the context filter) and the seconds their rollouts took; null when off. */
  recovery: { examples: number; seconds: number; atStep: number }[] | null;
}

export const DEFAULT_MIX: RoleMix = Object.freeze({ actor: 0.6, judge: 0.25, trim: 0.15 });

/** Learning rate at step s (1-based) of n: linear warmup over w steps, then cosine from lr down to minRatio x lr. */
export function lrAt(s: number, n: number, lr: number, w: number, minRatio: number): number {
  if (w > 0 && s <= w) return (lr * s) / w;
  const p = n > w ? Math.min(1, (s - w) / (n - w)) : 1;
  return lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

const noDecay = (p: Var): boolean => p.shape.length === 1;

/** Global L2 norm of the params' gradients; scales them down to `clip` when above (clip 0: never). */
async function clipGradients(model: Transformer, clip: number): Promise<number> {
  const o = model.ops;
  let sq = 0;
  for (const p of model.params) {
    if (!p.grad) continue;
    const g = await o.readF32(p.grad);
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  if (clip > 0 && norm > clip) {
    const s = clip / (norm + 1e-6);
    for (const p of model.params) {
      if (!p.grad) continue;
      const g = o.scale(p.grad, s);
      o.dispose(p.grad);
      p.grad = g;
    }
  }
  return norm;
}

/**
 * Forward + backward of one batch; leaves the gradients on the params and returns the loss and per-role NLL.
 * Exposed for tests (gradient of masked tokens); training goes through trainSft.
 */
export async function sftLossAndGrad(
  model: Transformer,
  examples: readonly SftExample[],
  padId: number,
  decisionWeight: number,
  opts: { backward?: boolean; tagWeight?: TokenWeight } = {},
): Promise<{ loss: number; roleLoss: Record<SftRole, number>; t: number; tokens: number }> {
  const o = model.ops;
  const b = makeBatch(examples, padId, decisionWeight, opts.tagWeight);
  if (b.t > model.config.context) throw new Error(`sft: an example of ${b.t} tokens exceeds the model's context (${model.config.context})`);
  const tape = new Tape(o);
  try {
    const logits = model.forward(tape, b.ids, examples.length, b.t, { keyLengths: b.keyLengths, rows: b.rows });
    const tt = o.tensor(b.targets, [b.targets.length]);
    const wt = o.tensor(b.weights, [b.weights.length]);
    tape.adopt(tt, wt);
    // Per-row log-probs for the per-role report, before nll's backward overwrites the logits in place.
    const { logp, lse } = o.logprob(logits.value, tt);
    tape.adopt(logp, lse);
    const lp = await o.readF32(logp);
    const sums: Record<SftRole, [number, number]> = { actor: [0, 0], judge: [0, 0], trim: [0, 0], corpus: [0, 0] };
    b.rowRoles.forEach((r, i) => {
      sums[r][0] -= lp[i];
      sums[r][1]++;
    });
    const roleLoss = { actor: NaN, judge: NaN, trim: NaN, corpus: NaN };
    for (const r of SFT_ROLES) if (sums[r][1] > 0) roleLoss[r] = sums[r][0] / sums[r][1];
    const loss = tape.nll(logits, tt, wt);
    const lossValue = (await o.readF32(loss.value))[0];
    if (opts.backward !== false) tape.backward(loss);
    return { loss: lossValue, roleLoss, t: b.t, tokens: b.tokens };
  } finally {
    tape.dispose();
  }
}

/** Trains `model` in place on the three roles' examples (see the header). */
export async function trainSft(model: Transformer, data: RoleData, opts: SftTrainOptions): Promise<SftTrainResult> {
  const lr = opts.lr ?? 2e-3;
  const mix = opts.mix ?? DEFAULT_MIX;
  const clip = opts.clip ?? 1;
  const minLrRatio = opts.minLrRatio ?? 0.1;
  const decisionWeight = opts.decisionWeight ?? 8;
  let steps = opts.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`trainSft: steps must be a positive integer, got ${steps}`);
  const warmup = opts.warmupSteps ?? Math.min(100, Math.floor(steps / 10));
  const calibration = opts.calibrationSteps ?? 10;
  if (opts.budgetSeconds !== undefined && !(opts.budgetSeconds > 0)) throw new Error(`trainSft: budgetSeconds must be > 0, got ${opts.budgetSeconds}`);
  const ctx = model.config.context;
  let dropped = 0;
  const fit = (xs: readonly SftExample[]): SftExample[] => {
    const kept = xs.filter((x) => x.ids.length <= ctx);
    dropped += xs.length - kept.length;
    return kept;
  };
  const kept = { actor: fit(data.actor), judge: fit(data.judge), trim: fit(data.trim), corpus: fit(data.corpus ?? []) };
  const sampler = new SftSampler(kept, {
    seed: opts.seed,
    mix,
    roundExamples: opts.roundExamples ?? 32,
    tokenBudget: opts.tokenBudget ?? 4096,
    ...(opts.balance ? { balance: opts.balance } : {}),
  });
  const o = model.ops;
  const decay = new AdamW(o, model.params.filter((p) => !noDecay(p)), { lr, weightDecay: opts.weightDecay ?? 0.01, beta2: 0.98 });
  const plain = new AdamW(o, model.params.filter(noDecay), { lr, weightDecay: 0, beta2: 0.98 });
  const losses: number[] = [];
  const roleLosses: Record<SftRole, number>[] = [];
  let tokens = 0;
  let padded = 0;
  const t0 = performance.now();
  let done = 0;
  let stoppedEarly = false;
  let recovery: SftTrainResult['recovery'] = null;
  try {
    for (let s = 1; s <= steps; s++) {
      if (opts.stopAfter !== undefined && s > opts.stopAfter) {
        stoppedEarly = true;
        break;
      }
      const rate = lrAt(s, steps, lr, warmup, minLrRatio);
      decay.config.lr = rate;
      plain.config.lr = rate;
      const batch = sampler.next();
      const r = await sftLossAndGrad(model, batch, opts.padId, decisionWeight, opts.tagWeight ? { tagWeight: opts.tagWeight } : {});
      const gradNorm = await clipGradients(model, clip);
      decay.update();
      plain.update();
      if (!Number.isFinite(r.loss)) throw new Error(`trainSft: the loss is ${r.loss} at step ${s}`);
      losses.push(r.loss);
      roleLosses.push(r.roleLoss);
      tokens += r.tokens;
      padded += batch.length * r.t;
      const seconds = (performance.now() - t0) / 1000;
      if (opts.budgetSeconds !== undefined && s === calibration) {
        const fitSteps = Math.max(calibration, Math.floor((opts.budgetSeconds * calibration) / seconds));
        steps = Math.min(steps, fitSteps);
      }
      done = s;
      const round = opts.recovery ? opts.recovery.atSteps.indexOf(s) : -1;
      if (opts.recovery && round >= 0) {
        const tr = performance.now();
        const extra = fit(await opts.recovery.build(round));
        sampler.addActorExtra(extra, opts.recovery.share);
        (recovery ??= []).push({ examples: extra.length, seconds: (performance.now() - tr) / 1000, atStep: s });
      }
      await opts.onStep?.({ step: s, steps, lr: rate, loss: r.loss, roleLoss: r.roleLoss, gradNorm, examples: batch.length, t: r.t, tokens: r.tokens, seconds, tokensPerSecond: tokens / seconds });
      if (opts.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= opts.maxSeconds && s < steps) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    decay.dispose();
    plain.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const tenth = Math.max(1, Math.floor(losses.length / 10));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const lastRoleLoss = { actor: NaN, judge: NaN, trim: NaN, corpus: NaN };
  for (const r of SFT_ROLES) {
    const xs = roleLosses.slice(-tenth).map((x) => x[r]).filter((x) => Number.isFinite(x));
    if (xs.length > 0) lastRoleLoss[r] = mean(xs);
  }
  return {
    steps: done,
    plannedSteps: steps,
    stoppedEarly,
    seconds,
    tokens,
    paddedTokens: padded,
    tokensPerSecond: tokens / seconds,
    firstLoss: mean(losses.slice(0, tenth)),
    lastLoss: mean(losses.slice(-tenth)),
    lastRoleLoss,
    examples: { actor: kept.actor.length, judge: kept.judge.length, trim: kept.trim.length, corpus: kept.corpus.length },
    passes: sampler.passes(),
    groups: sampler.groupShares('actor'),
    droppedTooLong: dropped,
    recovery,
  };
}
