// Process judges (DESIGN 4.3): each search action's retrieved collection is labelled useful, irrelevant or
// redundant; r_process = useful / searches (process.ts).
//
// (a) gold-evidence (default; the world knows each question's supporting passages), searches in order:
//     useful     = the collection holds a supporting passage not retrieved by an earlier search;
//     redundant  = it holds supporting passages, all retrieved before;
//     irrelevant = it holds none.
// (b) answer-containment (imported data without evidence labels): the same rule with "answer passages" in place of
//     supporting passages, where an answer passage is one whose normalized text (SQuAD normalizeAnswer) contains a
//     normalized gold answer as a whole-word token sequence. Passages are identified by id: a passage counts as
//     "retrieved before" when an earlier search returned the same id. So: useful = a new answer passage; redundant
//     = only answer passages seen before; irrelevant = no answer passage. (Coarse on multi-hop questions, whose
//     first hops rarely mention the final answer; that is why gold-evidence is the default.)
// (c) external: an OpenAI-compatible chat-completions endpoint the user configures (never the default, never needed
//     offline). The API key lives only in this closure: it is sent in the Authorization header and nowhere else,
//     never logged, never in an error message, never serialized (the judge object has no field holding it). The
//     model is asked for JSON {"labels": [...]} with one label per search; a reply that does not give exactly one
//     valid label per search, an HTTP error or a timeout throws ExternalJudgeError. judgeWithFallback() turns that
//     into the gold judge's labels plus the reason, for the step's events (issue 6, "Bad input").
import { normalizeAnswer } from './normalize.ts';
import type { StepLabel } from './process.ts';

export interface JudgedQuestion {
  golden_answers: readonly string[];
  supporting_ids: readonly string[];
  /** The question text (used by the external judge's prompt; optional for the others). */
  question?: string;
}

export interface JudgedSearch {
  query: string;
  passages: readonly { id: string; contents: string }[];
}

export type ProcessJudgeName = 'gold-evidence' | 'answer-containment' | 'external';

export interface ProcessJudge {
  readonly name: ProcessJudgeName;
  label(q: JudgedQuestion, searches: readonly JudgedSearch[]): Promise<StepLabel[]>;
}

/** The shared rule: useful = a new key passage, redundant = only key passages seen before, irrelevant = none. */
function labelByKeyPassages(searches: readonly JudgedSearch[], isKey: (p: { id: string; contents: string }) => boolean): StepLabel[] {
  const seen = new Set<string>();
  return searches.map((s) => {
    const keys = s.passages.filter(isKey).map((p) => p.id);
    let label: StepLabel;
    if (keys.length === 0) label = 'irrelevant';
    else if (keys.some((id) => !seen.has(id))) label = 'useful';
    else label = 'redundant';
    for (const id of keys) seen.add(id);
    return label;
  });
}

export function goldEvidenceJudge(): ProcessJudge {
  return {
    name: 'gold-evidence',
    async label(q, searches) {
      const gold = new Set(q.supporting_ids);
      return labelByKeyPassages(searches, (p) => gold.has(p.id));
    },
  };
}

/** Whether normalized `text` contains normalized `answer` as a whole-word sequence. */
export function containsAnswer(text: string, answer: string): boolean {
  const a = normalizeAnswer(answer);
  if (a === '') return false;
  return ` ${normalizeAnswer(text)} `.includes(` ${a} `);
}

export function answerContainmentJudge(): ProcessJudge {
  return {
    name: 'answer-containment',
    async label(q, searches) {
      const golds = q.golden_answers.map(normalizeAnswer).filter((g) => g !== '');
      const cache = new Map<string, boolean>();
      return labelByKeyPassages(searches, (p) => {
        const key = `${p.id}\u0000${p.contents}`;
        let hit = cache.get(key);
        if (hit === undefined) {
          const norm = ` ${normalizeAnswer(p.contents)} `;
          hit = golds.some((g) => norm.includes(` ${g} `));
          cache.set(key, hit);
        }
        return hit;
      });
    },
  };
}

export class ExternalJudgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExternalJudgeError';
  }
}

export interface ExternalJudgeConfig {
  /** The endpoint: a base URL (".../v1") or the full ".../chat/completions" URL. */
  url: string;
  model: string;
  /** Kept in memory only (sent as "Authorization: Bearer ..."). */
  apiKey?: string;
  /** Injected for tests; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Default 30000. */
  timeoutMs?: number;
  /** Characters of each passage shown to the judge (default 800). */
  passageChars?: number;
}

const LABEL_SET: ReadonlySet<string> = new Set<StepLabel>(['useful', 'irrelevant', 'redundant']);

export const EXTERNAL_JUDGE_SYSTEM =
  'You grade the searches of a question-answering agent. For each search, in order, label its retrieved passages: ' +
  '"useful" if they hold evidence needed to answer the question that no earlier search retrieved, "redundant" if ' +
  'their useful evidence was already retrieved by an earlier search, "irrelevant" otherwise. Reply with JSON only: ' +
  '{"labels": ["useful" | "irrelevant" | "redundant", ...]} with exactly one label per search.';

