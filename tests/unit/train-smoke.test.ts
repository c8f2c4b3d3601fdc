// Smoke training run (DESIGN 10): the tiny preset on a fixed seed must improve reward.
//
// Design. A fresh tiny policy earns no reward at all, so the run starts from a warm start made here: 100 SFT steps
// (src/agent/sft-train.ts) on the scripted expert's demonstrations of two training questions with one-word answers
// (reachable by the 2 x 32 policy). GRPO (search-r1 preset, tiny schedule, 2 questions x 16 rollouts,
// seq-mean-token-mean, lr 1e-3) then trains 20 steps on those questions (TrainConfig.trainSubset). Reward is
// measured before and after on 48 fresh rollouts per question with one evaluation seed the trainer never uses, so
// the comparison is deterministic on the cpu backend. Measured when this test was written: 0.396 -> 0.792 (training
// reward 0.44 at step 1, 0.81 at step 20); in the exploratory runs behind this design, flipping the advantages'
// sign in the trainer drove the same kind of run from 0.64 to 0.02, and a policy that does not learn stays put, so the assertion (a rise of at least 0.04) fails on a wrong-way update, on advantages paired with the
// wrong trajectories and on an update that does nothing.
import { afterAll, expect, it } from 'vitest';
import { createExpertContext } from '../../src/agent/expert.ts';
import { rollout } from '../../src/agent/rollout.ts';
import { buildSftData } from '../../src/agent/sft-data.ts';
import { trainSft } from '../../src/agent/sft-train.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { KvDecoder } from '../../src/model/decoder-cache.ts';
import { exactMatch } from '../../src/reward/em.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { presetConfig } from '../../src/rl/presets.ts';
import { allQuestions, createTrainer } from '../../src/rl/trainer-setup.ts';
import type { SplitQuestions } from '../../src/world/types.ts';
import { SPLITS } from '../../src/world/types.ts';
import { tinyWorld } from './rl-fixture.ts';

let backend: Backend | null = null;
afterAll(() => backend?.dispose());

it('GRPO on the tiny preset raises the reward of a fixed seed', { timeout: 300_000 }, async () => {
  const w = tinyWorld();
  // The subset: nq training questions with a one-word answer (no digits).
  const subset = w.questions.nq.train.filter((q) => q.golden_answers[0].split(' ').length === 1 && !/\d/.test(q.golden_answers[0])).slice(0, 40);
  const questions = Object.fromEntries(SPLITS.map((s) => [s, { train: s === 'nq' ? subset : [], dev: [], test: [] }])) as unknown as SplitQuestions;
  backend = await createBackend('cpu');
  const config = presetConfig('search-r1', 'tiny', {
    questionsPerStep: 2, groupSize: 16, trainSubset: 2, lr: 1e-3, aggregation: 'seq-mean-token-mean', maxTurnTokens: 24, steps: 20,
    seeds: { init: 1, data: 1, sampling: 1 },
  });
  const { trainer } = createTrainer({ config, backend, world: { corpus: w.corpus, questions }, checkpoint: null });
  const pool = trainer.pool;
  expect(pool).toHaveLength(2);

  // Warm start: SFT on the expert's demonstrations of the subset; the reference is the warm start.
  const ctx = createExpertContext(w.corpus, createBm25Retriever(w.corpus), allQuestions(w.questions));
  const data = await buildSftData({ tokenizer: trainer.tokenizer, ctx, questions: pool, seed: 1 });
  await trainSft(trainer.policy, data, { steps: 100, seed: 1, padId: trainer.tokenizer.special.pad, lr: 1e-2, tokenBudget: 2048, mix: { actor: 1, judge: 0, trim: 0 } });
  for (const [i, p] of trainer.reference.params.entries()) backend.ops.write(p.value, await backend.ops.readF32(trainer.policy.params[i].value));

  const ES = 48;
  const reward = async (): Promise<number> => {
    const dec = await KvDecoder.create(trainer.policy, { slots: 32, weights: 'fp32' });
    try {
      const rs = (await rollout(dec, trainer.tokenizer, trainer.retriever, pool.map((q) => ({ id: q.id, question: q.question })), { groupSize: ES, seed: 9001, maxTurnTokens: 24 })).rollouts;
      return rs.reduce((a, r, i) => a + (r.answer ? exactMatch(r.answer, pool[Math.floor(i / ES)].golden_answers) : 0), 0) / rs.length;
    } finally {
      dec.dispose();
    }
  };
  const r0 = await reward();
  // The warm start must leave room both ways, or no change is measurable.
  expect(r0).toBeGreaterThan(0.2);
  expect(r0).toBeLessThan(0.9);
  const train: number[] = [];
  for (let s = 0; s < config.steps; s++) train.push((await trainer.step()).metrics.reward);
  const r1 = await reward();
  console.log(`smoke: reward (fixed evaluation seed) ${r0.toFixed(3)} -> ${r1.toFixed(3)}; training reward per step ${train.map((x) => x.toFixed(2)).join(' ')}`);
  expect(r1).toBeGreaterThan(r0 + 0.04);
  trainer.dispose();
});
