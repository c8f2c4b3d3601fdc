// Recovery examples for the Actor (DAgger, Ross et al. 2011): the expert's continuation from states the *policy*
// reached. Plain SFT only shows the expert's own states; a policy that makes one mistake (a wrong name in a query,
// a malformed turn) is then somewhere it never trained on and often degenerates (repeats a tag pair until the turn
// limit, answers with a memorized entity). Here the policy is rolled out on training questions, and at each turn
// boundary that follows its first deviation from the expert, the state (prompt + the policy's response so far,
// its own tokens and the observations it got) becomes the prefix of an Actor example, masked from the loss, and
// the target is what the expert does from there: the hops it has not completed yet (below), each as a think +
// search with the expert's query and the passages that query retrieves (observations masked as usual), then the
// final think and answer.
//
// The expert's decision at a state, for a plan of hops h_1..h_n: going through the prefix's searches in order, each
// search completes the next hop when that hop's supporting passage has been retrieved by then (one hop per search,
// as on the expert's own trajectory); the next hop not completed is searched next (the think states the fact of the
// hop before it), and when all are completed, the final think and answer. States where the searches are used up
// (the engine forces an answer) while a hop is still missing are skipped: the expert would have to guess.
import { Rng } from '../engine/rng.ts';
import { KvDecoder } from '../model/decoder-cache.ts';
import type { Transformer } from '../model/transformer.ts';
import { type PolicyTokenizer, SlotMap } from '../text/policy-tokenizer.ts';
import { streamSeed } from '../world/random.ts';
import type { Question } from '../world/types.ts';
import { type Demonstration, executePlan, type ExpertContext, planQuestion, renderResponse } from './expert.ts';
import { MAX_SEARCHES } from './prompts.ts';
import { type PassageRetriever, rollout, type Rollout } from './rollout.ts';
import { encodeResponse, type SftExample } from './sft-data.ts';

/** What the expert writes from one state of a rollout. */
export interface ExpertContinuation {
  /** The first hop (0-based) still to search; plan.hops.length when only the answer is left. */
  hop: number;
  response: string;
  observations: { start: number; end: number }[];
}

/** The passage ids of each search whose information block ends before response token `at`, in order. */
export function searchesBefore(roll: Rollout, at: number): string[][] {
  return roll.searches.filter((s) => s.tokens && s.tokens.end <= at).map((s) => s.passages.map((p) => p.id));
}

/**
 * Hops of the plan done after these searches, as the expert counts its own: one hop per search at most, hop i done
 * when its passage is among everything retrieved so far (on the expert's own trajectory: hop i by search i).
 */
export function hopsDone(demo: Demonstration, searches: readonly (readonly string[])[]): number {
  const seen = new Set<string>();
  let i = 0;
  for (const s of searches) {
    for (const id of s) seen.add(id);
    if (i < demo.plan.hops.length && seen.has(demo.plan.hops[i].target)) i++;
  }
  return i;
}

/** The expert's continuation from a state reached by `searches` (passage ids of each search, in order). */
export function expertContinuation(demo: Demonstration, searches: readonly (readonly string[])[], maxSearches = MAX_SEARCHES): ExpertContinuation | null {
  if (!demo.found || !demo.correct) return null;
  const hop = hopsDone(demo, searches);
  const left = demo.plan.hops.length - hop;
  if (left > 0 && searches.length + left > maxSearches) return null;
  const r = renderResponse(demo.steps.slice(hop), { think: demo.finalThink, answer: demo.answer });
  return { hop, response: r.response, observations: r.observations };
}

export interface RecoveryOptions {
  /** Most examples taken from one rollout (default 2): the first boundaries after its deviation. */
  maxPerRollout?: number;
}

export interface RecoveryStats {
  rollouts: number;
  /** Rollouts whose policy turns all matched the expert's (no example from them). */
  onExpert: number;
  examples: number;
  /** Boundaries skipped because the searches were used up with a passage still missing. */
  skippedForced: number;
}

