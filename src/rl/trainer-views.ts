// Plain-data views of rollouts and questions for the trainer's events (events.ts): tokens with their text, mask and
// sampling log-prob, steps with their passages and token ranges. Everything here is JSON- and clone-safe.
import type { Rollout } from '../agent/rollout.ts';
import { type PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';
import type { Question } from '../world/types.ts';
import type { QuestionView, StepView, TokenView, TrajectoryView } from './events.ts';

/** A training or evaluation question with the split it came from. */
export interface SplitQuestion extends Question {
  split: string;
}

export function questionView(q: SplitQuestion): QuestionView {
  return {
    id: q.id,
    split: q.split,
    question: q.question,
    goldenAnswers: [...q.golden_answers],
    supportingIds: [...q.supporting_ids],
    hops: q.hops,
  };
}

/**
 * The text one id adds (spacing included, as the tokenizer decodes it before normalization); an entity slot shows
 * its name from `slots` (the rollout's map), as "@k" without one.
 */
export function tokenText(tok: PolicyTokenizer, id: number, slots?: SlotMap): string {
  if (tok.isSlot(id)) {
    const t = tok.slotText(id, slots);
    if (t !== null) return t;
  }
  // decodeText is the tokenizer's private per-id table; bracket access reads it without widening its API.
  const t = tok['decodeText'][id];
  return t === undefined || t === '' ? tok.decode([id]) : t;
}

export function trajectoryId(questionId: string, group: number, revision: number): string {
  return revision === 0 ? `${questionId}#${group}` : `${questionId}#${group}r${revision}`;
}

export interface TrajectoryMeta {
  id: string;
  group: number;
  revision: number;
  parentId: string | null;
  keptSteps: number | null;
}

/** Token ranges of the search steps: step i runs from the end of step i-1 to the end of its information block. */
function stepRanges(r: Rollout): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = 0;
  const policyEnds = r.segments.filter((s) => s.kind === 'policy').map((s) => s.end);
  for (const s of r.searches) {
    let end: number;
    if (s.tokens) end = s.tokens.end;
    else end = policyEnds.find((e) => e > start) ?? r.ids.length;
    out.push({ start, end });
    start = end;
  }
  return out;
}

export function trajectoryView(tok: PolicyTokenizer, r: Rollout, meta: TrajectoryMeta): TrajectoryView {
  const slots = new SlotMap(r.slotNames);
  const tokens: TokenView[] = Array.from(r.ids, (id, i) => ({
    id,
    text: tokenText(tok, id, slots),
    policy: r.mask[i] ? 1 : 0,
    logprob: r.mask[i] ? r.logprobs[i] : 0,
  }));
  const ranges = stepRanges(r);
  const steps: StepView[] = r.searches.map((s, i) => ({
    index: i + 1,
    reasoning: r.trajectory.steps[i]?.reasoning ?? '',
    query: s.query,
    passages: s.passages.map((p) => ({ id: p.id, contents: p.contents, score: p.score })),
    label: null,
    tokenStart: ranges[i].start,
    tokenEnd: ranges[i].end,
  }));
  return {
    id: meta.id,
    questionId: r.questionId,
    group: meta.group,
    revision: meta.revision,
    parentId: meta.parentId,
    keptSteps: meta.keptSteps,
    response: r.response,
    tokens,
    steps,
    answer: r.answer,
    valid: r.trajectory.valid,
    truncated: r.truncated,
    finish: r.finish,
  };
}

/** Per-token values: `value` on policy tokens, 0 on observation tokens. */
export function perPolicyToken(mask: Uint8Array, value: number): number[] {
  return Array.from(mask, (m) => (m ? value : 0));
}
