// Relation-balanced sampling, shared by the SFT sampler (sft-batch.ts, `pretrain --balance`), the DAgger question
// choice (cli/pretrain.ts) and GRPO's question draws (rl/trainer.ts, `train --balance`). The worlds' training lists
// are dealt round-robin over each split's relation chains until the rare chains run out, so three quarters of them
// are two chains per split, while dev and test are balanced: these helpers draw groups (chains) with probability
// ~ count^alpha (1: the data's own proportions; 0: every group alike), as multilingual models temper languages.
// Grouping itself is world/random.ts's groupBy.
import { groupBy } from '../world/random.ts';

/** A question's group: its split and relation chain ("hotpotqa:located_in/capital"). */
export function relationChainKey(split: string, q: { relations: readonly string[] }): string {
  return `${split}:${q.relations.join('/')}`;
}

/** Cumulative probabilities of groups of these sizes, each ~ size^alpha (alpha in [0, 1]). */
export function temperedCumulative(sizes: readonly number[], alpha: number): number[] {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`balance alpha must be in [0, 1], got ${alpha}`);
  const weights = sizes.map((n) => (n > 0 ? Math.pow(n, alpha) : 0));
  const total = weights.reduce((a, w) => a + w, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

/** The group a uniform draw u in [0, 1) falls in (the last one against rounding). */
export function pickGroup(cumulative: readonly number[], u: number): number {
  const i = cumulative.findIndex((c) => u < c);
  return i < 0 ? cumulative.length - 1 : i;
}

/**
 * Up to `n` items, one per group in turn (groups in key order, each group's items in list order from `offset` on,
 * wrapping), until `n` are taken or every group is used up.
 */
export function roundRobinByGroup<T>(items: readonly T[], keyOf: (x: T) => string, n: number, offset = 0): T[] {
  const lists = groupBy(items, keyOf).map((g) => g.items);
  const out: T[] = [];
  for (let i = 0; out.length < n && lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length && out.length < n) out.push(l[(i + offset) % l.length]);
  return out;
}
