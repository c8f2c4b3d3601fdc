// Evaluation of a policy (DESIGN 9, `cli eval`): the Actor with greedy decoding (temperature 0) through the batched
// rollout engine over a retriever (BM25 top-3 by default), and the Meta-Refiner roles on held-out labelled
// trajectories.
//
// Actor metrics per question set: EM and F1 of the final answer (SQuAD normalization, max over gold answers; no
// answer scores 0), format validity, searches per question, and how sequences ended. A trajectory is
// **format-valid** when parseTrajectory finds no issue (tags well-formed, exactly one complete answer, nothing after
// it), the engine inserted no invalid-action observation, and it was not truncated at the context limit.
// The no-retrieval baseline (`noRetrieval()`): the same policy whose searches return no passage (an empty
// information block), so it answers from its weights alone.
//
// Refiner metrics (evaluateRefiner) on labelled examples from sft-data.ts built from questions the policy never
// trained on (the dev parts): Discriminator accuracy with alpha = P(<accept>) / (P(<accept>) + P(<reject>)) from
// the next-token logits after the judge prompt, accepting when alpha >= tau (0.5); Trimmer exact-cut accuracy with
// the argmax over the valid cuts <cut_0>..<cut_min(K, 4)> of the trajectory's K steps.
import { Tape } from '../engine/tape.ts';
import { KvDecoder } from '../model/decoder-cache.ts';
import type { Transformer } from '../model/transformer.ts';
import { exactMatch, f1Score } from '../reward/em.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import { MAX_CUT } from '../text/policy-vocab.ts';
import type { Question } from '../world/types.ts';
import { type PassageRetriever, rollout, type Rollout } from './rollout.ts';
import type { SftExample } from './sft-data.ts';

