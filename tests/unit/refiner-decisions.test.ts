// The Discriminator and the Trimmer (src/refiner/discriminator.ts, trimmer.ts) with a tiny random policy on the
// tiny world: the same prompt ids as the SFT examples, alpha / cut probabilities from the restricted softmax of a
// plain forward, batching independence, the sampled and threshold decisions, and a GRPO update on the decision
// token moving alpha the rewarded way. Plus the joint refiner rewards (src/refiner/joint.ts), hand-computed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flawedVariants } from '../../src/agent/flaws.ts';
import { createExpertContext } from '../../src/agent/expert.ts';
import { MAX_CUT, validCuts } from '../../src/agent/prompts.ts';
import { judgeExample, trimExample } from '../../src/agent/sft-data.ts';
import { createCpuReferenceBackend } from '../../src/engine/create.ts';
import { AdamW } from '../../src/engine/optim.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Tape } from '../../src/engine/tape.ts';
import type { Backend } from '../../src/engine/types.ts';
import { createPolicy } from '../../src/model/policy.ts';
import type { Transformer } from '../../src/model/transformer.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import { decisionPromptIds } from '../../src/refiner/decision.ts';
import { decide, judgeTrajectories } from '../../src/refiner/discriminator.ts';
import { batchNormalize, type RefinerDecisionRecord, refinerRewards, refinerSequences } from '../../src/refiner/joint.ts';
import { chooseCut, trimTrajectories } from '../../src/refiner/trimmer.ts';
import { DEFAULT_GRPO } from '../../src/rl/grpo.ts';
import { grpoUpdate, sequenceLogprobs } from '../../src/rl/update.ts';
import { SPECIAL_IDS } from '../../src/text/policy-tokenizer.ts';
import { tinyWorld, type TinyWorld } from './agent-fixtures.ts';

let w: TinyWorld;
let be: Backend;
let model: Transformer;

beforeAll(async () => {
  w = await tinyWorld(15);
  be = createCpuReferenceBackend();
  model = createPolicy(be.ops, 'tiny', w.tok.size, 21);
});
afterAll(() => {
  model?.dispose();
  be?.dispose();
});

/** Full-vocabulary log-softmax after `ids`, from a plain unpadded forward. */
async function plainNext(ids: Int32Array, m: Transformer = model): Promise<Float32Array> {
  const tape = new Tape(be.ops);
  const V = m.config.vocab;
  const logits = await be.ops.readF32(m.forward(tape, ids, 1, ids.length).value);
  tape.dispose();
  const row = Array.from(logits.subarray((ids.length - 1) * V));
  const mx = Math.max(...row);
  const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
  return Float32Array.from(row.map((x) => x - lse));
}

