// The refiner modules chained as a training step uses them, on the tiny world: a scripted Actor's rollouts (good
// demonstrations), the Discriminator and the Trimmer of a small random policy (sampled decisions), cut and
// regenerate, rewards from the gold judge, GRPO advantages, the refiner's decision rewards, and one mixed update
// (Actor tokens + decision tokens) on the WASM cpu backend, whose gradient matches the reference backend's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollout } from '../../src/agent/rollout.ts';
import { createBackend, createCpuReferenceBackend } from '../../src/engine/create.ts';
import { AdamW } from '../../src/engine/optim.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { Backend } from '../../src/engine/types.ts';
import { createPolicy } from '../../src/model/policy.ts';
import type { Transformer } from '../../src/model/transformer.ts';
import { decide, judgeTrajectories } from '../../src/refiner/discriminator.ts';
import { type RefinerDecisionRecord, refinerSequences } from '../../src/refiner/joint.ts';
import { cutRollout, regenerate } from '../../src/refiner/regenerate.ts';
import { chooseCut, trimTrajectories } from '../../src/refiner/trimmer.ts';
import { goldEvidenceJudge } from '../../src/reward/judges.ts';
import { scoreRollout } from '../../src/reward/score.ts';
import { grpoAdvantages } from '../../src/rl/advantages.ts';
import { DEFAULT_GRPO } from '../../src/rl/grpo.ts';
import { grpoGradients, grpoUpdate, sequenceLogprobs, type UpdateSequence } from '../../src/rl/update.ts';
import { policyTokens, questionOf, ScriptedModel, tinyWorld, type TinyWorld } from './agent-fixtures.ts';

let w: TinyWorld;
let wasm: Backend;
let ref: Backend;
const SHAPE = { dim: 32, heads: 2, layers: 1, context: 2048, mlpRatio: 4 };

beforeAll(async () => {
  w = await tinyWorld(15);
  wasm = await createBackend('cpu');
  ref = createCpuReferenceBackend();
});
afterAll(() => {
  wasm?.dispose();
  ref?.dispose();
});

