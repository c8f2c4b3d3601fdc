// Process judges and scoring (src/reward/judges.ts, score.ts): hand-labelled searches for the gold-evidence and
// answer-containment judges, the external judge against an injected fake fetch (request shape, key handling,
// parsing, errors, timeout, fallback), and rewards with their parts; expert demonstrations on the tiny world are
// all-useful under the gold judge.
import { describe, expect, it } from 'vitest';
import { createExpertContext, executePlan, planQuestion } from '../../src/agent/expert.ts';
import { Rng } from '../../src/engine/rng.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import {
  answerContainmentJudge, containsAnswer, ExternalJudgeError, externalJudge, goldEvidenceJudge, type JudgedQuestion,
  type JudgedSearch, judgeWithFallback, parseJudgeLabels,
} from '../../src/reward/judges.ts';
import { scoreRollout } from '../../src/reward/score.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords } from '../../src/world/format.ts';
import { streamSeed } from '../../src/world/random.ts';
import { loadSources } from '../../src/world/sources.ts';
import { TRAINING_SPLITS } from '../../src/world/types.ts';

const P = (id: string, contents = `"${id}"\ntext of ${id}`): { id: string; contents: string } => ({ id, contents });
const S = (...ids: string[]): JudgedSearch => ({ query: `q ${ids.join(' ')}`, passages: ids.map((id) => P(id)) });

const q: JudgedQuestion = { question: 'What currency is used in Burkina Faso?', golden_answers: ['West African CFA franc', 'CFA'], supporting_ids: ['s1', 's2'] };

describe('gold-evidence judge', () => {
  it('useful = new supporting passage, redundant = only seen ones, irrelevant = none', async () => {
    const j = goldEvidenceJudge();
    expect(j.name).toBe('gold-evidence');
    const labels = await j.label(q, [S('x', 's1', 'y'), S('s1', 'z'), S('a', 'b'), S('s1', 's2'), S('s2')]);
    expect(labels).toEqual(['useful', 'redundant', 'irrelevant', 'useful', 'redundant']);
    expect(await j.label(q, [])).toEqual([]);
    // An irrelevant search in between does not reset what was seen.
    expect(await j.label(q, [S('s2'), S('n'), S('s2', 'n')])).toEqual(['useful', 'irrelevant', 'redundant']);
  });
});

describe('answer-containment judge', () => {
  it('whole-word containment of a normalized gold answer', () => {
    expect(containsAnswer('Its currency is the West-African CFA franc.', 'West African CFA franc')).toBe(false); // "westafrican"
    expect(containsAnswer('Its currency is the West African CFA Franc.', 'the West African CFA franc')).toBe(true);
    expect(containsAnswer('CFAS are not it', 'CFA')).toBe(false);
    expect(containsAnswer('anything', 'the')).toBe(false); // normalizes to ''
  });

  it('useful = new answer passage (by id), redundant = only answer passages seen before, irrelevant = none', async () => {
    const j = answerContainmentJudge();
    const ans = (id: string): { id: string; contents: string } => P(id, `"${id}"\nBurkina Faso uses the CFA franc.`);
    const searches: JudgedSearch[] = [
      { query: 'a', passages: [P('p1'), P('p2')] },
      { query: 'b', passages: [ans('a1'), P('p1')] },
      { query: 'c', passages: [ans('a1')] },
      { query: 'd', passages: [ans('a1'), ans('a2')] },
    ];
    expect(await j.label(q, searches)).toEqual(['irrelevant', 'useful', 'redundant', 'useful']);
  });
});

/** A fake OpenAI-compatible endpoint: records requests, answers with `reply` (or a status / a hang). */
function fakeFetch(reply: string | { status: number; body: string } | 'hang' | 'throw'): { fetch: typeof fetch; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), init: init ?? {} });
    if (reply === 'throw') throw new TypeError('connection refused');
    if (reply === 'hang')
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    if (typeof reply !== 'string') return new Response(reply.body, { status: reply.status });
    return new Response(JSON.stringify({ choices: [{ message: { role: 'assistant', content: reply } }] }), { status: 200 });
  }) as typeof fetch;
  return { fetch: f, calls };
}

