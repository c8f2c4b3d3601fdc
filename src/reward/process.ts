/** Process reward (DESIGN 4.3): share of search actions whose retrieved collection was judged useful. */

export type StepLabel = 'useful' | 'irrelevant' | 'redundant';

const LABELS: ReadonlySet<string> = new Set<StepLabel>(['useful', 'irrelevant', 'redundant']);

/** `useful / labels.length`, 0 when there is no search action. Throws on a label outside the three. */
export function processReward(labels: readonly StepLabel[]): number {
  let useful = 0;
  for (let i = 0; i < labels.length; i++) {
    const label: unknown = labels[i];
    if (typeof label !== 'string' || !LABELS.has(label)) {
      throw new Error(
        `processReward: label at index ${i} is ${JSON.stringify(label) ?? String(label)}; ` +
          `expected 'useful', 'irrelevant' or 'redundant'`,
      );
    }
    if (label === 'useful') useful += 1;
  }
  return labels.length === 0 ? 0 : useful / labels.length;
}
