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
import { loadPolicy, POLICY_PRESETS, worldHash } from '../../src/model/policy.ts';
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
  it('loads against the default world and answers a dev question format-validly', async () => {
    const corpus = corpusRecords(world);
    const tok = buildWorldTokenizer(corpus, SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p])));
    const path = join(SHIPPED_POLICY_DIR, POLICY_FILE);
    const loaded = loadPolicy(be.ops, readFileSync(path), path, { expect: { tokenizerHash: tok.hash, worldHash: worldHash(corpus) } });
    try {
      expect(loaded.metadata.preset).toBe('small');
      const { vocab: _v, ...shape } = loaded.config;
      expect(shape).toEqual({ ...POLICY_PRESETS.small });
      const q = world.questions.nq.dev[0];
      const { rows } = await evaluateActor(loaded.model, tok, bm25PassageRetriever(corpus), [q], { slots: 1 });
      expect(rows[0].formatValid).toBe(true);
      expect(rows[0].answer).not.toBeNull();
      expect(rows[0].searches).toBeGreaterThanOrEqual(1);
    } finally {
      loaded.model.dispose();
    }
  });
});