describe('judgeTrajectories', () => {
  it("alpha = softmax over <accept>/<reject> after the SFT judge prompt's ids; batched == alone", async () => {
    const demos = w.demos.slice(0, 3);
    const items = demos.map((d) => ({ question: d.question.question, response: d.response }));
    const res = await judgeTrajectories(be.ops, model, w.tok, items);
    expect(res).toHaveLength(3);
    for (const [i, d] of demos.entries()) {
      const sft = judgeExample(w.tok, d);
      expect(Array.from(res[i].ids)).toEqual(Array.from(sft.ids.slice(0, -1)));
      expect(res[i].truncated).toBe(false);
      const lp = await plainNext(res[i].ids);
      const la = lp[w.tok.special.accept];
      const lr = lp[w.tok.special.reject];
      expect(res[i].logprobAccept).toBeCloseTo(la, 5);
      expect(res[i].logprobReject).toBeCloseTo(lr, 5);
      expect(res[i].alpha).toBeCloseTo(Math.exp(la) / (Math.exp(la) + Math.exp(lr)), 6);
      const [alone] = await judgeTrajectories(be.ops, model, w.tok, [items[i]]);
      expect(alone.alpha).toBeCloseTo(res[i].alpha, 6);
    }
    expect(await judgeTrajectories(be.ops, model, w.tok, [])).toEqual([]);
  });

  it('a GRPO update rewarding <reject> on a trajectory lowers its alpha', async () => {
    const m2 = createPolicy(be.ops, 'tiny', w.tok.size, 22);
    const ref = createPolicy(be.ops, 'tiny', w.tok.size, 22);
    const opt = new AdamW(be.ops, m2.params, { lr: 5e-3 });
    const item = { question: w.demos[0].question.question, response: w.demos[0].response };
    const [before] = await judgeTrajectories(be.ops, m2, w.tok, [item]);
    const rec: RefinerDecisionRecord = { kind: 'judge', trajectoryId: 't', ids: before.ids, choice: 'reject', logprob: before.logprobReject, round: 1 };
    const seqs = await refinerSequences(be.ops, ref, {
      judge: [rec], trim: [], rewardOf: () => 0, finalRewardOf: () => 1, regeneratedOf: () => null,
    });
    expect(seqs).toHaveLength(1);
    expect(seqs[0].advantage).toBeCloseTo(0.95, 12); // a single decision: A = R = 1 - 0 - 0.05
    for (let k = 0; k < 3; k++) await grpoUpdate(be.ops, m2, opt, seqs, DEFAULT_GRPO);
    const [after] = await judgeTrajectories(be.ops, m2, w.tok, [item]);
    expect(after.alpha).toBeLessThan(before.alpha - 0.02);
    opt.dispose();
    m2.dispose();
    ref.dispose();
  });

  it('decide: sampled below alpha in training, alpha >= tau in evaluation', () => {
    const a = decide(0.7, { rng: new Rng(3) });
    const draw = new Rng(3).next();
    expect(a.draw).toBe(draw);
    expect(a.accept).toBe(draw < 0.7);
    expect(decide(0.5, { tau: 0.5 })).toEqual({ accept: true, draw: null });
    expect(decide(0.49, { tau: 0.5 })).toEqual({ accept: false, draw: null });
    expect(decide(0, { rng: new Rng(1) }).accept).toBe(false);
    expect(decide(1, { rng: new Rng(1) }).accept).toBe(true);
    const rng = new Rng(9);
    let acc = 0;
    for (let i = 0; i < 4000; i++) acc += decide(0.3, { rng }).accept ? 1 : 0;
    expect(acc / 4000).toBeGreaterThan(0.27);
    expect(acc / 4000).toBeLessThan(0.33);
    expect(() => decide(1.2, { tau: 0.5 })).toThrow(/alpha/);
    expect(() => decide(0.5, { tau: 2 })).toThrow(/tau/);
  });

  it('prompts longer than the context keep their head and tail', () => {
    const { ids, truncated } = decisionPromptIds(w.tok, `<judge> ${'word '.repeat(600)} end`, 512);
    expect(truncated).toBe(true);
    expect(ids.length).toBe(511);
    expect(ids[0]).toBe(w.tok.special.bos);
    expect(ids[1]).toBe(w.tok.special.judge);
    const full = w.tok.encode(`<judge> ${'word '.repeat(600)} end`);
    expect(ids[510]).toBe(full[full.length - 1]);
  });
});

describe('trimTrajectories', () => {
  it('probabilities over the valid cuts only (softmax of the <cut_k> logits after the SFT trim prompt)', async () => {
    const all = w.demos.map((d) => d.question);
    const ctx = createExpertContext(w.corpus, createBm25Retriever(w.corpus), all);
    const d = w.demos.find((x) => x.steps.length === 2) ?? w.demos[0];
    const [f] = await flawedVariants(d, ctx, new Rng(4), { count: 1 });
    const items = [
      { question: f.question.question, response: f.response },
      { question: d.question.question, response: '<think> no search </think> <answer> x </answer>' },
    ];
    // A two-step trim prompt outgrows the tiny preset's 512 positions: a 1-layer model with a 2048-token context.
    const long = createPolicy(be.ops, { dim: 32, heads: 2, layers: 1, context: 2048, mlpRatio: 4 }, w.tok.size, 23);
    const res = await trimTrajectories(be.ops, long, w.tok, items);
    const sft = trimExample(w.tok, f);
    expect(res[0].truncated).toBe(false);
    expect(Array.from(res[0].ids)).toEqual(Array.from(sft.ids.slice(0, -1)));
    for (const [i, r] of res.entries()) {
      expect(r.valid).toEqual(validCuts(items[i].response));
      expect(r.probs).toHaveLength(MAX_CUT + 1);
      expect(r.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const lp = await plainNext(r.ids, long);
      const z = r.valid.reduce((a, k) => a + Math.exp(lp[w.tok.special.cut[k]]), 0);
      r.probs.forEach((p, k) => {
        if (r.valid.includes(k)) {
          expect(p).toBeCloseTo(Math.exp(lp[w.tok.special.cut[k]]) / z, 6);
          expect(r.logprobs[k]).toBeCloseTo(lp[w.tok.special.cut[k]], 5);
        } else {
          expect(p).toBe(0);
          expect(r.logprobs[k]).toBe(-Infinity);
        }
      });
    }
    expect(res[1].valid).toEqual([0]);
    expect(res[1].probs[0]).toBe(1);
    long.dispose();
  });

  it('chooseCut: argmax, and sampling in proportion, never a zero-probability cut', () => {
    expect(chooseCut([0.1, 0.5, 0.4, 0, 0], 'argmax')).toBe(1);
    expect(chooseCut([0.3, 0.3, 0, 0, 0], 'argmax')).toBe(0);
    const rng = new Rng(17);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) counts[chooseCut([0.2, 0, 0.5, 0.3, 0], { rng })]++;
    expect(counts[1]).toBe(0);
    expect(counts[4]).toBe(0);
    expect(counts[0] / 5000).toBeCloseTo(0.2, 1);
    expect(counts[2] / 5000).toBeCloseTo(0.5, 1);
    expect(() => chooseCut([0, 0], 'argmax')).toThrow(/mass/);
  });
});