describe('external judge', () => {
  const searches = [S('s1'), S('x')];
  const KEY = 'sk-test-SECRET-123';

  it('posts an OpenAI-style chat completion and parses one label per search; the key only in the header', async () => {
    const fk = fakeFetch('Here you go: {"labels": ["useful", "irrelevant"]}');
    const j = externalJudge({ url: 'http://judge.local/v1/', model: 'm1', apiKey: KEY, fetch: fk.fetch });
    expect(j.name).toBe('external');
    expect(await j.label(q, searches)).toEqual(['useful', 'irrelevant']);
    expect(fk.calls).toHaveLength(1);
    const { url, init } = fk.calls[0];
    expect(url).toBe('http://judge.local/v1/chat/completions');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Authorization).toBe(`Bearer ${KEY}`);
    const body = JSON.parse(String(init.body)) as { model: string; temperature: number; messages: { role: string; content: string }[] };
    expect(body.model).toBe('m1');
    expect(body.temperature).toBe(0);
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(body.messages[1].content).toContain('Question: What currency is used in Burkina Faso?');
    expect(body.messages[1].content).toContain('Search 2: q x');
    expect(String(init.body)).not.toContain(KEY);
    // The judge object does not hold the key anywhere visible.
    expect(JSON.stringify(j)).not.toContain(KEY);
    expect(Object.values(j).some((v) => typeof v === 'string' && v.includes(KEY))).toBe(false);
    // No searches: no request.
    expect(await j.label(q, [])).toEqual([]);
    expect(fk.calls).toHaveLength(1);
    // No key: no Authorization header; a full endpoint URL is used as is.
    const fk2 = fakeFetch('["redundant", "useful"]');
    const j2 = externalJudge({ url: 'https://x.test/v1/chat/completions', model: 'm', fetch: fk2.fetch });
    expect(await j2.label(q, searches)).toEqual(['redundant', 'useful']);
    expect(fk2.calls[0].url).toBe('https://x.test/v1/chat/completions');
    expect((fk2.calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('parses plain-text labels in order; rejects wrong counts and unknown labels', () => {
    expect(parseJudgeLabels('1. Useful\n2. redundant', 2)).toEqual(['useful', 'redundant']);
    expect(() => parseJudgeLabels('useful', 2)).toThrow(/expected 2 labels/);
    expect(() => parseJudgeLabels('{"labels": ["useful", "great"]}', 2)).toThrow(/"great"/);
  });

  it('clear errors, never with the key: HTTP error, network error, non-JSON, timeout, bad config', async () => {
    const cases: [Parameters<typeof fakeFetch>[0], RegExp][] = [
      [{ status: 401, body: 'unauthorized' }, /HTTP 401/],
      ['throw', /request to .* failed: connection refused/],
      [{ status: 200, body: 'not json' }, /non-JSON/],
      ['sure thing', /expected 2 labels/],
      ['hang', /did not answer within 20 ms/],
    ];
    for (const [reply, re] of cases) {
      const j = externalJudge({ url: 'http://judge.local/v1', model: 'm', apiKey: KEY, fetch: fakeFetch(reply).fetch, timeoutMs: 20 });
      const err = await j.label(q, searches).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExternalJudgeError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain(KEY);
    }
    expect(() => externalJudge({ url: 'judge.local', model: 'm' })).toThrow(/http/);
    expect(() => externalJudge({ url: 'http://a', model: ' ' })).toThrow(/model/);
  });

  it('falls back to the gold judge and says why', async () => {
    const j = externalJudge({ url: 'http://judge.local/v1', model: 'm', apiKey: KEY, fetch: fakeFetch({ status: 500, body: 'boom' }).fetch });
    const r = await judgeWithFallback(j, goldEvidenceJudge(), q, searches);
    expect(r.labels).toEqual(['useful', 'irrelevant']);
    expect(r.judge).toBe('gold-evidence');
    expect(r.fallbackReason).toMatch(/external judge failed .*HTTP 500.*used gold-evidence/);
    const ok = await judgeWithFallback(goldEvidenceJudge(), answerContainmentJudge(), q, searches);
    expect(ok.fallbackReason).toBeNull();
  });
});

describe('scoreRollout', () => {
  const gold = goldEvidenceJudge();
  it('EM, F1, labels, process and the reward of each kind', async () => {
    const r = { answer: 'west african cfa franc', searches: [S('s1'), S('x'), S('s1')] };
    const h = await scoreRollout(r, q, gold, 'hybrid');
    expect(h).toEqual({ em: 1, f1: 1, labels: ['useful', 'irrelevant', 'redundant'], process: 1 / 3, reward: 4 / 3 });
    const e = await scoreRollout(r, q, gold, 'em');
    expect(e.reward).toBe(1);
    expect(e.process).toBeCloseTo(1 / 3, 12);
    // Wrong answer: the hybrid reward is gated by correctness.
    const w = await scoreRollout({ answer: 'CFA franc', searches: [S('s1'), S('s2')] }, q, gold, 'hybrid');
    expect(w.em).toBe(0);
    expect(w.f1).toBeCloseTo(2 / 3, 12); // vs "cfa": p 1/2, r 1 -> 2/3; vs the long one: p 1, r 1/2 -> 2/3
    expect(w.process).toBe(1);
    expect(w.reward).toBe(0);
    // No answer, no searches.
    expect(await scoreRollout({ answer: null, searches: [] }, q, gold, 'hybrid')).toEqual({ em: 0, f1: 0, labels: [], process: 0, reward: 0 });
    await expect(scoreRollout({ answer: 'x', searches: [] }, q, gold, 'f1' as never)).rejects.toThrow(/kind/);
  });

  it('expert demonstrations on the tiny world: no irrelevant search, the first one useful, reward 1 + process', async () => {
    const world = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
    const corpus = corpusRecords(world);
    const train = TRAINING_SPLITS.flatMap((s) => world.questions[s].train.slice(0, 15));
    const ctx = createExpertContext(corpus, createBm25Retriever(corpus), train);
    let n = 0;
    for (const question of train) {
      const plan = planQuestion(question, ctx.view);
      if (!plan) continue;
      const d = await executePlan(plan, ctx.search, ctx.pool, new Rng(streamSeed(0, question.id)));
      if (!d.found || !d.correct) continue;
      const searches = d.steps.map((s) => ({ query: s.query, passages: s.passages }));
      const sc = await scoreRollout({ answer: d.answer, searches }, question, gold, 'hybrid');
      // Every hop of a good demonstration retrieved its supporting passage (a later hop may find it already seen).
      expect(sc.labels).not.toContain('irrelevant');
      expect(sc.labels[0]).toBe('useful');
      expect(sc.em).toBe(1);
      expect(sc.reward).toBeCloseTo(1 + sc.process, 12);
      n++;
    }
    expect(n).toBeGreaterThan(3);
  });
});
