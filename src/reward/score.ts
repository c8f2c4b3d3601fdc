// The reward of one trajectory with its parts (DESIGN 4.3): EM and F1 of its final answer (the last <answer> of the
// *response*: pass Rollout.answer, which is extractAnswer(response), never the prompt), process labels from a
// judge, r_process = useful / searches, and the reward used: EM (outcome-only) or EM * (1 + r_process) (hybrid).
import { exactMatch, f1Score } from './em.ts';
import { hybridReward } from './hybrid.ts';
import type { JudgedQuestion, JudgedSearch, ProcessJudge } from './judges.ts';
import { processReward, type StepLabel } from './process.ts';

export type RewardKind = 'em' | 'hybrid';

export interface RolloutScore {
  em: 0 | 1;
  f1: number;
  labels: StepLabel[];
  process: number;
  reward: number;
}

/** Reward from the parts (no judge call): for labels obtained elsewhere (e.g. judgeWithFallback). */
export function scoreFromLabels(answer: string | null, q: JudgedQuestion, labels: StepLabel[], kind: RewardKind): RolloutScore {
  if (kind !== 'em' && kind !== 'hybrid') throw new RangeError(`scoreRollout: kind must be 'em' or 'hybrid', got ${String(kind)}`);
  const em = answer === null ? 0 : exactMatch(answer, q.golden_answers);
  const f1 = answer === null ? 0 : f1Score(answer, q.golden_answers);
  const process = processReward(labels);
  return { em, f1, labels, process, reward: kind === 'em' ? em : hybridReward(em, process) };
}

export async function scoreRollout(
  r: { answer: string | null; searches: readonly JudgedSearch[] },
  q: JudgedQuestion,
  judge: ProcessJudge,
  kind: RewardKind,
): Promise<RolloutScore> {
  const labels = await judge.label(q, r.searches);
  if (labels.length !== r.searches.length) throw new Error(`scoreRollout: judge ${judge.name} gave ${labels.length} labels for ${r.searches.length} searches`);
  return scoreFromLabels(r.answer, q, labels, kind);
}
