// The shipped warm-start policy (public/policy/model.safetensors, produced by `cli pretrain`, see
// public/policy/README.md) loads against the default world built in memory (seed 0) and its tokenizer, and answers a
// dev question in the Search-R1 format with greedy decoding over BM25 top-3. The file is committed: its absence fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateActor } from '../../src/agent/eval.ts';
import { bm25PassageRetriever } from '../../src/agent/rollout.ts';
import { buildWorldTokenizer } from '../../src/agent/sft-data.ts';
import { POLICY_FILE, SHIPPED_POLICY_DIR } from '../../src/cli/pretrain.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { checkpointTokenizerSlots, loadPolicy, policyBinding, POLICY_PRESETS, worldHash } from '../../src/model/policy.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { World } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';

let be: Backend;
let world: World;

beforeAll(async () => {
  be = await createBackend('cpu');
  world = buildWorld({ seed: 0, size: 'default', sources: loadSources() }).world;
});

afterAll(() => be?.dispose());

describe('shipped policy', () => {
  it('loads against the default world (its tokenizer with the entity slots the file names) and answers dev questions', async () => {
    const corpus = corpusRecords(world);
    const path = join(SHIPPED_POLICY_DIR, POLICY_FILE);
    const bytes = readFileSync(path);
    // The checkpoint names its tokenizer's entity slots; the rest of the tokenizer is the world's.
    const slots = checkpointTokenizerSlots(bytes, path);
    expect(slots).toBe(128);
    const tok = buildWorldTokenizer(corpus, SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p])), { slots });
    const loaded = loadPolicy(be.ops, bytes, path, { expect: policyBinding(tok, worldHash(corpus)) });
    try {
      expect(loaded.metadata.preset).toBe('small');
      const { vocab: _v, ...shape } = loaded.config;
      expect(shape).toEqual({ ...POLICY_PRESETS.small });
      // The first 10 NQ-like dev questions (the checkpoint's measured format validity there is 0.88 over 100, EM 0.24).
      const qs = world.questions.nq.dev.slice(0, 10);
      const { rows } = await evaluateActor(loaded.model, tok, bm25PassageRetriever(corpus), qs, { slots: 4 });
      expect(rows.filter((r) => r.formatValid).length).toBeGreaterThanOrEqual(7);
      expect(rows.filter((r) => r.searches >= 1).length).toBeGreaterThanOrEqual(7);
      expect(rows.some((r) => r.em === 1)).toBe(true);
      // Names come back from their slots: answers are text, never a slot placeholder.
      for (const r of rows) expect(r.answer ?? '').not.toMatch(/@\d/);
    } finally {
      loaded.model.dispose();
    }
  });
});
