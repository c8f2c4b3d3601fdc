// Shared fixtures of the rollout and refiner tests: the tiny world with BM25 top-3, its policy tokenizer, good expert
// demonstrations, and a scripted SequenceModel (emits fixed tokens chosen from what it is fed first).
import { createExpertContext, type Demonstration, executePlan, planQuestion } from '../../src/agent/expert.ts';
import { actorPrompt } from '../../src/agent/prompts.ts';
import { bm25PassageRetriever, type PassageRetriever, type RolloutQuestion } from '../../src/agent/rollout.ts';
import { buildWorldTokenizer, encodeResponse } from '../../src/agent/sft-data.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { PickChunk, PickOptions, PickResult, SequenceModel } from '../../src/model/decoder-cache.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { type PolicyTokenizer, SlotMap } from '../../src/text/policy-tokenizer.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords } from '../../src/world/format.ts';
import { streamSeed } from '../../src/world/random.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question } from '../../src/world/types.ts';
import { PARTS, SPLITS, TRAINING_SPLITS } from '../../src/world/types.ts';

export interface TinyWorld {
  corpus: CorpusRecord[];
  tok: PolicyTokenizer;
  demos: Demonstration[];
  retriever: PassageRetriever;
}

/** `slots`: entity slots of the tokenizer (default none). */
export async function tinyWorld(questionsPerSplit = 25, slots = 0): Promise<TinyWorld> {
  const world = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
  const corpus = corpusRecords(world);
  const all: Question[] = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  const tok = buildWorldTokenizer(corpus, all, { slots });
  const ctx = createExpertContext(corpus, createBm25Retriever(corpus), all);
  const demos: Demonstration[] = [];
  for (const q of TRAINING_SPLITS.flatMap((s) => world.questions[s].train.slice(0, questionsPerSplit))) {
    const plan = planQuestion(q, ctx.view);
    if (!plan) continue;
    const d = await executePlan(plan, ctx.search, ctx.pool, new Rng(streamSeed(0, q.id)));
    if (d.found && d.correct) demos.push(d);
  }
  return { corpus, tok, demos, retriever: bm25PassageRetriever(corpus) };
}

export const questionOf = (d: Demonstration): RolloutQuestion => ({ id: d.question.id, question: d.question.question });

/** The policy's own tokens of a demonstration (mask 1): what a perfect Actor generates. */
export function policyTokens(tok: PolicyTokenizer, d: Demonstration): number[] {
  const r = demoResponse(tok, d);
  return Array.from(r.ids).filter((_, i) => r.mask[i] === 1);
}

/** A demonstration's response ids and mask as its sequence writes them (the prompt's entity slots first), and the map. */
export function demoResponse(tok: PolicyTokenizer, d: Demonstration): { ids: Int32Array; mask: Uint8Array; slots: SlotMap } {
  const slots = new SlotMap();
  tok.encode(actorPrompt(d.question.question), slots);
  return { ...encodeResponse(tok, d.response, d.observations, slots), slots };
}

/** A script: tokens to emit in order, and what to emit (in order, then <eos>) from the first time the next scripted token is banned. */
export interface Script {
  tokens: number[];
  fallback?: number[];
}

/**
 * A SequenceModel that ignores the math: emits `script(first chunk's text)` token by token (then <eos>), honouring
 * bans (a banned next token switches to the script's fallback; emitting a banned token throws) and the context
 * (throws when exceeded). Bans and first chunks are recorded; log-prob `lp` per token.
 */
export class ScriptedModel implements SequenceModel {
  readonly vocab: number;
  readonly firstChunks: string[] = [];
  readonly bans: number[][] = [];
  private hist: number[][];
  private state: ({ s: Script; at: number; fb: number | null } | null)[];
  constructor(
    readonly slots: number,
    readonly context: number,
    private readonly tk: PolicyTokenizer,
    private readonly script: (firstChunk: string) => number[] | Script,
    private readonly lp = -0.25,
  ) {
    this.vocab = tk.size;
    this.hist = Array.from({ length: slots }, () => []);
    this.state = new Array(slots).fill(null);
  }
  reset(slots?: readonly number[]): void {
    for (const s of slots ?? [...this.hist.keys()]) {
      this.hist[s] = [];
      this.state[s] = null;
    }
  }
  length(slot: number): number {
    return this.hist[slot].length;
  }
  async step(chunks: readonly PickChunk[], _opts: PickOptions): Promise<PickResult> {
    const tokens = new Int32Array(chunks.length);
    chunks.forEach((c, i) => {
      const h = this.hist[c.slot];
      if (h.length + c.ids.length > this.context) throw new Error('scripted: context exceeded');
      if (h.length === 0) {
        const text = this.tk.decode(c.ids);
        this.firstChunks.push(text);
        const sc = this.script(text);
        this.state[c.slot] = { s: Array.isArray(sc) ? { tokens: sc } : sc, at: 0, fb: null };
      }
      h.push(...Array.from(c.ids));
      const st = this.state[c.slot] as { s: Script; at: number; fb: number | null };
      const banned = new Set(c.ban ?? []);
      if (banned.size > 0) this.bans.push([...banned]);
      if (st.fb === null && st.at < st.s.tokens.length && banned.has(st.s.tokens[st.at])) st.fb = 0;
      let t: number;
      if (st.fb !== null) t = st.fb < (st.s.fallback?.length ?? 0) ? (st.s.fallback as number[])[st.fb++] : this.tk.special.eos;
      else t = st.at < st.s.tokens.length ? st.s.tokens[st.at++] : this.tk.special.eos;
      if (banned.has(t)) throw new Error('scripted: emitted a banned token');
      tokens[i] = t;
    });
    return { tokens, logprobs: new Float32Array(chunks.length).fill(this.lp) };
  }
}

/** A script per sequence, chosen by the question its prompt contains. */
export function byPrompt(map: Map<string, number[] | Script>): (prompt: string) => number[] | Script {
  return (prompt) => {
    for (const [q, s] of map) if (prompt.includes(q)) return s;
    throw new Error(`no script for ${prompt}`);
  };
}
