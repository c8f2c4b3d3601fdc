// Evaluation as the paper deploys (issue 6): the Actor alone, greedy, one rollout per question, EM/F1 of its answer
// per split. Option `refiner: true` runs the Meta-Refiner live as well (Discriminator with threshold tau, Trimmer
// argmax, one greedy regeneration) and reports what it costs: extra seconds and generated tokens.
import { rollout, type PassageRetriever, type Rollout } from '../agent/rollout.ts';
import type { Backend } from '../engine/types.ts';
import { KvDecoder } from '../model/decoder-cache.ts';
import type { Transformer } from '../model/transformer.ts';
import { exactMatch, f1Score } from '../reward/em.ts';
import type { PolicyTokenizer } from '../text/policy-tokenizer.ts';
import type { Part, SplitName, SplitQuestions } from '../world/types.ts';
import { SPLITS } from '../world/types.ts';

export interface EvalContext {
  backend: Backend;
  policy: Transformer;
  tokenizer: PolicyTokenizer;
  retriever: PassageRetriever;
}

export interface EvalOptions {
  splits?: readonly SplitName[];
  part: Part;
  /** Questions per split (the first N). */
  limit: number;
  topK?: number;
  maxTurnTokens?: number;
  weights?: 'int8' | 'fp32';
  /** Run the Meta-Refiner live (judge with tau, argmax cut, one greedy regeneration). */
  refiner?: boolean;
  tau?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SplitEval {
  split: SplitName;
  n: number;
  em: number;
  f1: number;
  formatValid: number;
  searches: number;
}

export interface EvalResult {
  splits: Partial<Record<SplitName, SplitEval>>;
  /** Per question id: the final rollout (for the quality report). */
  rollouts: Map<string, Rollout>;
  seconds: number;
  tokens: number;
  /** With `refiner`: what the live refiner cost. */
  refiner: { rejected: number; seconds: number; tokens: number } | null;
}

/**
 * Sequences decoded together. Each slot holds a KV cache for the whole context, and this decoder lives beside the
 * trainer's own; 32 slots took the cpu (WASM, 4 GiB) backend out of memory in a `small` run's dev evaluation.
 */
const EVAL_SLOTS = 16;

const policyTokens = (r: Rollout): number => r.mask.reduce((a, b) => a + b, 0);

export async function evaluatePolicy(ctx: EvalContext, questions: SplitQuestions, opts: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const splits = opts.splits ?? SPLITS;
  const items = splits.flatMap((s) => questions[s][opts.part].slice(0, opts.limit).map((q) => ({ split: s, q })));
  const result: EvalResult = { splits: {}, rollouts: new Map(), seconds: 0, tokens: 0, refiner: null };
  if (items.length === 0) return result;
  const weights = opts.weights ?? (ctx.backend.kind === 'cpu' ? 'fp32' : 'int8');
  const dec = await KvDecoder.create(ctx.policy, { slots: Math.min(EVAL_SLOTS, items.length), weights });
  const ropts = { groupSize: 1, seed: 0, temperature: 0, topK: opts.topK ?? 3, maxTurnTokens: opts.maxTurnTokens ?? 96 };
  try {
    const res = await rollout(dec, ctx.tokenizer, ctx.retriever, items.map(({ q }) => ({ id: q.id, question: q.question })), { ...ropts, onProgress: opts.onProgress });
    let finals = res.rollouts;
    result.tokens = finals.reduce((a, r) => a + policyTokens(r), 0);
    if (opts.refiner) {
      const t1 = performance.now();
      const { judgeTrajectories, decide } = await import('../refiner/discriminator.ts');
      const { trimTrajectories, chooseCut } = await import('../refiner/trimmer.ts');
      const { regenerate, keptTokenCount } = await import('../refiner/regenerate.ts');
      const judged = await judgeTrajectories(ctx.backend.ops, ctx.policy, ctx.tokenizer, finals.map((r) => ({ question: r.question, response: r.response })));
      const rejected = finals.map((_, i) => i).filter((i) => !decide(judged[i].alpha, { tau: opts.tau ?? 0.5 }).accept);
      const trims = rejected.length ? await trimTrajectories(ctx.backend.ops, ctx.policy, ctx.tokenizer, rejected.map((i) => ({ question: finals[i].question, response: finals[i].response }))) : [];
      const cuts = trims.map((t) => chooseCut(t.probs, 'argmax'));
      const regen = await regenerate(dec, ctx.tokenizer, ctx.retriever, rejected.map((i, j) => ({ rollout: finals[i], cut: cuts[j], revision: 1 })), ropts);
      let tokens = 0;
      finals = [...finals];
      rejected.forEach((i, j) => {
        const kept = keptTokenCount(finals[i], cuts[j], ctx.tokenizer);
        tokens += regen[j].mask.subarray(kept).reduce((a, b) => a + b, 0);
        finals[i] = regen[j];
      });
      result.refiner = { rejected: rejected.length, seconds: (performance.now() - t1) / 1000, tokens };
    }
    const acc = new Map<SplitName, { n: number; em: number; f1: number; valid: number; searches: number }>();
    items.forEach(({ split, q }, i) => {
      const r = finals[i];
      result.rollouts.set(q.id, r);
      const a = acc.get(split) ?? { n: 0, em: 0, f1: 0, valid: 0, searches: 0 };
      a.n++;
      a.em += r.answer === null ? 0 : exactMatch(r.answer, q.golden_answers);
      a.f1 += r.answer === null ? 0 : f1Score(r.answer, q.golden_answers);
      a.valid += r.trajectory.valid ? 1 : 0;
      a.searches += r.searches.length;
      acc.set(split, a);
    });
    for (const [split, a] of acc)
      result.splits[split] = { split, n: a.n, em: a.em / a.n, f1: a.f1 / a.n, formatValid: a.valid / a.n, searches: a.searches / a.n };
  } finally {
    dec.dispose();
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

/** The paper's grouping: general QA (NQ, TriviaQA, PopQA) and multi-hop QA (HotpotQA, 2Wiki, Musique, Bamboogle). */
export const GENERAL_SPLITS: readonly SplitName[] = ['nq', 'triviaqa', 'popqa'];
export const MULTIHOP_SPLITS: readonly SplitName[] = ['hotpotqa', '2wiki', 'musique', 'bamboogle'];
