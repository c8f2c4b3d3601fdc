// Evaluation on the tiny world with the tiny preset (cpu backend): greedy actor metrics are well-formed and
// reproducible, the no-retrieval baseline searches nothing, the refiner metrics match a hand-checked case (a policy
// whose logits are the same at every position), and `cli eval` prints one JSON object per the contract.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ActorEvalRow, evaluateActor, evaluateRefiner, noRetrieval } from '../../src/agent/eval.ts';
import { bm25PassageRetriever } from '../../src/agent/rollout.ts';
import { buildWorldTokenizer, type SftExample } from '../../src/agent/sft-data.ts';
import { evalCommand, relationBreakdown, trimStepCount } from '../../src/cli/eval.ts';
import { pretrain } from '../../src/cli/pretrain.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { createPolicy } from '../../src/model/policy.ts';
import type { Transformer } from '../../src/model/transformer.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question, World } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';
import { tempDirs } from './temp-dirs.ts';

let be: Backend;
let tok: PolicyTokenizer;
let corpus: CorpusRecord[];
let world: World;
let worldDir: string;

const temp = tempDirs();

beforeAll(async () => {
  be = await createBackend('cpu');
  world = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
  worldDir = temp.make('eval-world-');
  writeWorld(worldDir, world);
  corpus = corpusRecords(world);
  const all: Question[] = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  tok = buildWorldTokenizer(corpus, all);
});

afterAll(() => {
  be?.dispose();
  temp.removeAll();
});

/** Sets every final hidden state to `u` (layernorm gain 0, bias u), so logits[v] = u . tok_emb[v] at every position. */
function constantLogits(model: Transformer, logit: ReadonlyMap<number, number>): void {
  const { dim, vocab } = model.config;
  const u = new Float32Array(dim);
  u[0] = 1;
  model.ops.write(model.lnfg.value, new Float32Array(dim));
  model.ops.write(model.lnfb.value, u);
  const emb = new Float32Array(vocab * dim);
  for (const [v, l] of logit) emb[v * dim] = l;
  model.ops.write(model.tokEmb.value, emb);
}

function example(role: 'judge' | 'trim', ids: number[], target: number, label: SftExample['label']): SftExample {
  const all = Int32Array.from([...ids, target]);
  const mask = new Uint8Array(all.length);
  mask[all.length - 1] = 1;
  return { role, questionId: `q${ids.length}`, ids: all, mask, promptLength: all.length - 1, target, label, correct: false, cut: null };
}

describe('refiner metrics', () => {
  it('match a hand-checked case: alpha from <accept>/<reject> at tau 0.5, cuts restricted to the valid ones', async () => {
    const sp = tok.special;
    const model = createPolicy(be.ops, 'tiny', tok.size, 0);
    try {
      // accept logit 1, reject 0: alpha = sigmoid(1) = 0.731 for every trajectory, so everything is accepted.
      // cut logits rise with k (cut_4 highest): the Trimmer picks the largest valid cut, min(K, 4).
      constantLogits(model, new Map([[sp.accept, 1], [sp.reject, 0], ...sp.cut.map((c, k): [number, number] => [c, k])]));
      const w = 5; // an ordinary token id
      const judge = [
        example('judge', [sp.bos, w, w], sp.accept, 'good'),
        example('judge', [sp.bos, w], sp.accept, 'good'),
        example('judge', [sp.bos, w, w, w], sp.reject, 'vague'),
        example('judge', [sp.bos, w, w, w, w], sp.reject, 'early'),
        example('judge', [sp.bos, w, w, w, w, w], sp.accept, 'good'),
      ];
      // Trajectories with K = 1, 2, 2, 0 searches; targets cut_1 (right: min(1,4) = 1), cut_2 (right), cut_0 (wrong),
      // cut_0 (right: K = 0 leaves only cut_0).
      const s = sp.search;
      const trim = [
        example('trim', [sp.bos, w, s, w], sp.cut[1], 'early'),
        example('trim', [sp.bos, s, w, s, w], sp.cut[2], 'early'),
        example('trim', [sp.bos, s, s, w], sp.cut[0], 'lookalike'),
        example('trim', [sp.bos, w, w], sp.cut[0], 'vague'),
      ];
      const steps = trim.map((x) => trimStepCount(x, tok));
      expect(steps).toEqual([1, 2, 2, 0]);
      const r = await evaluateRefiner(model, tok, judge, trim, steps);
      expect(r.judge.n).toBe(5);
      expect(r.judge.accuracy).toBeCloseTo(3 / 5, 9);
      expect(r.judge.accuracy_good).toBe(1);
      expect(r.judge.accuracy_flawed).toBe(0);
      expect(r.judge.mean_alpha_good).toBeCloseTo(1 / (1 + Math.exp(-1)), 5);
      expect(r.judge.by_label.vague).toEqual({ n: 1, accuracy: 0 });
      expect(r.trim.exact_cut).toBeCloseTo(3 / 4, 9);
      expect(r.trim.by_cut['0']).toEqual({ n: 2, accuracy: 0.5 });
      expect(r.trim.majority_baseline).toBeCloseTo(2 / 4, 9);
      // reject now more likely: every trajectory rejected.
      constantLogits(model, new Map([[sp.accept, 0], [sp.reject, 2]]));
      const r2 = await evaluateRefiner(model, tok, judge, [], []);
      expect(r2.judge.accuracy).toBeCloseTo(2 / 5, 9);
    } finally {
      model.dispose();
    }
  });
});

