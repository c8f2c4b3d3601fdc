// The prompts of the three roles that share the policy's weights (DESIGN 4.1, 4.2), the observations the
// environment inserts, and the numbered-step view the Trimmer reads.
//
// - Actor: `<actor> Answer the question. ... Question: Q?` (DESIGN 4.1, playground wording); the response follows.
// - Discriminator: `<judge> ... Question: Q? Trajectory: <response>`; the model emits <accept> or <reject>.
// - Trimmer: `<trim> ... Question: Q? Step 1: ... Step K+1: ...`; the model emits <cut_k>, k in 0..K: keep steps
//   1..k with their passages, regenerate from step k+1.
// - A search inserts Search-R1's information block (src/retrieval/format.ts) with the top-3 passages; an
//   unparseable action inserts INVALID_ACTION_OBSERVATION, which holds no tag (a literal `<search>` in it would be
//   read as an action by parseTrajectory and extractAnswer).
import { parseTrajectory } from './trajectory.ts';
import { pyStrip } from '../reward/normalize.ts';
import { informationBlock } from '../retrieval/format.ts';
import { MAX_CUT } from '../text/policy-vocab.ts';

/** Passages per search (Search-R1's top-k). */
export const TOP_K = 3;
/** Search turns before the forced final turn without search (DESIGN 4.1). */
export const MAX_SEARCHES = 4;
export { MAX_CUT };

export const ACTOR_INSTRUCTION =
  'Answer the question. Think inside <think></think>; to search, write <search> query </search> and read the top passages between <information> and </information>; give the final answer inside <answer></answer>.';
export const JUDGE_INSTRUCTION = 'Accept the trajectory if every step is sound, reject it if a step went wrong.';
export const TRIM_INSTRUCTION = 'Keep the sound steps and cut before the first step that went wrong.';

/** The observation for an action that does not parse (Search-R1's wording, without tags). */
export const INVALID_ACTION_OBSERVATION =
  '\nMy previous action is invalid. If I want to search, I should put the query between the search tags. If I want to give the final answer, I should put the answer between the answer tags. Let me try again.\n';
if (/[<>]/.test(INVALID_ACTION_OBSERVATION)) throw new Error('INVALID_ACTION_OBSERVATION must hold no tag');

/** The question as the prompts show it: stripped, with a question mark (as Search-R1's data preparation). */
export function questionText(question: string): string {
  const q = pyStrip(question);
  return q.endsWith('?') ? q : `${q}?`;
}

/** The Actor prompt; the response (starting with `<think>`) is generated after it. */
export function actorPrompt(question: string): string {
  return `<actor> ${ACTOR_INSTRUCTION} Question: ${questionText(question)}`;
}

/** The Discriminator prompt over a full response; the model's next token is <accept> or <reject>. */
export function judgePrompt(question: string, response: string): string {
  return `<judge> ${JUDGE_INSTRUCTION} Question: ${questionText(question)} Trajectory: ${pyStrip(response)}`;
}

/**
 * The response with each step labelled: "Step 1: <think>...</think> <search>...</search> <information>...
 * </information> Step 2: ... Step K+1: <think>...</think> <answer>...</answer>" (the final segment is step K+1).
 */
export function numberedSteps(response: string): string {
  const t = parseTrajectory(response);
  const parts: string[] = [];
  for (const s of t.steps) parts.push(`Step ${s.index}: ${pyStrip(response.slice(s.span.start, s.span.end))}`);
  const final = pyStrip(response.slice(t.finalSpan.start, t.finalSpan.end));
  if (final !== '' || t.steps.length === 0) parts.push(`Step ${t.steps.length + 1}: ${final}`);
  return parts.join(' ');
}

/** The Trimmer prompt; the model's next token is <cut_k> with k in validCuts(response). */
export function trimPrompt(question: string, response: string): string {
  return `<trim> ${TRIM_INSTRUCTION} Question: ${questionText(question)} ${numberedSteps(response)}`;
}

/** The cuts the Trimmer may choose for a response with K search steps: 0..min(K, MAX_CUT). */
export function validCuts(response: string): number[] {
  const k = Math.min(parseTrajectory(response).steps.length, MAX_CUT);
  return Array.from({ length: k + 1 }, (_, i) => i);
}

/** The part of the response kept by <cut_k>: steps 1..k with their passages ('' for k = 0). */
export function keptPrefix(response: string, k: number): string {
  const t = parseTrajectory(response);
  if (!Number.isInteger(k) || k < 0 || k > t.steps.length) throw new RangeError(`keptPrefix: cut ${k} is outside 0..${t.steps.length}`);
  return k === 0 ? '' : response.slice(0, t.steps[k - 1].span.end);
}

/** The observation a search inserts: Search-R1's `\n\n<information>Doc 1(Title: "T") text\nDoc 2...</information>\n\n`. */
export function informationObservation(contents: readonly string[]): string {
  return informationBlock(contents);
}

/** Texts whose words and characters the policy vocabulary must hold (prompts and observations). */
export const PROMPT_TEMPLATE_TEXTS: readonly string[] = [
  actorPrompt('What is it?'),
  judgePrompt('What is it?', '<think> x </think> <answer> y </answer>'),
  trimPrompt('What is it?', '<think> x </think> <search> q </search> <answer> y </answer>'),
  INVALID_ACTION_OBSERVATION,
  informationObservation(['"Title"\ntext', '"Title"\ntext', '"Title"\ntext']),
];
