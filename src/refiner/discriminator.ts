// The Discriminator (DESIGN 4.2): `<judge>` + question + full trajectory; the model emits <accept> or <reject>.
// alpha = P(accept) from the softmax restricted to those two tokens at the position after the judge prompt (the
// tokenization of sft-data.ts judgeExample). Training samples the decision (a uniform draw below alpha accepts);
// evaluation accepts when alpha >= tau (default 0.5).
//
// logprobAccept / logprobReject are the full-vocabulary log-probabilities of the two tokens (what the GRPO update
// recomputes for a decision sequence [ids, token], so old and new log-probs agree); log(alpha) and log(1 - alpha)
// are the restricted ones.
import { judgePrompt } from '../agent/prompts.ts';
import type { Rng } from '../engine/rng.ts';
import type { Ops } from '../engine/types.ts';
import type { Transformer } from '../model/transformer.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { decisionPromptIds, nextTokenLogprobs, restrictedSoftmax } from './decision.ts';

export const DEFAULT_TAU = 0.5;

export interface JudgeResult {
  alpha: number;
  /** The prompt ids the decision token follows ([bos] + encode(judgePrompt)). */
  ids: Int32Array;
  logprobAccept: number;
  logprobReject: number;
  /** The prompt did not fit the context and lost its middle (decision.ts). */
  truncated: boolean;
}

export async function judgeTrajectories(
  ops: Ops,
  model: Transformer,
  tokenizer: PolicyTokenizer,
  items: readonly { question: string; response: string }[],
  opts: { batchTokens?: number } = {},
): Promise<JudgeResult[]> {
  if (items.length === 0) return [];
  const prompts = items.map((it) => decisionPromptIds(tokenizer, judgePrompt(it.question, it.response), model.config.context));
  const lps = await nextTokenLogprobs(ops, model, prompts.map((p) => p.ids), opts.batchTokens);
  const { accept, reject } = tokenizer.special;
  return prompts.map((p, i) => {
    const la = lps[i][accept];
    const lr = lps[i][reject];
    const [alpha] = restrictedSoftmax([la, lr]);
    return { alpha, ids: p.ids, logprobAccept: la, logprobReject: lr, truncated: p.truncated };
  });
}

/** Training ({ rng }): accept when a uniform draw is below alpha. Evaluation ({ tau }): accept when alpha >= tau. */
export function decide(alpha: number, mode: { rng: Rng } | { tau: number }): { accept: boolean; draw: number | null } {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`decide: alpha must be in [0, 1], got ${alpha}`);
  if ('rng' in mode) {
    const draw = mode.rng.next();
    return { accept: draw < alpha, draw };
  }
  if (!(mode.tau >= 0 && mode.tau <= 1)) throw new RangeError(`decide: tau must be in [0, 1], got ${mode.tau}`);
  return { accept: alpha >= mode.tau, draw: null };
}