describe('actor metrics', () => {
  it('relationBreakdown: EM and format validity per relation chain (hand-made rows)', () => {
    const q = (id: string, relations: string[]): Question => ({ id, question: id, golden_answers: ['x'], supporting_ids: [], hops: relations.length, family: 'bridge', relations });
    const row = (id: string, em: 0 | 1, formatValid: boolean): ActorEvalRow => ({ id, question: id, golden: ['x'], answer: null, em, f1: em, formatValid, searches: 1, finish: 'answer', response: '' });
    const qs = [q('a', ['located_in', 'capital']), q('b', ['capital_of', 'language']), q('c', ['located_in', 'capital']), q('d', ['located_in', 'capital'])];
    const rows = [row('a', 1, true), row('b', 0, false), row('c', 0, true), row('d', 0, false)];
    expect(relationBreakdown(qs, rows)).toEqual({
      'located_in/capital': { n: 3, em: 0.3333, format_valid: 0.6667 },
      'capital_of/language': { n: 1, em: 0, format_valid: 0 },
    });
  });


  it('greedy rollouts give well-formed, reproducible numbers; no retrieval means empty searches', async () => {
    const model = createPolicy(be.ops, 'tiny', tok.size, 3);
    try {
      const qs = world.questions.hotpotqa.dev.slice(0, 3);
      const ret = bm25PassageRetriever(corpus);
      const a = await evaluateActor(model, tok, ret, qs, { slots: 3 });
      const b = await evaluateActor(model, tok, ret, qs, { slots: 2 });
      expect(a.result.n).toBe(3);
      for (const k of ['em', 'f1', 'format_valid', 'answered', 'truncated'] as const) {
        expect(a.result[k]).toBeGreaterThanOrEqual(0);
        expect(a.result[k]).toBeLessThanOrEqual(1);
      }
      expect(a.result.searches).toBeGreaterThanOrEqual(0);
      expect(a.rows.map((r) => r.answer)).toEqual(b.rows.map((r) => r.answer));
      expect(a.rows.map((r) => r.searches)).toEqual(b.rows.map((r) => r.searches));
      const none = await noRetrieval().search(['a', 'b'], 3);
      expect(none).toEqual([[], []]);
    } finally {
      model.dispose();
    }
  });

  it('sampled rollouts (temperature > 0) are reproducible by seed and differ from greedy', async () => {
    const model = createPolicy(be.ops, 'tiny', tok.size, 3);
    try {
      const qs = world.questions.hotpotqa.dev.slice(0, 3);
      const ret = bm25PassageRetriever(corpus);
      const greedy = await evaluateActor(model, tok, ret, qs, { slots: 3 });
      const a = await evaluateActor(model, tok, ret, qs, { slots: 3, temperature: 1, seed: 5 });
      const b = await evaluateActor(model, tok, ret, qs, { slots: 2, temperature: 1, seed: 5 });
      const c = await evaluateActor(model, tok, ret, qs, { slots: 3, temperature: 1, seed: 6 });
      expect(a.rows.map((r) => r.response)).toEqual(b.rows.map((r) => r.response));
      // An untrained tiny policy's distribution is nearly flat: another seed or greedy decoding writes other tokens.
      expect(c.rows.map((r) => r.response)).not.toEqual(a.rows.map((r) => r.response));
      expect(greedy.rows.map((r) => r.response)).not.toEqual(a.rows.map((r) => r.response));
    } finally {
      model.dispose();
    }
  });

  it('cli eval prints {split, em, f1, format_valid, searches, n} for a split and every split for --split all', async () => {
    const out = temp.make('eval-ckpt-');
    const logs: string[] = [];
    const spyLog = vi.spyOn(console, 'log').mockImplementation((m: unknown) => void logs.push(String(m)));
    const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const errors: string[] = [];
    const spyConsoleErr = vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    try {
      expect(await pretrain(['--preset', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '8', '--warmup', '1', '--out', out])).toBe(0);
      const ckpt = join(out, 'model.safetensors');
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--limit', '2'])).toBe(0);
      const one = JSON.parse(logs[logs.length - 1]) as Record<string, unknown>;
      expect(one.split).toBe('nq');
      expect(one.n).toBe(2);
      for (const k of ['em', 'f1', 'format_valid', 'searches']) expect(typeof one[k]).toBe('number');
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq,hotpotqa', '--limit', '1', '--no-retrieval'])).toBe(0);
      const both = JSON.parse(logs[logs.length - 1]) as { retrieval: string; splits: Record<string, { n: number }> };
      expect(both.retrieval).toBe('none');
      expect(Object.keys(both.splits)).toEqual(['nq', 'hotpotqa']);
      expect(await evalCommand(['refiner', '--checkpoint', ckpt, '--world', worldDir, '--limit', '4'])).toBe(0);
      const ref = JSON.parse(logs[logs.length - 1]) as { discriminator_accuracy: number; trimmer_exact_cut: number; judge: { n: number } };
      expect(ref.judge.n).toBeGreaterThan(0);
      expect(ref.discriminator_accuracy).toBeGreaterThanOrEqual(0);
      expect(ref.discriminator_accuracy).toBeLessThanOrEqual(1);
      // --part train: the policy's own training questions (the generalization gap against dev).
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--part', 'train', '--limit', '1'])).toBe(0);
      expect(JSON.parse(logs[logs.length - 1])).toMatchObject({ part: 'train', n: 1 });
      // A bad split or part is refused.
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nope'])).toBe(1);
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--part', 'validation'])).toBe(1);
      // --by-relation: EM and format validity per relation chain, the counts adding up to the split's.
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'hotpotqa', '--limit', '3', '--by-relation'])).toBe(0);
      const rel = JSON.parse(logs[logs.length - 1]) as { n: number; by_relation: Record<string, { n: number; em: number; format_valid: number }> };
      expect(Object.values(rel.by_relation).reduce((a, b) => a + b.n, 0)).toBe(rel.n);
      for (const k of Object.keys(rel.by_relation)) expect(k).toMatch(/^[a-z_]+(\/[a-z_]+)+$/);
      // --temperature T samples (reported in the JSON); out-of-range sampling options are refused with their range.
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--limit', '1', '--temperature', '0.7', '--top-p', '0.9'])).toBe(0);
      expect(JSON.parse(logs[logs.length - 1])).toMatchObject({ split: 'nq', n: 1, temperature: 0.7 });
      const errs = (): string => errors.join('\n');
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--temperature', '-1'])).toBe(1);
      expect(errs()).toContain('--temperature must be a number in [0, inf), got "-1"');
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--temperature', '1', '--top-p', '1.5'])).toBe(1);
      expect(errs()).toContain('--top-p must be a number in (0, 1], got "1.5"');
      expect(await evalCommand(['--checkpoint', ckpt, '--world', worldDir, '--split', 'nq', '--top-p', '0.5'])).toBe(1);
      expect(errs()).toContain('--top-p needs --temperature T > 0');
    } finally {
      spyLog.mockRestore();
      spyErr.mockRestore();
      spyConsoleErr.mockRestore();
    }
  });
});