/** Recovery examples of one rollout against the expert's demonstration of the same question (see the header). */
export function recoveryExamples(tokenizer: PolicyTokenizer, roll: Rollout, demo: Demonstration, opts: RecoveryOptions = {}, stats?: RecoveryStats): SftExample[] {
  if (roll.questionId !== demo.question.id) throw new Error(`recoveryExamples: rollout of ${roll.questionId} against the demonstration of ${demo.question.id}`);
  const max = opts.maxPerRollout ?? 2;
  const turns = roll.segments.filter((s) => s.kind === 'policy');
  const out: SftExample[] = [];
  if (stats) stats.rollouts++;
  let deviated = false;
  for (const turn of turns) {
    const want = expertContinuation(demo, searchesBefore(roll, turn.start));
    if (!deviated) {
      // The policy's turn against the expert's next action from the same state (its first think + action).
      const wrote = squash(tokenizer.decode(roll.ids.subarray(turn.start, turn.end), new SlotMap(roll.slotNames)));
      const next = want ? squash(firstAction(want.response)) : null;
      if (next === null || wrote !== next) deviated = true;
    } else if (want === null) {
      if (stats) stats.skippedForced++;
    } else {
      out.push(recoveryExample(tokenizer, roll, turn.start, want, demo));
      if (out.length >= max) break;
    }
  }
  if (stats) {
    if (!deviated) stats.onExpert++;
    stats.examples += out.length;
  }
  return out;
}

const squash = (t: string): string => t.replace(/\s+/g, ' ').trim();

/** The first action of a rendered continuation: up to and including its first `</search>` or `</answer>`. */
function firstAction(response: string): string {
  const s = response.indexOf('</search>');
  const a = response.indexOf('</answer>');
  const end = s >= 0 && (a < 0 || s < a) ? s + '</search>'.length : a + '</answer>'.length;
  return response.slice(0, end).trim();
}

function recoveryExample(tokenizer: PolicyTokenizer, roll: Rollout, at: number, want: ExpertContinuation, demo: Demonstration): SftExample {
  // The slots the kept part uses, extended by the expert's continuation.
  const slots = tokenizer.prefixSlots(roll.slotNames, roll.promptIds, roll.ids.subarray(0, at));
  const cont = encodeResponse(tokenizer, want.response, want.observations, slots);
  const n = roll.promptIds.length + at;
  const ids = new Int32Array(n + cont.ids.length);
  ids.set(roll.promptIds, 0);
  ids.set(roll.ids.subarray(0, at), roll.promptIds.length);
  ids.set(cont.ids, n);
  const mask = new Uint8Array(ids.length);
  mask.set(cont.mask, n);
  return { role: 'actor', questionId: demo.question.id, ids, mask, promptLength: n, target: null, label: 'good', correct: demo.correct, cut: null };
}

export interface RecoveryRoundOptions extends RecoveryOptions {
  seed: number;
  /** Sampling temperature of the policy's rollouts (default 1: the states its own sampling reaches). */
  temperature?: number;
  /** Sequences decoded together (default 32). */
  slots?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * One DAgger round: rolls out `model` (fp32 weights as they are now) once per question and returns the recovery
 * examples against the expert's demonstrations. Questions without a good demonstration are left out.
 */
export async function recoveryRound(
  model: Transformer,
  tokenizer: PolicyTokenizer,
  retriever: PassageRetriever,
  ctx: ExpertContext,
  questions: readonly Question[],
  opts: RecoveryRoundOptions,
): Promise<{ examples: SftExample[]; stats: RecoveryStats }> {
  const demos = new Map<string, Demonstration>();
  for (const q of questions) {
    const plan = planQuestion(q, ctx.view);
    if (!plan) continue;
    const demo = await executePlan(plan, ctx.search, ctx.pool, new Rng(streamSeed(opts.seed, `dagger:${q.id}`)));
    if (demo.found && demo.correct) demos.set(q.id, demo);
  }
  const qs = questions.filter((q) => demos.has(q.id));
  const stats: RecoveryStats = { rollouts: 0, onExpert: 0, examples: 0, skippedForced: 0 };
  if (qs.length === 0) return { examples: [], stats };
  const dec = await KvDecoder.create(model, { slots: Math.min(opts.slots ?? 32, qs.length), weights: 'fp32' });
  let rolls: Rollout[];
  try {
    const out = await rollout(dec, tokenizer, retriever, qs.map((q) => ({ id: q.id, question: q.question })), {
      groupSize: 1,
      seed: streamSeed(opts.seed, 'dagger:rollouts'),
      temperature: opts.temperature ?? 1,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    rolls = out.rollouts;
  } finally {
    dec.dispose();
  }
  const examples: SftExample[] = [];
  for (const r of rolls) examples.push(...recoveryExamples(tokenizer, r, demos.get(r.questionId) as Demonstration, opts, stats));
  return { examples, stats };
}
