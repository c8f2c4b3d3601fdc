/**
 * GRPO outcome advantages (DESIGN 4.4), as verl's `compute_grpo_outcome_advantage` used by Search-R1.
 *
 * `rewards` holds consecutive groups of `groupSize` rollouts of the same question. For each group:
 * - `scaleByStd` (default true): `A_i = (R_i - mean) / (std + eps)`, std unbiased (n - 1 denominator, as
 *   `torch.std`), eps default 1e-6;
 * - `scaleByStd: false` (Dr. GRPO): `A_i = R_i - mean`.
 *
 * Groups of size 1: the unbiased std is undefined there (torch.std gives NaN), so we follow verl's special case
 * and use mean = 0 and std = 1, giving `R / (1 + eps)` (or `R` without std scaling).
 * A group whose rewards are all equal gets advantages of exactly 0 (no rounding residue from the mean).
 * Arithmetic is float64 (verl computes in float32, so values agree to float32 precision).
 */

export interface GrpoAdvantageOptions {
  /** Divide by the group's std (+ eps). Default true; false is Dr. GRPO's unscaled variant. */
  scaleByStd?: boolean;
  /** Added to the std before dividing. Default 1e-6. */
  eps?: number;
}

export function grpoAdvantages(
  rewards: readonly number[],
  groupSize: number,
  opts: GrpoAdvantageOptions = {},
): number[] {
  if (!Number.isInteger(groupSize) || groupSize <= 0) {
    throw new Error(
      `grpoAdvantages: groupSize must be a positive integer, got ${groupSize} (rewards.length ${rewards.length})`,
    );
  }
  if (rewards.length % groupSize !== 0) {
    throw new Error(
      `grpoAdvantages: rewards.length ${rewards.length} is not a multiple of groupSize ${groupSize}`,
    );
  }
  const scaleByStd = opts.scaleByStd ?? true;
  const eps = opts.eps ?? 1e-6;
  const out = new Array<number>(rewards.length);

  for (let start = 0; start < rewards.length; start += groupSize) {
    const end = start + groupSize;
    let mean: number;
    let std: number;
    if (groupSize === 1) {
      mean = 0;
      std = 1;
    } else {
      let sum = 0;
      let allEqual = true;
      const first = rewards[start];
      for (let i = start; i < end; i++) {
        const r = rewards[i];
        sum += r;
        if (r !== first) allEqual = false;
      }
      if (allEqual && Number.isFinite(first)) {
        for (let i = start; i < end; i++) out[i] = 0;
        continue;
      }
      mean = sum / groupSize;
      let squares = 0;
      for (let i = start; i < end; i++) {
        const d = rewards[i] - mean;
        squares += d * d;
      }
      std = Math.sqrt(squares / (groupSize - 1));
    }
    for (let i = start; i < end; i++) {
      const centered = rewards[i] - mean;
      out[i] = scaleByStd ? centered / (std + eps) : centered;
    }
  }
  return out;
}
