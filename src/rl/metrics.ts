// Per-step metrics (DESIGN 4.5): what the refiner contributes, measured every step, in the paper's covariance view.
//
// Over the step's original (pre-refiner) trajectories i = 1..n, with R0_i the reward of the original, z_i = 1 when
// the Discriminator rejected it in round 1 (0 otherwise, and 0 for every trajectory when the refiner is off) and
// w_i = 1 when the original is wrong (EM 0):
//   refineRate          = mean(z)                                  intervention volume
//   selectionCov        = cov(z, -R0) = mean(z * -R0) - mean(z) * mean(-R0)    (population covariance, 1/n)
//   selectionPrecision  = sum(z w) / sum(z)    (null when nothing was rejected)
//   selectionRecall     = sum(z w) / sum(w)    (null when nothing was wrong)
// Over the step's revisions j (one per cut-and-regenerate, every round), with cut k_j and gain
// g_j = R(regenerated) - R(the trajectory it was cut from):
//   trimCov             = cov(k, g)  (population; 0 with fewer than 2 revisions)
//   meanGain            = mean(g)    (null without revisions)
// Over the final trajectories (after refinement; the ones trained on): mean EM, F1, reward, searches, format
// validity. trajectories = originals + regenerations (generated this step); tokensGenerated = policy tokens
// sampled (originals and regenerations).
import type { Phase, StepMetrics } from './events.ts';
import type { LossRole } from './grpo.ts';

/** Population covariance of two equally long series (0 for fewer than 2 points). */
export function covariance(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`covariance: series of ${x.length} and ${y.length} points`);
  const n = x.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s / n;
}

export const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export interface OriginalOutcome {
  reward: number;
  em: number;
  /** Rejected by the Discriminator in the first round. */
  rejected: boolean;
}

export interface RevisionOutcome {
  cut: number;
  /** Reward of the regenerated trajectory minus that of the trajectory it was cut from. */
  gain: number;
}

export interface FinalOutcome {
  em: number;
  f1: number;
  reward: number;
  searches: number;
  valid: boolean;
}

export interface StepMetricsInput {
  step: number;
  preset: string;
  originals: readonly OriginalOutcome[];
  revisions: readonly RevisionOutcome[];
  finals: readonly FinalOutcome[];
  tokensGenerated: number;
  update: { kl: number; klByRole?: Partial<Record<LossRole, number>>; entropy: number; clipFraction: number; policyLoss: number };
  seconds: number;
  phaseSeconds: Partial<Record<Phase, number>>;
}

export interface SelectionStats {
  refineRate: number;
  selectionCov: number;
  selectionPrecision: number | null;
  selectionRecall: number | null;
}

export function selectionStats(originals: readonly OriginalOutcome[]): SelectionStats {
  const z = originals.map((o) => (o.rejected ? 1 : 0));
  const neg = originals.map((o) => -o.reward);
  const wrong = originals.map((o) => (o.em > 0 ? 0 : 1));
  let zw = 0;
  let zs = 0;
  let ws = 0;
  for (let i = 0; i < z.length; i++) {
    zw += z[i] * wrong[i];
    zs += z[i];
    ws += wrong[i];
  }
  return {
    refineRate: mean(z),
    selectionCov: covariance(z, neg),
    selectionPrecision: zs > 0 ? zw / zs : null,
    selectionRecall: ws > 0 ? zw / ws : null,
  };
}

export function trimStats(revisions: readonly RevisionOutcome[]): { trimCov: number; meanGain: number | null } {
  return {
    trimCov: covariance(revisions.map((r) => r.cut), revisions.map((r) => r.gain)),
    meanGain: revisions.length > 0 ? mean(revisions.map((r) => r.gain)) : null,
  };
}

export function stepMetrics(x: StepMetricsInput): StepMetrics {
  const f = x.finals;
  return {
    step: x.step,
    preset: x.preset,
    em: mean(f.map((t) => t.em)),
    reward: mean(f.map((t) => t.reward)),
    f1: mean(f.map((t) => t.f1)),
    ...selectionStats(x.originals),
    ...trimStats(x.revisions),
    searchesPerTrajectory: mean(f.map((t) => t.searches)),
    formatValid: mean(f.map((t) => (t.valid ? 1 : 0))),
    trajectories: x.originals.length + x.revisions.length,
    tokensGenerated: x.tokensGenerated,
    revisions: x.revisions.length,
    kl: x.update.kl,
    ...(x.update.klByRole ? { klByRole: { ...x.update.klByRole } } : {}),
    entropy: x.update.entropy,
    clipFraction: x.update.clipFraction,
    policyLoss: x.update.policyLoss,
    seconds: x.seconds,
    phaseSeconds: { ...x.phaseSeconds },
  };
}

// ---- across seeds (the ablation table) ----

/** Two-sided 97.5% Student-t quantiles for n - 1 = 1..30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface MeanCi {
  mean: number;
  /** Half-width of the 95% interval (Student t over seeds; null for one seed). */
  ci95: number | null;
  n: number;
}

/** Mean and 95% interval half-width (t distribution, sample std) of per-seed values. */
export function meanCi(xs: readonly number[]): MeanCi {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { mean: m, ci95: null, n };
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  const sd = Math.sqrt(s / (n - 1));
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
  return { mean: m, ci95: (t * sd) / Math.sqrt(n), n };
}
