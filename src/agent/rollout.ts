// The batched rollout engine (DESIGN 4.1): B questions x G rollouts generated together, with tool calls.
//
// Loop, per wave of up to `model.slots` sequences (all of them at once when they fit):
//   1. Generation phase: every live sequence is fed its pending tokens (the prompt, or its last token plus the
//      observation just inserted) and then decodes token by token, all sequences in one batch (SequenceModel.step),
//      until it emits a stop token (`</search>`, `</answer>`, `<eos>`) or hits the per-turn token limit.
//   2. Actions, on the turn's text, as Search-R1 (`<(search|answer)>(.*?)</\1>`): `</answer>` with an answer ends
//      the sequence; `</search>` with a query queues a search; anything else (a closer without its opener, no stop
//      token within the turn limit) inserts INVALID_ACTION_OBSERVATION; `<eos>` ends the sequence.
//   3. Search phase: the queued queries of the whole wave go to the retriever in one call (top-k, default 3); each
//      sequence gets Search-R1's information block (observation tokens, mask 0).
//   Limits: at most `maxSearches` (4) searches and `maxTurns` turns (6). The turn after the last allowed search (or
//   the last allowed turn) is **forced**: the `<search>` and `</search>` logits are set to -1e9, so the model can
//   still think but can only end with an answer (the format stays Search-R1's, no text is injected); the sequence
//   ends after that turn whatever it wrote. A sequence whose next input would not fit the context (prompt,
//   observation, or the next generated token) ends there, marked truncated; an observation that does not fit is
//   not inserted. The rest of the batch carries on. On every turn the control prompts (<actor> <judge> <trim>), the
//   refiner's outputs (<accept> <reject> <cut_k>), <pad> and <bos> are banned the same way.
//
// Randomness: sequence (question id, rollout g) draws one uniform per sampled token from its own stream,
// streamSeed(seed, `rollout:<id>:<g>`), so its tokens do not depend on which other sequences share the batch:
// batched and one-at-a-time generation give the same rollouts (exactly on the cpu backends; see decoder-cache.ts).
//
// Continuation (the Meta-Refiner's cut-and-regenerate, DESIGN 4.2): a question may carry a `prefix`, the kept steps
// 1..k of an earlier rollout with their information blocks (token ids, mask, log-probs, segments, searches; see
// src/refiner/regenerate.ts cutRollout). The prompt and the prefix are fed as one chunk and generation continues
// after it, with the prefix's searches, turns and invalid actions counted toward the limits. The stream key gets
// the question's `group` (default: the rollout index) and, when given, `:r<revision>` and `:<streamTag>`, so a
// regeneration draws other numbers than its original and than its siblings; without them the key is unchanged.
import { INVALID_ACTION_OBSERVATION, MAX_SEARCHES, TOP_K, actorPrompt } from './prompts.ts';
import { parseTrajectory, type Trajectory } from './trajectory.ts';
import { Rng } from '../engine/rng.ts';
import type { PickChunk, SequenceModel } from '../model/decoder-cache.ts';
import { createBm25Retriever, type Bm25Options } from '../retrieval/bm25.ts';
import { informationBlock } from '../retrieval/format.ts';
import type { Retriever } from '../retrieval/types.ts';
import { pyStrip } from '../reward/normalize.ts';
import { type PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';
import { IDS_PER_SLOT } from '../text/policy-vocab.ts';
import { streamSeed } from '../world/random.ts';
import type { CorpusRecord } from '../world/types.ts';

/** One retrieved passage as the rollout shows it. */
export interface RetrievedPassage {
  id: string;
  /** Corpus contents, `"Title"\ntext`. */
  contents: string;
  score: number;
}

/** Text queries in, ranked passages out, one list per query (the rollout calls it once per search phase). */
export interface PassageRetriever {
  readonly name: string;
  search(queries: readonly string[], k: number): Promise<RetrievedPassage[][]>;
}

/** Any hit-level Retriever (BM25 now, the dense encoder index later) over a corpus, as a PassageRetriever. */
export function corpusRetriever(retriever: Retriever, corpus: readonly CorpusRecord[]): PassageRetriever {
  return {
    name: retriever.name,
    async search(queries, k) {
      const hits = await retriever.search(queries, k);
      return hits.map((hs) =>
        hs.map((h) => {
          const r = corpus[h.index];
          if (!r) throw new Error(`${retriever.name}: hit ${h.index} is outside the corpus (${corpus.length} passages)`);
          return { id: r.id, contents: r.contents, score: h.score };
        }),
      );
    },
  };
}

export function bm25PassageRetriever(corpus: readonly CorpusRecord[], opts: Bm25Options = {}): PassageRetriever {
  return corpusRetriever(createBm25Retriever(corpus, opts), corpus);
}

/** The kept part of an earlier rollout's response that a continuation starts from. */
export interface RolloutPrefix {
  ids: Int32Array;
  mask: Uint8Array;
  logprobs: Float32Array;
  searches: RolloutSearch[];
  segments: RolloutSegment[];
  /** The earlier rollout's slot names (Rollout.slotNames); the continuation keeps the slots its prompt and prefix use. */
  slotNames?: readonly string[];
}

export interface RolloutQuestion {
  /** Keys the sequence's random stream (with the rollout index). */
  id: string;
  question: string;
  /** Continue after this kept prefix instead of starting the response afresh. */
  prefix?: RolloutPrefix;
  /** Group index reported (and used in the stream key) instead of the rollout index (for groupSize 1). */
  group?: number;
  /** Revision number (regenerations: 1..R); > 0 changes the stream key. */
  revision?: number;
  /** Extra stream key part (e.g. the counterfactual probe's cut and sample). */
  streamTag?: string;
}

export interface RolloutOptions {
  /** Rollouts per question (G). */
  groupSize: number;
  seed: number;
  /** 0: greedy. Default 1. */
  temperature?: number;
  /** Default 1. */
  topP?: number;
  /** Default 4 (MAX_SEARCHES). */
  maxSearches?: number;
  /** Generation turns, invalid ones included (default maxSearches + 2); the last is forced. */
  maxTurns?: number;
  /** Tokens one turn may generate before it counts as an invalid action (default 96). */
  maxTurnTokens?: number;
  /** Passages per search (default 3). */
  topK?: number;
  /** Token budget per sequence, prompt included (default and maximum: model.context). */
  context?: number;
  /** Called after each wave (done, total sequences). */
  onProgress?: (done: number, total: number) => void;
}

export type RolloutFinish = 'answer' | 'no-answer' | 'eos' | 'truncated';

export interface RolloutSegment {
  kind: 'policy' | 'information' | 'invalid';
  /** Token range in `ids`, half-open. */
  start: number;
  end: number;
}

export interface RolloutSearch {
  query: string;
  passages: RetrievedPassage[];
  /** The information block's tokens in `ids` (absent when truncated before insertion). */
  tokens: { start: number; end: number } | null;
}

export interface Rollout {
  questionIndex: number;
  questionId: string;
  question: string;
  /** Rollout index within the group, 0..G-1. */
  group: number;
  /** <bos> + the actor prompt. */
  promptIds: Int32Array;
  /** The response: generated and observation tokens after the prompt. */
  ids: Int32Array;
  /** 1 on tokens the policy generated, 0 on observation tokens (information blocks, invalid-action text). */
  mask: Uint8Array;
  /** Sampling log-probability of each generated token (decoder-cache.ts PickResult), 0 on observation tokens. */
  logprobs: Float32Array;
  segments: RolloutSegment[];
  /** tokenizer.decode(ids, its SlotMap). */
  response: string;
  /** The entity slots' names (policy-tokenizer.ts SlotMap): slot k of promptIds and ids is slotNames[k]; [] without slots. */
  slotNames: string[];
  trajectory: Trajectory;
  /** The trajectory's final answer (extractAnswer of the response), null when none. */
  answer: string | null;
  searches: RolloutSearch[];
  turns: number;
  invalidActions: number;
  /** Continuations: the revision number and how many response tokens came from the prefix. */
  revision?: number;
  prefixLength?: number;
  /** Ended at the context limit. */
  truncated: boolean;
  /** Reached a forced final turn (search disabled). */
  forced: boolean;
  finish: RolloutFinish;
}

export interface RolloutStats {
  sequences: number;
  /** Tokens generated by the policy (mask 1). */
  generatedTokens: number;
  /** Observation tokens inserted. */
  observationTokens: number;
  /** SequenceModel.step calls. */
  steps: number;
  retrieverCalls: number;
  seconds: number;
}

export interface RolloutResult {
  /** Question-major: rollouts[q * G + g]. */
  rollouts: Rollout[];
  stats: RolloutStats;
}

/** Token ids of `text` as it reads after earlier text (its first word keeps its leading-space form). */
export function encodeContinuation(tokenizer: PolicyTokenizer, text: string): Int32Array {
  const ids = tokenizer.encode(`<think>${text}`);
  if (ids[0] !== tokenizer.special.think) throw new Error('encodeContinuation: unexpected tokenization');
  return ids.slice(1);
}

/** Search-R1's action of one turn's text: the first `<search>q</search>` / `<answer>a</answer>`, or null. */
export function parseAction(turn: string): { kind: 'search' | 'answer'; content: string } | null {
  let best: { kind: 'search' | 'answer'; content: string; at: number } | null = null;
  for (const kind of ['search', 'answer'] as const) {
    const open = turn.indexOf(`<${kind}>`);
    if (open < 0) continue;
    const close = turn.indexOf(`</${kind}>`, open + kind.length + 2);
    if (close < 0) continue;
    if (!best || open < best.at) best = { kind, content: pyStrip(turn.slice(open + kind.length + 2, close)), at: open };
  }
  return best ? { kind: best.kind, content: best.content } : null;
}

interface Seq {
  qi: number;
  q: RolloutQuestion;
  g: number;
  slot: number;
  rng: Rng;
  prompt: Int32Array;
  /** Entity slots of this sequence (policy-tokenizer.ts); `slot` is its KV-cache slot. */
  entities: SlotMap;
  ids: number[];
  mask: number[];
  logprobs: number[];
  segments: RolloutSegment[];
  searches: RolloutSearch[];
  /** Tokens to feed at the next step. */
  pending: number[];
  /** Index in ids where the current turn started. */
  turnStart: number;
  turns: number;
  invalid: number;
  forcedTurn: boolean;
  forced: boolean;
  done: boolean;
  finish: RolloutFinish;
  truncated: boolean;
  /** A search waiting for the search phase. */
  query: string | null;
}

/**
 * Generates `groupSize` rollouts for every question with `model` (a KvDecoder, or a test double), searching with
 * `retriever`. Returns them question-major with their token ids, masks, log-probs, parsed trajectories and flags.
 */
export async function rollout(
  model: SequenceModel,
  tokenizer: PolicyTokenizer,
  retriever: PassageRetriever,
  questions: readonly RolloutQuestion[],
  opts: RolloutOptions,
): Promise<RolloutResult> {
  const t0 = performance.now();
  const G = opts.groupSize;
  if (!Number.isInteger(G) || G < 1) throw new Error(`rollout: groupSize must be a positive integer, got ${G}`);
  const temperature = opts.temperature ?? 1;
  const topP = opts.topP ?? 1;
  const maxSearches = opts.maxSearches ?? MAX_SEARCHES;
  const maxTurns = opts.maxTurns ?? maxSearches + 2;
  const maxTurnTokens = opts.maxTurnTokens ?? 96;
  const topK = opts.topK ?? TOP_K;
  const ctx = opts.context ?? model.context;
  if (!(temperature >= 0) || !(topP > 0 && topP <= 1)) throw new Error(`rollout: need temperature >= 0 and topP in (0, 1], got ${temperature}, ${topP}`);
  if (!Number.isInteger(maxSearches) || maxSearches < 0) throw new Error(`rollout: maxSearches must be a non-negative integer, got ${maxSearches}`);
  if (!Number.isInteger(maxTurns) || maxTurns < 1) throw new Error(`rollout: maxTurns must be a positive integer, got ${maxTurns}`);
  if (!Number.isInteger(maxTurnTokens) || maxTurnTokens < 1) throw new Error(`rollout: maxTurnTokens must be a positive integer, got ${maxTurnTokens}`);
  if (!Number.isInteger(ctx) || ctx < 2 || ctx > model.context) throw new Error(`rollout: context must be an integer in 2..${model.context}, got ${ctx}`);
  const sp = tokenizer.special;
  if (model.vocab !== tokenizer.size) throw new Error(`rollout: the model has ${model.vocab} ids, the tokenizer ${tokenizer.size}`);
  const stops = new Set([sp.searchEnd, sp.answerEnd, sp.eos]);
  // The Actor never writes the control prompts or the Meta-Refiner's decisions (nor <pad>/<bos>): their logits are
  // -1e9 on every turn (a warm start trained on all three roles otherwise leaks e.g. <cut_1> into its reasoning).
  const never = [sp.pad, sp.bos, sp.actor, sp.judge, sp.trim, sp.accept, sp.reject, ...sp.cut];
  const ban = [...never, sp.search, sp.searchEnd];
  // With entity slots, the Actor writes only names its sequence has read: the ids of slots not yet given are banned
  // too (lists per number of slots given, built when first needed).
  const slotBans = new Map<string, number[]>();
  const banned = (s: Seq): number[] => {
    const base = s.forcedTurn ? ban : never;
    const given = s.entities.size;
    if (tokenizer.slots === 0 || given >= tokenizer.slots) return base;
    const key = `${s.forcedTurn ? 1 : 0}:${given}`;
    let list = slotBans.get(key);
    if (!list) {
      list = [...base];
      for (let id = tokenizer.slotBase + IDS_PER_SLOT * given; id < tokenizer.size; id++) list.push(id);
      slotBans.set(key, list);
    }
    return list;
  };
  const invalidIds = encodeContinuation(tokenizer, INVALID_ACTION_OBSERVATION);
  const stats: RolloutStats = { sequences: questions.length * G, generatedTokens: 0, observationTokens: 0, steps: 0, retrieverCalls: 0, seconds: 0 };

  const all: Seq[] = [];
  questions.forEach((q, qi) => {
    const promptSlots = new SlotMap();
    const prompt = Int32Array.from([sp.bos, ...tokenizer.encode(actorPrompt(q.question), promptSlots)]);
    const pre = q.prefix;
    if (pre) {
      const n = pre.ids.length;
      if (pre.mask.length !== n || pre.logprobs.length !== n)
        throw new Error(`rollout: prefix of ${q.id} has ${n} ids, ${pre.mask.length} mask entries, ${pre.logprobs.length} log-probs`);
      if (pre.segments.some((sg) => sg.start < 0 || sg.end > n || sg.start >= sg.end)) throw new Error(`rollout: prefix of ${q.id} has a segment outside its ${n} tokens`);
    }
    if (q.group !== undefined && G !== 1) throw new Error(`rollout: question ${q.id} sets group ${q.group}; that needs groupSize 1, got ${G}`);
    for (let g = 0; g < G; g++) {
      const gi = q.group ?? g;
      const key = `rollout:${q.id}:${gi}${q.revision ? `:r${q.revision}` : ''}${q.streamTag ? `:${q.streamTag}` : ''}`;
      const invalid = pre ? pre.segments.filter((sg) => sg.kind === 'invalid').length : 0;
      // Each sequence its own map: the prompt's slots, or the prefix's (the same prompt, then the kept response).
      const slots = pre ? tokenizer.prefixSlots(pre.slotNames ?? [], prompt, pre.ids) : promptSlots.clone();
      all.push({
        qi, q, g: gi, slot: -1, rng: new Rng(streamSeed(opts.seed, key)), prompt, entities: slots,
        ids: pre ? Array.from(pre.ids) : [], mask: pre ? Array.from(pre.mask) : [], logprobs: pre ? Array.from(pre.logprobs) : [],
        segments: pre ? pre.segments.map((sg) => ({ ...sg })) : [], searches: pre ? pre.searches.map((x) => ({ ...x, passages: [...x.passages] })) : [],
        pending: pre ? [...prompt, ...pre.ids] : [...prompt], turnStart: 0,
        // Each observation of the prefix (information or invalid-action text) followed one finished turn.
        turns: pre ? pre.segments.filter((sg) => sg.kind !== 'policy').length : 0, invalid,
        forcedTurn: maxSearches === 0 || maxTurns === 1, forced: false, done: false, finish: 'no-answer', truncated: false, query: null,
      });
    }
  });

  const used = (s: Seq): number => model.length(s.slot);
  const endTruncated = (s: Seq): void => {
    s.done = true;
    s.truncated = true;
    s.finish = 'truncated';
  };
  const pushPolicy = (s: Seq, tok: number, lp: number): void => {
    const last = s.segments.at(-1);
    if (last && last.kind === 'policy' && last.end === s.ids.length) last.end++;
    else s.segments.push({ kind: 'policy', start: s.ids.length, end: s.ids.length + 1 });
    s.ids.push(tok);
    s.mask.push(1);
    s.logprobs.push(lp);
    stats.generatedTokens++;
  };
  /** Queues an observation after the sequence's last token; false (and truncated) when it cannot fit. */
  const observe = (s: Seq, obs: ArrayLike<number>, kind: 'information' | 'invalid'): boolean => {
    const last = s.ids[s.ids.length - 1];
    // The last generated token, the observation, and room for at least one generated token.
    if (used(s) + 1 + obs.length + 1 > ctx) {
      endTruncated(s);
      return false;
    }
    s.segments.push({ kind, start: s.ids.length, end: s.ids.length + obs.length });
    for (let i = 0; i < obs.length; i++) {
      s.ids.push(obs[i]);
      s.mask.push(0);
      s.logprobs.push(0);
    }
    stats.observationTokens += obs.length;
    s.pending = [last, ...Array.from(obs)];
    return true;
  };
  const startTurn = (s: Seq): void => {
    s.turnStart = s.ids.length;
    s.forcedTurn = s.searches.length >= maxSearches || s.turns >= maxTurns - 1;
    if (s.forcedTurn) s.forced = true;
  };

  const S = model.slots;
  for (let w0 = 0; w0 < all.length; w0 += S) {
    const wave = all.slice(w0, w0 + S);
    model.reset(wave.map((_, i) => i));
    wave.forEach((s, i) => {
      s.slot = i;
      if (s.pending.length + 1 > ctx) endTruncated(s);
      else startTurn(s);
    });
    while (wave.some((s) => !s.done)) {
      // ---- generation phase ----
      let gen = wave.filter((s) => !s.done);
      while (gen.length > 0) {
        const chunks: PickChunk[] = [];
        const fed: Seq[] = [];
        for (const s of gen) {
          if (used(s) + s.pending.length + 1 > ctx) {
            endTruncated(s);
            continue;
          }
          chunks.push({ slot: s.slot, ids: s.pending, uniform: temperature > 0 ? s.rng.nextF32() : 0, ban: banned(s) });
          fed.push(s);
        }
        if (chunks.length === 0) break;
        const r = await model.step(chunks, { temperature, topP });
        stats.steps++;
        const next: Seq[] = [];
        fed.forEach((s, i) => {
          const tok = r.tokens[i];
          pushPolicy(s, tok, r.logprobs[i]);
          s.pending = [tok];
          if (!stops.has(tok) && s.ids.length - s.turnStart < maxTurnTokens) next.push(s);
        });
        gen = next;
      }
      // ---- actions ----
      const searching: Seq[] = [];
      for (const s of wave) {
        if (s.done) continue;
        s.turns++;
        const last = s.ids[s.ids.length - 1];
        const action = stops.has(last) ? parseAction(tokenizer.decode(s.ids.slice(s.turnStart), s.entities)) : null;
        if (last === sp.eos) {
          s.done = true;
          s.finish = 'eos';
        } else if (action?.kind === 'answer' && last === sp.answerEnd) {
          s.done = true;
          s.finish = 'answer';
        } else if (s.forcedTurn) {
          s.done = true;
          s.finish = 'no-answer';
        } else if (action?.kind === 'search' && last === sp.searchEnd) {
          s.query = action.content;
          searching.push(s);
        } else {
          s.invalid++;
          if (observe(s, invalidIds, 'invalid')) startTurn(s);
        }
      }
      // ---- search phase: one retriever call for the wave ----
      if (searching.length > 0) {
        const results = await retriever.search(searching.map((s) => s.query ?? ''), topK);
        stats.retrieverCalls++;
        if (results.length !== searching.length)
          throw new Error(`rollout: retriever ${retriever.name} answered ${results.length} lists for ${searching.length} queries`);
        searching.forEach((s, i) => {
          const passages = results[i].slice(0, topK);
          const obs = tokenizer.encode(informationBlock(passages.map((p) => p.contents)), s.entities);
          const start = s.ids.length;
          const ok = observe(s, obs, 'information');
          s.searches.push({ query: s.query ?? '', passages, tokens: ok ? { start, end: start + obs.length } : null });
          s.query = null;
          if (ok) startTurn(s);
        });
      }
    }
    opts.onProgress?.(Math.min(w0 + S, all.length), all.length);
  }

  const rollouts: Rollout[] = all.map((s) => {
    const ids = Int32Array.from(s.ids);
    const response = tokenizer.decode(ids, s.entities);
    const trajectory = parseTrajectory(response);
    return {
      questionIndex: s.qi,
      questionId: s.q.id,
      question: s.q.question,
      group: s.g,
      promptIds: s.prompt,
      ids,
      mask: Uint8Array.from(s.mask),
      logprobs: Float32Array.from(s.logprobs),
      segments: s.segments,
      response,
      slotNames: [...s.entities.names],
      trajectory,
      answer: trajectory.answer,
      searches: s.searches,
      turns: s.turns,
      invalidActions: s.invalid,
      ...(s.q.prefix || s.q.revision ? { revision: s.q.revision ?? 0, prefixLength: s.q.prefix?.ids.length ?? 0 } : {}),
      truncated: s.truncated,
      forced: s.forced,
      finish: s.finish,
    };
  });
  stats.seconds = (performance.now() - t0) / 1000;
  return { rollouts, stats };
}