export interface ActorEvalOptions {
  seed?: number;
  /** Sequences decoded together (default 16). */
  slots?: number;
  /** Decoder weights (default 'fp32': the cpu backend has no WASM int8 kernel yet). */
  weights?: 'fp32' | 'int8';
  /** Sampling temperature (default 0: greedy, as the paper evaluates); above 0 the rollouts are sampled from `seed`. */
  temperature?: number;
  /** Nucleus mass when sampling (default 1: the whole distribution). */
  topP?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ActorEvalResult {
  n: number;
  em: number;
  f1: number;
  format_valid: number;
  /** Mean searches per question. */
  searches: number;
  /** Share of questions with a final answer. */
  answered: number;
  truncated: number;
  /** Mean invalid actions per question. */
  invalid_actions: number;
  /** Mean policy-generated tokens per question. */
  generated_tokens: number;
  seconds: number;
}

export interface ActorEvalRow {
  id: string;
  question: string;
  golden: string[];
  answer: string | null;
  em: 0 | 1;
  f1: number;
  formatValid: boolean;
  searches: number;
  finish: Rollout['finish'];
  /** The response text (generated and observation tokens). */
  response: string;
}

/** Format validity of one rollout (see the header). */
export function rolloutFormatValid(r: Rollout): boolean {
  return r.trajectory.valid && r.invalidActions === 0 && !r.truncated;
}

/** A retriever that finds nothing (the no-retrieval baseline). */
export function noRetrieval(): PassageRetriever {
  return { name: 'none', search: async (queries) => queries.map(() => []) };
}

/** Greedy rollouts of the policy on `questions` and their metrics (see the header). */
export async function evaluateActor(
  model: Transformer,
  tokenizer: PolicyTokenizer,
  retriever: PassageRetriever,
  questions: readonly Question[],
  opts: ActorEvalOptions = {},
): Promise<{ result: ActorEvalResult; rows: ActorEvalRow[] }> {
  const t0 = performance.now();
  const slots = Math.max(1, Math.min(opts.slots ?? 16, questions.length));
  const dec = await KvDecoder.create(model, { slots, weights: opts.weights ?? 'fp32' });
  let rolls: Rollout[];
  try {
    const out = await rollout(dec, tokenizer, retriever, questions.map((q) => ({ id: q.id, question: q.question })), {
      groupSize: 1,
      seed: opts.seed ?? 0,
      temperature: opts.temperature ?? 0,
      ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    rolls = out.rollouts;
  } finally {
    dec.dispose();
  }
  const rows: ActorEvalRow[] = rolls.map((r, i) => {
    const q = questions[i];
    const a = r.answer;
    return {
      id: q.id,
      question: q.question,
      golden: q.golden_answers,
      answer: a,
      em: a === null ? 0 : exactMatch(a, q.golden_answers),
      f1: a === null ? 0 : f1Score(a, q.golden_answers),
      formatValid: rolloutFormatValid(r),
      searches: r.searches.length,
      finish: r.finish,
      response: r.response,
    };
  });
  const n = rows.length;
  const mean = (f: (i: number) => number): number => (n === 0 ? 0 : rows.reduce((s, _, i) => s + f(i), 0) / n);
  let generated = 0;
  for (const r of rolls) for (let i = 0; i < r.mask.length; i++) generated += r.mask[i];
  return {
    result: {
      n,
      em: mean((i) => rows[i].em),
      f1: mean((i) => rows[i].f1),
      format_valid: mean((i) => (rows[i].formatValid ? 1 : 0)),
      searches: mean((i) => rows[i].searches),
      answered: mean((i) => (rows[i].answer === null ? 0 : 1)),
      truncated: mean((i) => (rolls[i].truncated ? 1 : 0)),
      invalid_actions: mean((i) => rolls[i].invalidActions),
      generated_tokens: n === 0 ? 0 : generated / n,
      seconds: (performance.now() - t0) / 1000,
    },
    rows,
  };
}

/**
 * Next-token logits after each prompt (ids of the example without its final decision token), restricted to
 * `columns`: one row of `columns.length` values per example. Batched by padded tokens.
 */
export async function decisionLogits(model: Transformer, examples: readonly SftExample[], columns: readonly number[], tokenBudget = 4096): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array<Float32Array>(examples.length);
  const order = examples.map((x, i) => ({ x, i })).sort((a, b) => b.x.ids.length - a.x.ids.length || a.i - b.i);
  const V = model.config.vocab;
  for (const c of columns) if (!(c >= 0 && c < V)) throw new Error(`decisionLogits: column ${c} is outside the vocabulary (${V})`);
  let at = 0;
  while (at < order.length) {
    const t = order[at].x.ids.length - 1;
    if (t > model.config.context) throw new Error(`decisionLogits: a prompt of ${t} tokens exceeds the context (${model.config.context})`);
    const batch = order.slice(at, at + Math.max(1, Math.floor(tokenBudget / Math.max(1, t))));
    at += batch.length;
    const B = batch.length;
    const ids = new Int32Array(B * t);
    const keyLengths = new Int32Array(B);
    const rows = new Int32Array(B);
    batch.forEach(({ x }, b) => {
      const len = x.ids.length - 1;
      ids.set(x.ids.subarray(0, len), b * t);
      keyLengths[b] = len;
      rows[b] = b * t + len - 1;
    });
    const tape = new Tape(model.ops);
    try {
      const logits = model.forward(tape, ids, B, t, { keyLengths, rows });
      const host = await model.ops.readF32(logits.value);
      batch.forEach(({ i }, b) => {
        out[i] = Float32Array.from(columns, (c) => host[b * V + c]);
      });
    } finally {
      tape.dispose();
    }
  }
  return out;
}

export interface RefinerEvalResult {
  judge: {
    n: number;
    accuracy: number;
    /** Accuracy on good (accept) and flawed (reject) trajectories. */
    accuracy_good: number;
    accuracy_flawed: number;
    mean_alpha_good: number;
    mean_alpha_flawed: number;
    tau: number;
    /** Accuracy per flaw kind (and 'good'). */
    by_label: Record<string, { n: number; accuracy: number }>;
  };
  trim: {
    n: number;
    exact_cut: number;
    /** Exact-cut accuracy per target cut k. */
    by_cut: Record<string, { n: number; accuracy: number }>;
    /** Share of the most frequent target cut (the majority-class baseline). */
    majority_baseline: number;
  };
  seconds: number;
}

/** Discriminator alpha per judge example: P(accept) / (P(accept) + P(reject)). */
export async function judgeAlphas(model: Transformer, tokenizer: PolicyTokenizer, judge: readonly SftExample[]): Promise<number[]> {
  const sp = tokenizer.special;
  const logits = await decisionLogits(model, judge, [sp.accept, sp.reject]);
  return logits.map(([a, r]) => 1 / (1 + Math.exp(r - a)));
}

/** Trimmer's cut per trim example: argmax over <cut_0>..<cut_min(K, MAX_CUT)>, K = the trajectory's steps. */
export async function trimCuts(model: Transformer, tokenizer: PolicyTokenizer, trim: readonly SftExample[], validMax: readonly number[]): Promise<number[]> {
  const logits = await decisionLogits(model, trim, tokenizer.special.cut.slice(0, MAX_CUT + 1));
  return logits.map((l, i) => {
    const top = Math.min(validMax[i], MAX_CUT);
    let best = 0;
    for (let k = 1; k <= top; k++) if (l[k] > l[best]) best = k;
    return best;
  });
}

/**
 * Discriminator and Trimmer accuracy on labelled examples (judge: target <accept>/<reject>; trim: target <cut_k>).
 * `trimSteps[i]` is the number of search steps of trim example i's trajectory (its valid cuts are 0..min(K, 4)).
 */
export async function evaluateRefiner(
  model: Transformer,
  tokenizer: PolicyTokenizer,
  judge: readonly SftExample[],
  trim: readonly SftExample[],
  trimSteps: readonly number[],
  tau = 0.5,
): Promise<RefinerEvalResult> {
  const t0 = performance.now();
  if (trimSteps.length !== trim.length) throw new Error(`evaluateRefiner: ${trim.length} trim examples but ${trimSteps.length} step counts`);
  const sp = tokenizer.special;
  const alphas = await judgeAlphas(model, tokenizer, judge);
  const byLabel: Record<string, { n: number; ok: number }> = {};
  let ok = 0;
  const good = { n: 0, ok: 0, alpha: 0 };
  const bad = { n: 0, ok: 0, alpha: 0 };
  judge.forEach((x, i) => {
    const isGood = x.target === sp.accept;
    if (!isGood && x.target !== sp.reject) throw new Error(`evaluateRefiner: judge example ${x.questionId} has target ${x.target}, not <accept>/<reject>`);
    const right = (alphas[i] >= tau) === isGood;
    ok += right ? 1 : 0;
    const s = isGood ? good : bad;
    s.n++;
    s.ok += right ? 1 : 0;
    s.alpha += alphas[i];
    const l = (byLabel[x.label] ??= { n: 0, ok: 0 });
    l.n++;
    l.ok += right ? 1 : 0;
  });
  const cuts = await trimCuts(model, tokenizer, trim, trimSteps);
  const byCut: Record<string, { n: number; ok: number }> = {};
  let exact = 0;
  trim.forEach((x, i) => {
    const k = sp.cut.indexOf(x.target ?? -1);
    if (k < 0) throw new Error(`evaluateRefiner: trim example ${x.questionId} has target ${x.target}, not a <cut_k>`);
    const right = cuts[i] === k;
    exact += right ? 1 : 0;
    const c = (byCut[String(k)] ??= { n: 0, ok: 0 });
    c.n++;
    c.ok += right ? 1 : 0;
  });
  const rate = (a: number, n: number): number => (n === 0 ? 0 : a / n);
  const table = (m: Record<string, { n: number; ok: number }>): Record<string, { n: number; accuracy: number }> =>
    Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { n: v.n, accuracy: rate(v.ok, v.n) }]));
  const majority = Math.max(0, ...Object.values(byCut).map((c) => c.n));
  return {
    judge: {
      n: judge.length,
      accuracy: rate(ok, judge.length),
      accuracy_good: rate(good.ok, good.n),
      accuracy_flawed: rate(bad.ok, bad.n),
      mean_alpha_good: rate(good.alpha, good.n),
      mean_alpha_flawed: rate(bad.alpha, bad.n),
      tau,
      by_label: table(byLabel),
    },
    trim: { n: trim.length, exact_cut: rate(exact, trim.length), by_cut: table(byCut), majority_baseline: rate(majority, trim.length) },
    seconds: (performance.now() - t0) / 1000,
  };
}