/** The user message of the external judge. */
export function externalJudgePrompt(q: JudgedQuestion, searches: readonly JudgedSearch[], passageChars = 800): string {
  const lines: string[] = [];
  if (q.question !== undefined) lines.push(`Question: ${q.question}`);
  lines.push(`Gold answers: ${q.golden_answers.join(' | ')}`);
  searches.forEach((s, i) => {
    lines.push(`Search ${i + 1}: ${s.query}`);
    s.passages.forEach((p, j) => lines.push(`  Passage ${j + 1}: ${p.contents.replace(/\s+/g, ' ').slice(0, passageChars)}`));
  });
  lines.push(`Give ${searches.length} label${searches.length === 1 ? '' : 's'}.`);
  return lines.join('\n');
}

/** Labels from the judge's reply: JSON {"labels": [...]} or a JSON array, else the label words in order. */
export function parseJudgeLabels(reply: string, expected: number): StepLabel[] {
  const fromJson = (): unknown[] | null => {
    for (const [open, close] of [['{', '}'], ['[', ']']] as const) {
      const a = reply.indexOf(open);
      const b = reply.lastIndexOf(close);
      if (a < 0 || b <= a) continue;
      try {
        const v: unknown = JSON.parse(reply.slice(a, b + 1));
        if (Array.isArray(v)) return v;
        if (v !== null && typeof v === 'object' && Array.isArray((v as { labels?: unknown }).labels)) return (v as { labels: unknown[] }).labels;
      } catch {
        // not JSON; try the next form
      }
    }
    return null;
  };
  const raw = fromJson() ?? reply.toLowerCase().match(/\b(useful|irrelevant|redundant)\b/g) ?? [];
  const labels = raw.map((x) => (typeof x === 'string' ? x.trim().toLowerCase() : x));
  const bad = labels.find((x) => typeof x !== 'string' || !LABEL_SET.has(x));
  if (bad !== undefined) throw new ExternalJudgeError(`external judge: label ${JSON.stringify(bad)} is not useful, irrelevant or redundant`);
  if (labels.length !== expected)
    throw new ExternalJudgeError(`external judge: expected ${expected} label${expected === 1 ? '' : 's'} (one per search), got ${labels.length}: ${JSON.stringify(reply.slice(0, 200))}`);
  return labels as StepLabel[];
}

function chatUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  return u.endsWith('/chat/completions') ? u : `${u}/chat/completions`;
}

export function externalJudge(cfg: ExternalJudgeConfig): ProcessJudge {
  if (typeof cfg.url !== 'string' || !/^https?:\/\//.test(cfg.url)) throw new ExternalJudgeError(`external judge: url must start with http:// or https://, got ${JSON.stringify(cfg.url)}`);
  if (typeof cfg.model !== 'string' || cfg.model.trim() === '') throw new ExternalJudgeError('external judge: model must be a non-empty string');
  const timeoutMs = cfg.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new ExternalJudgeError(`external judge: timeoutMs must be > 0, got ${timeoutMs}`);
  const endpoint = chatUrl(cfg.url);
  const model = cfg.model;
  const apiKey = cfg.apiKey; // closure only
  const doFetch = cfg.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const passageChars = cfg.passageChars ?? 800;
  return {
    name: 'external',
    async label(q, searches) {
      if (searches.length === 0) return [];
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
      const body = JSON.stringify({
        model,
        temperature: 0,
        messages: [
          { role: 'system', content: EXTERNAL_JUDGE_SYSTEM },
          { role: 'user', content: externalJudgePrompt(q, searches, passageChars) },
        ],
      });
      const ctl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort();
      }, timeoutMs);
      let res: Response;
      let text: string;
      try {
        res = await doFetch(endpoint, { method: 'POST', headers, body, signal: ctl.signal });
        text = await res.text();
      } catch (e) {
        if (timedOut) throw new ExternalJudgeError(`external judge: ${endpoint} did not answer within ${timeoutMs} ms`);
        throw new ExternalJudgeError(`external judge: request to ${endpoint} failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        clearTimeout(timer);
      }
      if (!res.ok) throw new ExternalJudgeError(`external judge: ${endpoint} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}: ${text.slice(0, 200)}`);
      let content: unknown;
      try {
        const json = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
        content = json.choices?.[0]?.message?.content;
      } catch {
        throw new ExternalJudgeError(`external judge: ${endpoint} answered non-JSON: ${text.slice(0, 200)}`);
      }
      if (typeof content !== 'string') throw new ExternalJudgeError(`external judge: ${endpoint} answered without choices[0].message.content`);
      return parseJudgeLabels(content, searches.length);
    },
  };
}

/** Labels from `primary`; when it throws, the fallback's labels and the reason (for the step's events). */
export async function judgeWithFallback(
  primary: ProcessJudge,
  fallback: ProcessJudge,
  q: JudgedQuestion,
  searches: readonly JudgedSearch[],
): Promise<{ labels: StepLabel[]; judge: ProcessJudgeName; fallbackReason: string | null }> {
  try {
    return { labels: await primary.label(q, searches), judge: primary.name, fallbackReason: null };
  } catch (e) {
    const reason = `${primary.name} judge failed (${e instanceof Error ? e.message : String(e)}); used ${fallback.name}`;
    return { labels: await fallback.label(q, searches), judge: fallback.name, fallbackReason: reason };
  }
}