describe('joint refiner rewards', () => {
  const ids = Int32Array.from([2, 30, 31]);
  const rec = (kind: 'judge' | 'trim', id: string, choice: RefinerDecisionRecord['choice']): RefinerDecisionRecord => ({ kind, trajectoryId: id, ids, choice, logprob: -1, round: 1 });
  const R: Record<string, number> = { t1: 1, t2: 0, t3: 1, c2: 2, c3: 0 };
  const input = {
    judge: [rec('judge', 't1', 'accept'), rec('judge', 't2', 'reject'), rec('judge', 't3', 'reject')],
    trim: [rec('trim', 't2', 1), rec('trim', 't3', 0)],
    rewardOf: (id: string) => R[id],
    finalRewardOf: (id: string) => ({ t1: 1, t2: 2, t3: 0 })[id] as number,
    regeneratedOf: (id: string) => ({ t2: 'c2', t3: 'c3' })[id] ?? null,
  };

  it('judge: R_final - R_original - lambda on reject, 0 on accept; trim: R_regenerated - R_original; batch-normalized', () => {
    const r = refinerRewards(input);
    expect(r.judge.map((x) => x.reward)).toEqual([0, 2 - 0 - 0.05, 0 - 1 - 0.05]);
    r.judge.map((x) => x.advantage).forEach((a, i) => expect(a).toBeCloseTo([-0.19707, 1.08386, -0.8868][i], 4));
    expect(r.judge.map((x) => x.token)).toEqual([SPECIAL_IDS.accept, SPECIAL_IDS.reject, SPECIAL_IDS.reject]);
    expect(r.trim.map((x) => x.reward)).toEqual([2, -1]);
    r.trim.map((x) => x.advantage).forEach((a, i) => expect(a).toBeCloseTo([0.70711, -0.70711][i], 4));
    expect(r.trim.map((x) => x.token)).toEqual([SPECIAL_IDS.cut[1], SPECIAL_IDS.cut[0]]);
    // lambda is a knob.
    expect(refinerRewards({ ...input, interventionCost: 0.2 }).judge[1].reward).toBeCloseTo(1.8, 12);
  });

  it('each term is switchable; batchNormalize edge cases', () => {
    expect(refinerRewards({ ...input, trainJudge: false }).judge).toEqual([]);
    expect(refinerRewards({ ...input, trimWeight: 0 }).trim).toEqual([]);
    expect(refinerRewards({ ...input, regeneratedOf: () => null }).trim).toEqual([]);
    expect(batchNormalize([])).toEqual([]);
    expect(batchNormalize([0.7])).toEqual([0.7]);
    expect(batchNormalize([1, 1, 1])).toEqual([0, 0, 0]);
    expect(() => refinerRewards({ ...input, judge: [rec('judge', 't1', 3)] })).toThrow(/choice/);
    expect(() => refinerRewards({ ...input, trim: [rec('trim', 't2', 9)] })).toThrow(/cut 9/);
  });

  it('UpdateSequences: prompt ids + decision token, mask on it, role, weight, reference log-probs', async () => {
    const seqs = await refinerSequences(be.ops, model, { ...input, judgeWeight: 0.5, trimWeight: 2 });
    expect(seqs).toHaveLength(5);
    const ref = await sequenceLogprobs(be.ops, model, seqs, { entropy: false });
    seqs.forEach((s, i) => {
      expect(Array.from(s.ids.slice(0, 3))).toEqual([2, 30, 31]);
      expect(s.promptLength).toBe(3);
      expect(Array.from(s.mask)).toEqual([1]);
      expect(s.oldLogprobs).toBeUndefined();
      expect(s.refLogprobs[0]).toBeCloseTo(ref.logprobs[i][0], 6);
      expect(s.role).toBe(i < 3 ? 'judge' : 'trim');
      expect(s.weight).toBe(i < 3 ? 0.5 : 2);
      expect(s.temperature).toBe(1);
    });
    expect(seqs.map((s) => s.ids[3])).toEqual([SPECIAL_IDS.accept, SPECIAL_IDS.reject, SPECIAL_IDS.reject, SPECIAL_IDS.cut[1], SPECIAL_IDS.cut[0]]);
  });
});
