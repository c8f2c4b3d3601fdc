// Shared fixtures of the refiner tests: the tiny world with BM25 top-3, its policy tokenizer, good expert
// demonstrations, and a scripted SequenceModel (emits fixed tokens chosen from what it is fed first).
import { createExpertContext, type Demonstration, executePlan, planQuestion } from '../../src/agent/expert.ts';
import { bm25PassageRetriever, type PassageRetriever, type RolloutQuestion } from '../../src/agent/rollout.ts';
import { buildWorldTokenizer, encodeResponse } from '../../src/agent/sft-data.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { PickChunk, PickOptions, PickResult, SequenceModel } from '../../src/model/decoder-cache.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
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

export async function tinyWorld(questionsPerSplit = 25): Promise<TinyWorld> {
  const world = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
  const corpus = corpusRecords(world);
  const all: Question[] = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  const tok = buildWorldTokenizer(corpus, all);
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
  const r = encodeResponse(tok, d.response, d.observations);
  return Array.from(r.ids).filter((_, i) => r.mask[i] === 1);
}

/** Emits `script(first chunk's text)` token by token (then <eos>); bans are recorded; log-prob `lp` per token. */
export class ScriptedModel implements SequenceModel {
  readonly vocab: number;
  readonly firstChunks: string[] = [];
  readonly bans: number[][] = [];
  private hist: number[][];
  private state: ({ tokens: number[]; at: number } | null)[];
  constructor(
    readonly slots: number,
    readonly context: number,
    private readonly tk: PolicyTokenizer,
    private readonly script: (firstChunk: string) => number[],
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
      if (h.length === 0) {
        const text = this.tk.decode(c.ids);
        this.firstChunks.push(text);
        this.state[c.slot] = { tokens: this.script(text), at: 0 };
      }
      h.push(...Array.from(c.ids));
      if (c.ban && c.ban.length > 0) this.bans.push([...c.ban]);
      const st = this.state[c.slot] as { tokens: number[]; at: number };
      tokens[i] = st.at < st.tokens.length ? st.tokens[st.at++] : this.tk.special.eos;
    });
    return { tokens, logprobs: new Float32Array(chunks.length).fill(this.lp) };
  }
}
