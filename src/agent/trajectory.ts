/**
 * The Trajectory/Step model of a Search-R1-format response (DESIGN 4.1).
 *
 * Input is the *response* only (the text generated after the prompt, with the inserted `<information>` blocks),
 * e.g.
 * ```
 * <think> ... </think> <search> q1 </search>
 * <information> Doc 1(Title: T) ... </information>
 * <think> ... </think> <search> q2 </search>
 * <information> ... </information>
 * <think> ... </think> <answer> A </answer>
 * ```
 * A **step** is one complete `<search>...</search>` action, with the reasoning before it (the `<think>` contents and
 * any free text since the previous step, each piece stripped, joined by '\n') and the `<information>` block that
 * directly follows it (only whitespace in between), or null. Steps are numbered 1..K; the final segment (reasoning
 * after the last step, then the answer) is step K+1 in the method's terms and is described by `finalReasoning`,
 * `finalSpan` and `answerSpan`.
 *
 * Offsets are UTF-16 code-unit indices into the response, half-open `[start, end)`. The steps' `span`s and
 * `finalSpan` tile the response: step 1 starts at 0, each next span starts where the previous ended, and
 * `finalSpan` ends at `response.length`. A step's span ends after its `</information>` (or after `</search>` when
 * no information followed).
 *
 * Tag grammar (tags are case-sensitive, exactly `<think>`, `<search>`, `<information>`, `<answer>` and closers):
 * - `<information>` is opaque: its content runs to the next `</information>`; tags inside it are not parsed
 *   (retrieved passages may contain anything).
 * - `<search>` and `<answer>` run to the next matching closer, like Search-R1's `<(search|answer)>(.*?)</\1>`.
 * - `<think>` runs to `</think>`, but ends early, as unclosed, at the next opening tag: with stop tokens a
 *   `<search>` written inside an unclosed think is still executed as an action.
 *
 * `answer` is `extractAnswer(response)` (the last complete `<answer>...</answer>` anywhere in the response).
 *
 * `valid` is true when `issues` is empty. Issues: an unclosed tag; a stray closing tag; a tag inside a
 * `<search>` or `<answer>`; an `<information>` that does not directly follow a search; no complete answer; more
 * than one answer; anything but whitespace after the first answer (a search, information, think or text).
 * A search without information is not an issue (the environment inserts it; hand-written text may omit it),
 * nor is free text outside `<think>` (it counts as reasoning).
 *
 * `parseTrajectory` never throws.
 */
import { extractAnswer } from '../reward/extract.ts';
import { pyStrip } from '../reward/normalize.ts';

/** Half-open `[start, end)` range of UTF-16 code-unit offsets into the response. */
export interface TextSpan {
  start: number;
  end: number;
}

export interface Step {
  /** 1-based step number. */
  index: number;
  /** `<think>` contents and free text since the previous step, each piece stripped, joined by '\n'. */
  reasoning: string;
  /** The search query, stripped. */
  query: string;
  /** Content of the `<information>` block directly after the search, stripped; null if none followed. */
  information: string | null;
  /** The whole step: from the end of the previous step (0 for step 1) to the end of its information/search. */
  span: TextSpan;
  /** `<search>...</search>`, tags included. */
  searchSpan: TextSpan;
  /** `<information>...</information>`, tags included (to the end of the text when unclosed); null if none. */
  informationSpan: TextSpan | null;
}

export interface Trajectory {
  steps: Step[];
  /** `extractAnswer(response)`: the last complete answer, stripped; null when none. */
  answer: string | null;
  /** Reasoning after the last step and before the (last) answer, as `Step.reasoning`. */
  finalReasoning: string;
  /** From the end of the last step (0 when no step) to the end of the response. */
  finalSpan: TextSpan;
  /** The last complete `<answer>...</answer>` block found by the parser, tags included; null when none. */
  answerSpan: TextSpan | null;
  /** True when the format is well-formed, i.e. `issues` is empty. */
  valid: boolean;
  /** Human-readable reasons why the format is not well-formed, in text order. */
  issues: string[];
}

type TagName = 'think' | 'search' | 'information' | 'answer';

interface Block {
  kind: TagName | 'text';
  start: number;
  end: number;
  content: string;
  closed: boolean;
}

const TAG = /<(\/?)(think|search|information|answer)>/g;
const OPEN_TAG = /<(think|search|information|answer)>/g;
const ANY_TAG = /<\/?(?:think|search|information|answer)>/;

