/**
 * SQuAD v1.1 exact match and token F1 (official evaluate script), with the maximum over gold answers
 * (`metric_max_over_ground_truths`). An empty gold list scores 0 (the Python script would raise instead).
 */
import { normalizeAnswer, pySplit } from './normalize.ts';

/** 1 when the normalized prediction equals the normalized form of any gold answer, else 0. */
export function exactMatch(prediction: string, golds: readonly string[]): 0 | 1 {
  const pred = normalizeAnswer(prediction);
  for (const gold of golds) {
    if (normalizeAnswer(gold) === pred) return 1;
  }
  return 0;
}

/** SQuAD token F1 against one gold answer. 0 when no token is shared (so also when either side is empty). */
function f1Single(predTokens: readonly string[], gold: string): number {
  const goldTokens = pySplit(normalizeAnswer(gold));
  // Counter(pred) & Counter(gold): multiset intersection.
  const goldCounts = new Map<string, number>();
  for (const token of goldTokens) goldCounts.set(token, (goldCounts.get(token) ?? 0) + 1);
  let numSame = 0;
  for (const token of predTokens) {
    const left = goldCounts.get(token) ?? 0;
    if (left > 0) {
      numSame += 1;
      goldCounts.set(token, left - 1);
    }
  }
  if (numSame === 0) return 0;
  const precision = numSame / predTokens.length;
  const recall = numSame / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD token F1, maximum over gold answers; 0 when `golds` is empty. */
export function f1Score(prediction: string, golds: readonly string[]): number {
  const predTokens = pySplit(normalizeAnswer(prediction));
  let best = 0;
  for (const gold of golds) {
    const score = f1Single(predTokens, gold);
    if (score > best) best = score;
  }
  return best;
}
