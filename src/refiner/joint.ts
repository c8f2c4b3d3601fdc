// Joint optimization of the Meta-Refiner (DESIGN 4.4; the paper's recipe is not public in detail, this is ours,
// each term switchable): the Discriminator's decision token is rewarded with the gain its decision produced,
//   judge:   R_final - R_original - lambda when it rejected, 0 when it accepted (lambda: intervention cost, 0.05),
// where R_original is the reward of the trajectory it judged and R_final that of the trajectory that finally
// replaced it in its group; the Trimmer's cut token with
//   trim:    R_regenerated - R_original (the regeneration made from its cut against the trajectory it cut).
// Advantages are batch-normalized per term: A = (R - mean) / (std + 1e-6) over that term's decisions of the step
// (unbiased std; all equal: 0; a single decision: A = R, there is no batch to normalize against).
// Each decision becomes an UpdateSequence for grpoUpdate: ids = the control prompt's ids + the chosen token,
// promptLength = ids.length - 1, mask [1], role 'judge' / 'trim' (aggregated apart from the Actor's tokens),
// weight = the term's loss weight, reference log-probs from the frozen reference model. Old log-probs are left out
// (grpoUpdate recomputes them in fp32 with the current weights, as for the Actor's tokens; the decisions were taken
// with those same weights, so the ratio starts at 1). Decisions are taken from the untempered distribution, so the
// sequences carry temperature 1 whatever temperature the update uses for the Actor's tokens.
import type { Ops } from '../engine/types.ts';
import type { Transformer } from '../model/transformer.ts';
import { sequenceLogprobs, type UpdateSequence } from '../rl/update.ts';
import { MAX_CUT } from '../text/policy-vocab.ts';
import { SPECIAL_IDS } from '../text/policy-tokenizer.ts';

export const DEFAULT_INTERVENTION_COST = 0.05;

/** One decision of the Meta-Refiner during a step. */
export interface RefinerDecisionRecord {
  kind: 'judge' | 'trim';
  /** The trajectory judged / cut. */
  trajectoryId: string;
  /** The control prompt's ids (JudgeResult.ids / TrimResult.ids). */
  ids: Int32Array;
  /** judge: 'accept' | 'reject'; trim: the cut k. */
  choice: 'accept' | 'reject' | number;
  /** Log-probability of the choice when it was taken (informational). */
  logprob: number;
  round: number;
}

export interface RefinerRewardInput {
  judge: readonly RefinerDecisionRecord[];
  trim: readonly RefinerDecisionRecord[];
  /** Reward of a trajectory. */
  rewardOf: (trajectoryId: string) => number;
  /** Reward of the trajectory that finally stands in this trajectory's group slot. */
  finalRewardOf: (trajectoryId: string) => number;
  /** The trajectory regenerated from this one's cut (null if none). */
  regeneratedOf: (trajectoryId: string) => string | null;
  /** lambda (default 0.05). */
  interventionCost?: number;
  /** Loss weights of the two terms (default 1); 0 switches a term off. */
  judgeWeight?: number;
  trimWeight?: number;
  /** Switches (default true). */
  trainJudge?: boolean;
  trainTrim?: boolean;
}

export interface RefinerReward {
  record: RefinerDecisionRecord;
  /** The decision token. */
  token: number;
  reward: number;
  advantage: number;
}

/** Batch-normalized advantages (see the header). */
export function batchNormalize(rewards: readonly number[], eps = 1e-6): number[] {
  const n = rewards.length;
  if (n === 0) return [];
  if (n === 1) return [rewards[0]];
  const first = rewards[0];
  if (rewards.every((r) => r === first)) return rewards.map(() => 0);
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
  return rewards.map((r) => (r - mean) / (std + eps));
}

function decisionToken(r: RefinerDecisionRecord): number {
  if (r.kind === 'judge') {
    if (r.choice === 'accept') return SPECIAL_IDS.accept;
    if (r.choice === 'reject') return SPECIAL_IDS.reject;
    throw new RangeError(`refiner: judge decision on ${r.trajectoryId} has choice ${String(r.choice)}`);
  }
  if (typeof r.choice !== 'number' || !Number.isInteger(r.choice) || r.choice < 0 || r.choice > MAX_CUT)
    throw new RangeError(`refiner: trim decision on ${r.trajectoryId} has cut ${String(r.choice)} (expected 0..${MAX_CUT})`);
  return SPECIAL_IDS.cut[r.choice];
}

/** Rewards and advantages of the decisions (the switched-off terms are left out). */
export function refinerRewards(input: RefinerRewardInput): { judge: RefinerReward[]; trim: RefinerReward[] } {
  const lambda = input.interventionCost ?? DEFAULT_INTERVENTION_COST;
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new RangeError(`refiner: interventionCost must be >= 0, got ${lambda}`);
  const judgeOn = (input.trainJudge ?? true) && (input.judgeWeight ?? 1) > 0;
  const trimOn = (input.trainTrim ?? true) && (input.trimWeight ?? 1) > 0;
  const judgeR = judgeOn
    ? input.judge.map((rec) => ({
        record: rec,
        token: decisionToken(rec),
        reward: rec.choice === 'reject' ? input.finalRewardOf(rec.trajectoryId) - input.rewardOf(rec.trajectoryId) - lambda : 0,
      }))
    : [];
  const trimR = trimOn
    ? input.trim.flatMap((rec) => {
        const child = input.regeneratedOf(rec.trajectoryId);
        if (child === null) return [];
        return [{ record: rec, token: decisionToken(rec), reward: input.rewardOf(child) - input.rewardOf(rec.trajectoryId) }];
      })
    : [];
  const ja = batchNormalize(judgeR.map((x) => x.reward));
  const ta = batchNormalize(trimR.map((x) => x.reward));
  return {
    judge: judgeR.map((x, i) => ({ ...x, advantage: ja[i] })),
    trim: trimR.map((x, i) => ({ ...x, advantage: ta[i] })),
  };
}

/** UpdateSequences of the decisions (see the header); reference log-probs from `reference`. */
export async function refinerSequences(ops: Ops, reference: Transformer, input: RefinerRewardInput, opts: { batchTokens?: number } = {}): Promise<UpdateSequence[]> {
  const { judge, trim } = refinerRewards(input);
  const all = [...judge.map((x) => ({ ...x, role: 'judge' as const, weight: input.judgeWeight ?? 1 })), ...trim.map((x) => ({ ...x, role: 'trim' as const, weight: input.trimWeight ?? 1 }))];
  if (all.length === 0) return [];
  const seqs = all.map((x) => {
    const ids = new Int32Array(x.record.ids.length + 1);
    ids.set(x.record.ids);
    ids[x.record.ids.length] = x.token;
    return { ids, promptLength: x.record.ids.length, temperature: 1 };
  });
  const ref = await sequenceLogprobs(ops, reference, seqs, { entropy: false, batchTokens: opts.batchTokens });
  return all.map((x, i) => ({
    ids: seqs[i].ids,
    promptLength: seqs[i].promptLength,
    mask: Uint8Array.from([1]),
    refLogprobs: ref.logprobs[i],
    advantage: x.advantage,
    role: x.role,
    weight: x.weight,
    temperature: 1,
  }));
}