function tokenize(response: string, issues: string[]): Block[] {
  const blocks: Block[] = [];
  const len = response.length;
  // Search positions only grow, so the last found closer (or -1: none left) stays valid until passed; caching it
  // keeps the scan linear on text with many unclosed tags.
  const closerAt = new Map<TagName, number>();
  const findCloser = (name: TagName, from: number): number => {
    const cached = closerAt.get(name);
    if (cached !== undefined && (cached < 0 || cached >= from)) return cached;
    const found = response.indexOf(`</${name}>`, from);
    closerAt.set(name, found);
    return found;
  };
  let pos = 0;
  while (pos < len) {
    TAG.lastIndex = pos;
    const m = TAG.exec(response);
    if (m === null) {
      blocks.push({ kind: 'text', start: pos, end: len, content: response.slice(pos), closed: true });
      break;
    }
    if (m.index > pos) {
      blocks.push({ kind: 'text', start: pos, end: m.index, content: response.slice(pos, m.index), closed: true });
    }
    const tagEnd = m.index + m[0].length;
    const name = m[2] as TagName;
    if (m[1] === '/') {
      issues.push(`stray </${name}> at offset ${m.index}`);
      pos = tagEnd;
      continue;
    }
    const closer = `</${name}>`;
    const closeIdx = findCloser(name, tagEnd);
    let contentEnd: number;
    let end: number;
    let closed: boolean;
    if (name === 'think') {
      OPEN_TAG.lastIndex = tagEnd;
      const next = OPEN_TAG.exec(response);
      const nextOpen = next === null ? len : next.index;
      closed = closeIdx >= 0 && closeIdx < nextOpen;
      contentEnd = closed ? closeIdx : nextOpen;
      end = closed ? closeIdx + closer.length : nextOpen;
    } else {
      closed = closeIdx >= 0;
      contentEnd = closed ? closeIdx : len;
      end = closed ? closeIdx + closer.length : len;
    }
    const content = response.slice(tagEnd, contentEnd);
    if (!closed) issues.push(`unclosed <${name}> at offset ${m.index}`);
    if ((name === 'search' || name === 'answer') && ANY_TAG.test(content)) {
      issues.push(`tag inside <${name}> at offset ${m.index}`);
    }
    blocks.push({ kind: name, start: m.index, end, content, closed });
    pos = end;
  }
  return blocks;
}

/** Parse a Search-R1-format response into steps and a final answer. Never throws. */
export function parseTrajectory(response: string): Trajectory {
  const text = typeof response === 'string' ? response : String(response);
  const issues: string[] = [];
  const blocks = tokenize(text, issues);

  const steps: Step[] = [];
  let pending: string[] = [];
  let segStart = 0;
  let awaitingInfo: Step | null = null;
  let answers = 0;
  let afterAnswer = false;
  let finalReasoning: string | null = null;
  let answerSpan: TextSpan | null = null;

  for (const b of blocks) {
    const stripped = pyStrip(b.content);
    if (b.kind === 'text' && stripped === '') continue;
    if (afterAnswer && b.kind !== 'answer') {
      issues.push(
        b.kind === 'text'
          ? `text after the answer at offset ${b.start}`
          : `<${b.kind}> after the answer at offset ${b.start}`,
      );
    }
    switch (b.kind) {
      case 'text':
      case 'think':
        awaitingInfo = null;
        if (stripped !== '') pending.push(stripped);
        break;
      case 'search': {
        awaitingInfo = null;
        if (!b.closed) break; // an incomplete action is not a step (reported as unclosed)
        const step: Step = {
          index: steps.length + 1,
          reasoning: pending.join('\n'),
          query: stripped,
          information: null,
          span: { start: segStart, end: b.end },
          searchSpan: { start: b.start, end: b.end },
          informationSpan: null,
        };
        steps.push(step);
        pending = [];
        segStart = b.end;
        finalReasoning = null;
        awaitingInfo = step;
        break;
      }
      case 'information':
        if (awaitingInfo !== null) {
          awaitingInfo.information = stripped;
          awaitingInfo.informationSpan = { start: b.start, end: b.end };
          awaitingInfo.span.end = b.end;
          segStart = b.end;
          awaitingInfo = null;
        } else {
          issues.push(`<information> not directly after a search at offset ${b.start}`);
        }
        break;
      case 'answer':
        awaitingInfo = null;
        if (!b.closed) break;
        answers += 1;
        if (answers === 2) issues.push(`more than one <answer> (second at offset ${b.start})`);
        finalReasoning = pending.join('\n');
        answerSpan = { start: b.start, end: b.end };
        afterAnswer = true;
        break;
    }
  }
  if (answers === 0) issues.push('no complete <answer>...</answer>');

  return {
    steps,
    answer: extractAnswer(text),
    finalReasoning: finalReasoning ?? pending.join('\n'),
    finalSpan: { start: segStart, end: text.length },
    answerSpan,
    valid: issues.length === 0,
    issues,
  };
}
