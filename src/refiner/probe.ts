// The counterfactual probe (DESIGN 4.2, a playground addition): for a rejected trajectory, regenerate from every
// valid cut point k (validCuts: 0..min(K, MAX_CUT)) `samples` times and record the gain
// G(k) = mean reward of the regenerations cut at k - the original's reward. One batched rollout call for every
// (k, sample); sample s of cut k draws from the stream keyed `probe:k<k>:s<s>` (revision 1), so probes are
// reproducible and independent of the training regenerations.
import { MAX_CUT, validCuts } from '../agent/prompts.ts';
import type { PassageRetriever, Rollout, RolloutOptions } from '../agent/rollout.ts';
import type { SequenceModel } from '../model/decoder-cache.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { regenerate, type RegenerateItem } from './regenerate.ts';

export interface ProbeResult {
  originalReward: number;
  /** Length MAX_CUT + 1: gains[k] for the valid k, null elsewhere. */
  gains: (number | null)[];
  samples: number;
  /** Mean reward per cut (null for invalid k). */
  rewards: (number | null)[];
}

export async function probeCuts(
  model: SequenceModel,
  tokenizer: PolicyTokenizer,
  retriever: PassageRetriever,
  rollout: Rollout,
  score: (r: Rollout) => Promise<number>,
  opts: RolloutOptions & { samples: number },
): Promise<ProbeResult> {
  const samples = opts.samples;
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`probeCuts: samples must be a positive integer, got ${samples}`);
  const originalReward = await score(rollout);
  const valid = validCuts(rollout.response).filter((k) => k <= rollout.trajectory.steps.length);
  const items: RegenerateItem[] = [];
  for (const k of valid) for (let s = 0; s < samples; s++) items.push({ rollout, cut: k, revision: 1, streamTag: `probe:k${k}:s${s}` });
  const regens = await regenerate(model, tokenizer, retriever, items, opts);
  const sums = new Array<number>(MAX_CUT + 1).fill(0);
  for (let i = 0; i < regens.length; i++) sums[items[i].cut] += await score(regens[i]);
  const rewards: (number | null)[] = new Array<number | null>(MAX_CUT + 1).fill(null);
  const gains: (number | null)[] = new Array<number | null>(MAX_CUT + 1).fill(null);
  for (const k of valid) {
    rewards[k] = sums[k] / samples;
    gains[k] = sums[k] / samples - originalReward;
  }
  return { originalReward, gains, samples, rewards };
}
