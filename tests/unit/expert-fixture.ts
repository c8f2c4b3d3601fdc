// The tiny world written to a temporary directory, with the scripted expert over its first training questions and
// their good demonstrations: the shared setup of the tests that build on the expert's demonstrations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExpertContext, type Demonstration, executePlan, type ExpertContext, planQuestion } from '../../src/agent/expert.ts';
import { buildWorldTokenizer } from '../../src/agent/sft-data.ts';
import { Rng } from '../../src/engine/rng.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import { buildWorld } from '../../src/world/build.ts';
import { type LoadedWorld, readWorld, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import { PARTS, type Question, SPLITS, TRAINING_SPLITS } from '../../src/world/types.ts';

export interface ExpertFixture {
  /** The temporary directory; the world is in `${dir}/world`. */
  dir: string;
  world: LoadedWorld;
  /** The first `perSplit` training questions of each training split. */
  train: Question[];
  ctx: ExpertContext;
  tok: PolicyTokenizer;
  /** The expert's demonstrations of `train` that found every passage and answered right (guess seed 1). */
  demos: Demonstration[];
  dispose(): void;
}

export async function tinyExpertFixture(prefix: string, perSplit: number): Promise<ExpertFixture> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeWorld(join(dir, 'world'), buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world);
  const world = readWorld(join(dir, 'world'));
  const all = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  const train = TRAINING_SPLITS.flatMap((s) => world.questions[s].train.slice(0, perSplit));
  const ctx = createExpertContext(world.corpus, createBm25Retriever(world.corpus), train);
  const tok = buildWorldTokenizer(world.corpus, all);
  const demos: Demonstration[] = [];
  for (const q of train) {
    const plan = planQuestion(q, ctx.view);
    if (!plan) continue;
    const d = await executePlan(plan, ctx.search, ctx.pool, new Rng(1));
    if (d.found && d.correct) demos.push(d);
  }
  return { dir, world, train, ctx, tok, demos, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