const concat = (a: Int32Array, b: Int32Array): Int32Array => {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

describe('a refiner step end to end', () => {
  it('rollout -> judge -> trim -> regenerate -> reward -> advantage -> mixed update', async () => {
    const demos = w.demos.slice(0, 3);
    const G = 2;
    const scripts = new Map(demos.map((d) => [d.question.question, policyTokens(w.tok, d)]));
    const actor = new ScriptedModel(6, 2048, w.tok, (text) => {
      for (const [q, s] of scripts) if (text.includes(q)) return s;
      throw new Error('no script');
    });
    const { rollouts } = await rollout(actor, w.tok, w.retriever, demos.map(questionOf), { groupSize: G, seed: 1 });
    const policy = createPolicy(wasm.ops, SHAPE, w.tok.size, 31);
    const reference = createPolicy(wasm.ops, SHAPE, w.tok.size, 31);
    const items = rollouts.map((r) => ({ question: r.question, response: r.response }));
    const judged = await judgeTrajectories(wasm.ops, policy, w.tok, items);
    const rng = new Rng(2);
    const judgeRecords: RefinerDecisionRecord[] = [];
    const rejected: number[] = [];
    judged.forEach((j, i) => {
      // A random policy's alpha is near 1/2; force some rejections with a low tau on odd indices for coverage.
      const d = i % 2 === 0 ? decide(j.alpha, { rng }) : decide(j.alpha, { tau: 1 });
      if (!d.accept) rejected.push(i);
      judgeRecords.push({ kind: 'judge', trajectoryId: `t${i}`, ids: j.ids, choice: d.accept ? 'accept' : 'reject', logprob: d.accept ? j.logprobAccept : j.logprobReject, round: 1 });
    });
    expect(rejected.length).toBeGreaterThanOrEqual(3);
    const trimmed = await trimTrajectories(wasm.ops, policy, w.tok, rejected.map((i) => items[i]));
    const cuts = trimmed.map((t) => chooseCut(t.probs, { rng }));
    cuts.forEach((c, k) => expect(trimmed[k].valid).toContain(c));
    // The continuation answers at once; the kept steps stay.
    const answer = Array.from(w.tok.encode('<think> so </think> <answer> wrong guess </answer>'));
    const cont = new ScriptedModel(6, 2048, w.tok, () => answer);
    const regen = await regenerate(cont, w.tok, w.retriever, rejected.map((i, k) => ({ rollout: rollouts[i], cut: cuts[k], revision: 1 })), { groupSize: 1, seed: 1 });
    regen.forEach((r, k) => {
      expect(r.searches.length).toBe(cuts[k]);
      expect(r.response.startsWith(cutRollout(rollouts[rejected[k]], cuts[k], w.tok).keptText)).toBe(true);
    });
    const finals = rollouts.map((r, i) => (rejected.includes(i) ? regen[rejected.indexOf(i)] : r));
    const judge = goldEvidenceJudge();
    const qOf = (qi: number): { golden_answers: string[]; supporting_ids: string[] } => demos[qi].question;
    const original = await Promise.all(rollouts.map((r) => scoreRollout(r, qOf(r.questionIndex), judge, 'hybrid')));
    const final = await Promise.all(finals.map((r) => scoreRollout(r, qOf(r.questionIndex), judge, 'hybrid')));
    for (const s of original) expect(s.em).toBe(1);
    for (const k of rejected.keys()) expect(final[rejected[k]].reward).toBe(0); // the regeneration answers wrong
    const adv = grpoAdvantages(final.map((s) => s.reward), G);
    const rewardOf = (id: string): number => {
      if (id.startsWith('c')) return final[Number(id.slice(1))].reward;
      return original[Number(id.slice(1))].reward;
    };
    const extra = await refinerSequences(wasm.ops, reference, {
      judge: judgeRecords,
      trim: rejected.map((i, k) => ({ kind: 'trim' as const, trajectoryId: `t${i}`, ids: trimmed[k].ids, choice: cuts[k], logprob: Math.log(trimmed[k].probs[cuts[k]]), round: 1 })),
      rewardOf,
      finalRewardOf: (id) => final[Number(id.slice(1))].reward,
      regeneratedOf: (id) => (rejected.includes(Number(id.slice(1))) ? `c${id.slice(1)}` : null),
    });
    expect(extra.filter((s) => s.role === 'judge')).toHaveLength(rollouts.length);
    expect(extra.filter((s) => s.role === 'trim')).toHaveLength(rejected.length);
    // Rejecting a correct trajectory that then failed: the reject decisions get the lowest advantages.
    const judgeSeqs = extra.filter((s) => s.role === 'judge');
    const rejAdv = judgeSeqs.filter((_, i) => rejected.includes(i)).map((s) => s.advantage);
    const accAdv = judgeSeqs.filter((_, i) => !rejected.includes(i)).map((s) => s.advantage);
    if (accAdv.length > 0) expect(Math.max(...rejAdv)).toBeLessThan(Math.min(...accAdv));
    const seqIn = finals.map((r) => ({ ids: concat(r.promptIds, r.ids), promptLength: r.promptIds.length }));
    const refLp = await sequenceLogprobs(wasm.ops, reference, seqIn, { entropy: false });
    const actorSeqs: UpdateSequence[] = finals.map((r, i) => ({ ...seqIn[i], mask: r.mask, refLogprobs: refLp.logprobs[i], advantage: adv[i] }));
    const seqs = [...actorSeqs, ...extra];
    const opt = new AdamW(wasm.ops, policy.params, { lr: 1e-3 });
    const res = await grpoUpdate(wasm.ops, policy, opt, seqs, DEFAULT_GRPO, { batchTokens: 2048 });
    expect(res.steps).toBe(1);
    expect(Number.isFinite(res.loss)).toBe(true);
    expect(res.gradNorm).toBeGreaterThan(0);
    expect(res.byRole.actor?.sequences).toBe(finals.length);
    expect(res.byRole.judge?.tokens).toBe(rollouts.length);
    expect(res.tokens).toBe(actorSeqs.reduce((a, s) => a + s.mask.reduce((p, m) => p + m, 0), 0) + extra.length);
    expect(res.tokenLoss).toHaveLength(seqs.length);
    opt.dispose();
    policy.dispose();
    reference.dispose();
  });
});

describe('the update on the WASM backend', () => {
  it('gives the reference backend’s gradient', async () => {
    const make = (b: Backend): Transformer => createPolicy(b.ops, SHAPE, 60, 41);
    const rng = new Rng(43);
    const seqs = [[5, 12], [9, 4], [3, 7]].map(([p, n], i) => ({
      ids: rng.intArray(p + n, 60),
      promptLength: p,
      mask: Uint8Array.from({ length: n }, (_, t) => (t % 3 === 2 ? 0 : 1)),
      advantage: [1, -0.5, 0.8][i],
    }));
    const grads: Float32Array[][] = [];
    for (const b of [ref, wasm]) {
      const m = make(b);
      const lp = await sequenceLogprobs(b.ops, m, seqs, { entropy: false });
      const full = seqs.map((s, i) => ({ ...s, oldLogprobs: lp.logprobs[i].map((x) => x + 0.1), refLogprobs: lp.logprobs[i].map((x) => x - 0.1) }));
      await grpoGradients(b.ops, m, full, { ...DEFAULT_GRPO, klBeta: 0.1 }, { entropy: false });
      const gs: Float32Array[] = [];
      for (const p of m.params) gs.push(p.grad ? await b.ops.readF32(p.grad) : new Float32Array(0));
      grads.push(gs);
      for (const p of m.params) if (p.grad) b.ops.dispose(p.grad);
      m.dispose();
    }
    let maxErr = 0;
    let maxAbs = 0;
    grads[0].forEach((g, i) => g.forEach((x, j) => {
      maxErr = Math.max(maxErr, Math.abs(x - grads[1][i][j]));
      maxAbs = Math.max(maxAbs, Math.abs(x));
    }));
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(1e-3 * maxAbs);
  });
});
