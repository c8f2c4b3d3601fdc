// Cut-and-regenerate (DESIGN 4.2): keep steps 1..k of a rejected trajectory with their retrieved passages and let
// the Actor continue from there.
//
// The cut is the Trimmer's: steps are those of parseTrajectory(response) (the numbering trimPrompt shows, validCuts
// k in 0..K). Step k's span ends right after its `</information>` (or its `</search>` when no information followed);
// that is a special token, so the cut falls on a token boundary: the prefix is the response tokens up to and
// including that token (found by decoding up to each `</information>` / `</search>` token, which decodes to exactly
// the response's text up to there). k = 0 keeps nothing. The kept tokens keep their mask, sampling log-probs,
// segments and searches; the continuation (src/agent/rollout.ts `prefix`) counts those searches toward the limit.
import { rollout, type PassageRetriever, type Rollout, type RolloutOptions, type RolloutPrefix, type RolloutQuestion } from '../agent/rollout.ts';
import type { SequenceModel } from '../model/decoder-cache.ts';
import { type PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';

export interface CutResult {
  prefix: RolloutPrefix;
  /** Response text kept (steps 1..k with their information); '' for k = 0. */
  keptText: string;
  /** Response text discarded (leading whitespace dropped). */
  discardedText: string;
}

/** Response tokens kept by cut k (the prefix length). */
export function keptTokenCount(r: Rollout, k: number, tokenizer: PolicyTokenizer): number {
  const steps = r.trajectory.steps;
  if (!Number.isInteger(k) || k < 0 || k > steps.length) throw new RangeError(`cutRollout: cut ${k} is outside 0..${steps.length} (the trajectory's steps)`);
  if (k === 0) return 0;
  const end = steps[k - 1].span.end;
  const sp = tokenizer.special;
  const names = new SlotMap(r.slotNames);
  for (let i = 0; i < r.ids.length; i++) {
    const id = r.ids[i];
    if (id !== sp.informationEnd && id !== sp.searchEnd) continue;
    const len = tokenizer.decode(r.ids.subarray(0, i + 1), names).length;
    if (len === end) return i + 1;
    if (len > end) break;
  }
  throw new Error(`cutRollout: no token boundary at the end of step ${k} (offset ${end}) of ${r.questionId}#${r.group}`);
}

export function cutRollout(r: Rollout, k: number, tokenizer: PolicyTokenizer): CutResult {
  const n = keptTokenCount(r, k, tokenizer);
  const endChar = k === 0 ? 0 : r.trajectory.steps[k - 1].span.end;
  const segments = r.segments.filter((s) => s.start < n).map((s) => ({ ...s, end: Math.min(s.end, n) }));
  const searches = r.searches.filter((s) => s.tokens !== null && s.tokens.end <= n).map((s) => ({ ...s, passages: [...s.passages] }));
  return {
    prefix: { ids: r.ids.slice(0, n), mask: r.mask.slice(0, n), logprobs: r.logprobs.slice(0, n), searches, segments, slotNames: r.slotNames },
    keptText: r.response.slice(0, endChar),
    discardedText: r.response.slice(endChar).trimStart(),
  };
}

export interface RegenerateItem {
  rollout: Rollout;
  cut: number;
  /** 1..R: keys the continuation's random stream (with the rollout's question id and group). */
  revision: number;
  /** Extra stream key part (the probe's samples). */
  streamTag?: string;
}

/**
 * Regenerates every item from its cut, in one batched rollout call (opts.groupSize is ignored: one continuation per
 * item). Returns the new rollouts in item order, with the original's questionIndex, questionId and group, and
 * `revision` / `prefixLength` set.
 */
export async function regenerate(
  model: SequenceModel,
  tokenizer: PolicyTokenizer,
  retriever: PassageRetriever,
  items: readonly RegenerateItem[],
  opts: RolloutOptions,
): Promise<Rollout[]> {
  if (items.length === 0) return [];
  const questions: RolloutQuestion[] = items.map((it) => {
    if (!Number.isInteger(it.revision) || it.revision < 1) throw new RangeError(`regenerate: revision must be a positive integer, got ${it.revision}`);
    const r = it.rollout;
    return {
      id: r.questionId,
      question: r.question,
      prefix: cutRollout(r, it.cut, tokenizer).prefix,
      group: r.group,
      revision: it.revision,
      ...(it.streamTag ? { streamTag: it.streamTag } : {}),
    };
  });
  const { rollouts } = await rollout(model, tokenizer, retriever, questions, { ...opts, groupSize: 1 });
  return rollouts.map((r, i) => ({ ...r, questionIndex: items[i].rollout.questionIndex }));
}
