// Supervised warm-start data for the three roles that share the policy (DESIGN 6, "SFT on scripted
// demonstrations for Actor, Discriminator and Trimmer"), as token ids with token-level loss masks:
// - Actor: <bos> + actor prompt + the expert's good response. Loss on the policy's own tokens only: the prompt and
//   every observation token (`<information>` ... `</information>`, tags included: Search-R1's state masking) are
//   masked out.
// - Discriminator: <bos> + judge prompt over a full response + the decision token: <accept> for a good
//   demonstration, <reject> for a flawed variant; balanced (the larger side is subsampled, seeded).
// - Trimmer: <bos> + trim prompt over a flawed response + <cut_k>, k = the number of sound steps before its
//   earliest flawed step.
// Deterministic by seed: each question draws from its own stream (seed, question id), so a subset of questions
// gives the same examples for the questions it keeps.
import { Rng } from '../engine/rng.ts';
import { passagesToString } from '../retrieval/format.ts';
import { PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';
import { buildPolicyVocab, MAX_CUT, type VocabBuildOptions } from '../text/policy-vocab.ts';
import { shuffle, streamSeed } from '../world/random.ts';
import type { CorpusRecord, Question } from '../world/types.ts';
import { EXPERT_TEMPLATE_TEXTS, executePlan, type Demonstration, type ExpertContext, type Plan, planQuestion } from './expert.ts';
import { actorPrefixes, type ActorText, NameSource, type Renamer, renamedActorText, WorldNameSource } from './copy-augment.ts';
import { FLAW_TEMPLATE_TEXTS, type FlawKind, flawedVariants, type FlawedTrajectory } from './flaws.ts';
import { actorPrompt, judgePrompt, PROMPT_TEMPLATE_TEXTS, questionText, trimPrompt } from './prompts.ts';
import type { TextSpan } from './trajectory.ts';

/** Every template text of the agent (prompts, observations, the expert's and the flaws' phrases). */
export const POLICY_TEMPLATE_TEXTS: readonly string[] = [...PROMPT_TEMPLATE_TEXTS, ...EXPERT_TEMPLATE_TEXTS, ...FLAW_TEMPLATE_TEXTS];

/**
 * The texts a world's policy vocabulary is counted over, each in the context the policy sees it in (so that words
 * get the space flag they will have): passages as an information block shows them, questions after "Question:",
 * gold answers inside <answer>.
 */
export function* worldVocabTexts(corpus: readonly CorpusRecord[], questions: readonly Question[]): Generator<string> {
  for (const r of corpus) yield passagesToString([r.contents]);
  for (const q of questions) {
    yield `Question: ${questionText(q.question)}`;
    for (const a of q.golden_answers) yield `<answer> ${a} </answer>`;
  }
}

/** Words that open at least `min` questions (Which, What, How, ...): with slots, never names. */
export function questionOpeners(questions: readonly Question[], min = 50): string[] {
  const n = new Map<string, number>();
  for (const q of questions) {
    const m = /^\s*([\p{L}\p{M}]+)/u.exec(q.question);
    if (m) n.set(m[1], (n.get(m[1]) ?? 0) + 1);
  }
  return [...n].filter(([, c]) => c >= min).map(([w]) => w).sort();
}

/**
 * The policy tokenizer of a world (see policy-vocab.ts; default at most 8000 ids). With `slots`, names are told by
 * the passages (their proper nouns), less the words many questions open with.
 */
export function buildWorldTokenizer(corpus: readonly CorpusRecord[], questions: readonly Question[], opts: VocabBuildOptions = {}): PolicyTokenizer {
  const o = opts.slots
    ? { ...opts, nameTexts: opts.nameTexts ?? corpus.map((r) => r.contents), slotExempt: [...(opts.slotExempt ?? []), ...questionOpeners(questions)] }
    : opts;
  return new PolicyTokenizer(buildPolicyVocab(worldVocabTexts(corpus, questions), POLICY_TEMPLATE_TEXTS, o));
}

function renamerFor(kind: 'fresh' | 'world', tokenizer: PolicyTokenizer, plans: readonly (Plan | null)[]): Renamer {
  if (kind === 'fresh') return new NameSource(tokenizer);
  if (kind !== 'world') throw new RangeError(`buildSftData: copyNames must be fresh or world, got ${String(kind)}`);
  return new WorldNameSource(plans.filter((p): p is Plan => p !== null));
}

/** The three roles of the shared policy (DESIGN 4.2). */
export type TaskRole = 'actor' | 'judge' | 'trim';
/** What an SFT example trains: one of the roles, or language modelling over the corpus (corpus-lm.ts). */
export type SftRole = TaskRole | 'corpus';

export interface SftExample {
  role: SftRole;
  questionId: string;
  ids: Int32Array;
  /** 1 where the loss applies: the Actor's own response tokens; the decision token of the judge and trim roles; every corpus token. */
  mask: Uint8Array;
  /** Tokens before the response (actor) or before the decision token (judge, trim). */
  promptLength: number;
  /** The decision token (judge: <accept>/<reject>, trim: <cut_k>), null for the Actor. */
  target: number | null;
  /** 'good' for the expert's trajectory, else the flaw. */
  label: 'good' | FlawKind;
  /** The trajectory's final answer is right (exact match). */
  correct: boolean;
  /** Trim: the cut k; judge of a flawed trajectory: its cut too; else null. */
  cut: number | null;
}

/**
 * Token ids of a response and its loss mask: 0 on tokens that start inside one of the observation spans. `slots`:
 * the sequence's entity slots (its prompt's), extended in place.
 */
export function encodeResponse(tokenizer: PolicyTokenizer, response: string, observations: readonly TextSpan[], slots: SlotMap): { ids: Int32Array; mask: Uint8Array } {
  const enc = tokenizer.encodeWithOffsets(response, slots);
  const mask = new Uint8Array(enc.ids.length);
  for (let i = 0; i < enc.ids.length; i++) {
    const s = enc.starts[i];
    mask[i] = observations.some((o) => s >= o.start && s < o.end) ? 0 : 1;
  }
  return { ids: enc.ids, mask };
}

function concat(parts: readonly ArrayLike<number>[]): Int32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The Actor example of a demonstration; `text` replaces its question and response (copy augmentation). */
export function actorExample(tokenizer: PolicyTokenizer, demo: Demonstration, text?: ActorText): SftExample {
  const slots = new SlotMap();
  const prompt = tokenizer.encode(actorPrompt(text?.question ?? demo.question.question), slots);
  const resp = encodeResponse(tokenizer, text?.response ?? demo.response, text?.observations ?? demo.observations, slots);
  const promptLength = 1 + prompt.length;
  const ids = concat([[tokenizer.special.bos], prompt, resp.ids]);
  const mask = new Uint8Array(ids.length);
  mask.set(resp.mask, promptLength);
  return { role: 'actor', questionId: demo.question.id, ids, mask, promptLength, target: null, label: 'good', correct: demo.correct, cut: null };
}

function decisionExample(
  role: 'judge' | 'trim',
  tokenizer: PolicyTokenizer,
  q: Question,
  prompt: string,
  target: number,
  label: 'good' | FlawKind,
  correct: boolean,
  cut: number | null,
): SftExample {
  const ids = concat([[tokenizer.special.bos], tokenizer.encode(prompt), [target]]);
  const mask = new Uint8Array(ids.length);
  mask[ids.length - 1] = 1;
  return { role, questionId: q.id, ids, mask, promptLength: ids.length - 1, target, label, correct, cut };
}

export function judgeExample(tokenizer: PolicyTokenizer, t: Demonstration | FlawedTrajectory): SftExample {
  const flawed = 'kind' in t;
  const target = flawed ? tokenizer.special.reject : tokenizer.special.accept;
  return decisionExample('judge', tokenizer, t.question, judgePrompt(t.question.question, t.response), target, flawed ? t.kind : 'good', t.correct, flawed ? t.cut : null);
}

export function trimExample(tokenizer: PolicyTokenizer, f: FlawedTrajectory): SftExample {
  if (f.cut < 0 || f.cut > MAX_CUT || f.cut > f.steps.length) throw new RangeError(`trimExample: cut ${f.cut} is not valid for ${f.steps.length} steps`);
  return decisionExample('trim', tokenizer, f.question, trimPrompt(f.question.question, f.response), tokenizer.special.cut[f.cut], f.kind, f.correct, f.cut);
}

export interface SftBuildOptions {
  tokenizer: PolicyTokenizer;
  ctx: ExpertContext;
  /** The questions to build from (e.g. the training splits' train parts). */
  questions: readonly Question[];
  seed: number;
  /** Flawed variants per question (default 1). */
  flawsPerQuestion?: number;
  /**
   * Share of the Actor examples whose plan names are replaced by fresh ones (copy-augment.ts; default 0). Drawn per
   * question from its own stream, so it does not change the judge and trim examples.
   */
  copyRate?: number;
  /**
   * With each renamed Actor example, also its two prefixes (copy-augment.ts actorPrefixes): up to the first
   * `</search>` (the question's name copied into the think and the query) and up to the think after the first
   * observation (the next name copied from a passage). Short examples, so more copying is trained per token.
   */
  copyPrefixes?: boolean;
  /**
   * Where the renamed examples' names come from: 'fresh' (default) random vocabulary words and letter strings;
   * 'world' real names playing the same role in another of `questions`' plans (counterfactual facts, copy-augment.ts
   * WorldNameSource).
   */
  copyNames?: 'fresh' | 'world';
  onProgress?: (done: number, total: number) => void;
}

export interface SftStats {
  questions: number;
  /** Questions whose relations the expert has no plan for. */
  unsupported: number;
  /** Demonstrations whose every hop found its supporting passage (the good ones). */
  good: number;
  /** Actor examples with renamed plan names (copy augmentation). */
  renamed: number;
  flawed: Record<FlawKind, number>;
  flawedCorrect: Record<FlawKind, number>;
  /** Trimmer targets: how many examples per cut k. */
  cuts: number[];
  judge: { accept: number; reject: number; droppedForBalance: number };
  tokens: Record<TaskRole, { examples: number; mean: number; max: number; total: number; trained: number }>;
}

export interface SftData {
  seed: number;
  tokenizerHash: string;
  actor: SftExample[];
  judge: SftExample[];
  trim: SftExample[];
  stats: SftStats;
}

const zeroKinds = (): Record<FlawKind, number> => ({ lookalike: 0, vague: 0, redundant: 0, early: 0 });

function tokenStats(xs: readonly SftExample[]): SftStats['tokens'][TaskRole] {
  let total = 0;
  let max = 0;
  let trained = 0;
  for (const x of xs) {
    total += x.ids.length;
    max = Math.max(max, x.ids.length);
    for (let i = 0; i < x.mask.length; i++) trained += x.mask[i];
  }
  return { examples: xs.length, mean: xs.length ? total / xs.length : 0, max, total, trained };
}

/** Runs the expert over the questions and builds the three SFT sets (see the header). */
export async function buildSftData(opts: SftBuildOptions): Promise<SftData> {
  const { tokenizer, ctx, questions, seed } = opts;
  const count = opts.flawsPerQuestion ?? 1;
  const actor: SftExample[] = [];
  const accepts: SftExample[] = [];
  const rejects: SftExample[] = [];
  const trim: SftExample[] = [];
  const flawed = zeroKinds();
  const flawedCorrect = zeroKinds();
  const cuts = new Array<number>(MAX_CUT + 1).fill(0);
  let unsupported = 0;
  let good = 0;
  let renamed = 0;
  const copyRate = opts.copyRate ?? 0;
  if (!(copyRate >= 0 && copyRate <= 1)) throw new RangeError(`buildSftData: copyRate must be in [0, 1], got ${copyRate}`);
  const plans = questions.map((q) => planQuestion(q, ctx.view));
  const names: Renamer | null = copyRate > 0 ? renamerFor(opts.copyNames ?? 'fresh', tokenizer, plans) : null;
  for (let qi = 0; qi < questions.length; qi++) {
    const q = questions[qi];
    opts.onProgress?.(qi, questions.length);
    const plan = plans[qi];
    if (!plan) {
      unsupported++;
      continue;
    }
    const rng = new Rng(streamSeed(seed, `sft:${q.id}`));
    const demo = await executePlan(plan, ctx.search, ctx.pool, rng);
    if (!demo.found || !demo.correct) continue;
    good++;
    const copyRng = new Rng(streamSeed(seed, `sft-copy:${q.id}`));
    if (names && copyRng.next() < copyRate) {
      const x = actorExample(tokenizer, demo, renamedActorText(demo, names, copyRng));
      actor.push(x);
      if (opts.copyPrefixes) actor.push(...actorPrefixes(x, tokenizer.special));
      renamed++;
    } else actor.push(actorExample(tokenizer, demo));
    accepts.push(judgeExample(tokenizer, demo));
    for (const f of await flawedVariants(demo, ctx, rng, { count })) {
      flawed[f.kind]++;
      if (f.correct) flawedCorrect[f.kind]++;
      rejects.push(judgeExample(tokenizer, f));
      if (f.cut <= MAX_CUT) {
        trim.push(trimExample(tokenizer, f));
        cuts[f.cut]++;
      }
    }
  }
  opts.onProgress?.(questions.length, questions.length);
  const rng = new Rng(streamSeed(seed, 'sft:judge-balance'));
  const n = Math.min(accepts.length, rejects.length);
  const judge = shuffle(rng, [...shuffle(rng, accepts).slice(0, n), ...shuffle(rng, rejects).slice(0, n)]);
  return {
    seed,
    tokenizerHash: tokenizer.hash,
    actor,
    judge,
    trim,
    stats: {
      questions: questions.length,
      unsupported,
      good,
      renamed,
      flawed,
      flawedCorrect,
      cuts,
      judge: { accept: n, reject: n, droppedForBalance: accepts.length + rejects.length - 2 * n },
      tokens: { actor: tokenStats(actor), judge: tokenStats(judge), trim: tokenStats(trim) },
    },
  };
}
