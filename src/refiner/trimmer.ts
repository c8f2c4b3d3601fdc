// The Trimmer (DESIGN 4.2): `<trim>` + question + trajectory with numbered steps; the model emits one <cut_k>,
// restricted to the valid k (validCuts: 0..min(K, MAX_CUT)): softmax over those <cut_k> logits at the position after
// the trim prompt (the tokenization of sft-data.ts trimExample), 0 elsewhere. Training samples the cut; evaluation
// takes the argmax. `logprobs[k]` is the full-vocabulary log-probability of <cut_k> (what the GRPO update
// recomputes for the decision sequence), -Infinity outside the valid k.
import { MAX_CUT, trimPrompt, validCuts } from '../agent/prompts.ts';
import type { Rng } from '../engine/rng.ts';
import type { Ops } from '../engine/types.ts';
import type { Transformer } from '../model/transformer.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { decisionPromptIds, nextTokenLogprobs, restrictedSoftmax } from './decision.ts';

export interface TrimResult {
  /** Length MAX_CUT + 1; P(cut = k) over the valid k, 0 elsewhere. */
  probs: number[];
  valid: number[];
  /** The prompt ids the cut token follows ([bos] + encode(trimPrompt)). */
  ids: Int32Array;
  /** Full-vocabulary log p(<cut_k>), length MAX_CUT + 1 (-Infinity outside the valid k). */
  logprobs: number[];
  truncated: boolean;
}

export async function trimTrajectories(
  ops: Ops,
  model: Transformer,
  tokenizer: PolicyTokenizer,
  items: readonly { question: string; response: string }[],
  opts: { batchTokens?: number } = {},
): Promise<TrimResult[]> {
  if (items.length === 0) return [];
  const prompts = items.map((it) => decisionPromptIds(tokenizer, trimPrompt(it.question, it.response), model.config.context));
  const lps = await nextTokenLogprobs(ops, model, prompts.map((p) => p.ids), opts.batchTokens);
  return items.map((it, i) => {
    const valid = validCuts(it.response);
    const lp = valid.map((k) => lps[i][tokenizer.special.cut[k]]);
    const p = restrictedSoftmax(lp);
    const probs = new Array<number>(MAX_CUT + 1).fill(0);
    const logprobs = new Array<number>(MAX_CUT + 1).fill(-Infinity);
    valid.forEach((k, j) => {
      probs[k] = p[j];
      logprobs[k] = lp[j];
    });
    return { probs, valid, ids: prompts[i].ids, logprobs, truncated: prompts[i].truncated };
  });
}

/** A cut from the probabilities: sampled ({ rng }: the first k whose running mass exceeds a uniform draw) or argmax. */
export function chooseCut(probs: readonly number[], mode: { rng: Rng } | 'argmax'): number {
  if (probs.length === 0 || probs.some((p) => !(p >= 0))) throw new RangeError(`chooseCut: probabilities must be >= 0, got [${probs.join(', ')}]`);
  const total = probs.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('chooseCut: no probability mass');
  if (mode === 'argmax') {
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
    return best;
  }
  const u = mode.rng.next() * total;
  let acc = 0;
  let last = 0;
  for (let k = 0; k < probs.length; k++) {
    if (probs[k] <= 0) continue;
    acc += probs[k];
    last = k;
    if (u < acc) return k;
  }
  return last;
}
