// The SFT warm start on the tiny world with the tiny preset (cpu backend): batching by a token budget with padding
// masked out, the loss falls on a fixed seed, the same seed gives the same weights bit for bit, masked tokens do not
// reach the loss, and `cli pretrain` writes a checkpoint bound to its world and tokenizer.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpertContext } from '../../src/agent/expert.ts';
import { lossPositions, makeBatch, roleCounts, SftSampler } from '../../src/agent/sft-batch.ts';
import { buildSftData, buildWorldTokenizer, type SftData, type SftExample } from '../../src/agent/sft-data.ts';
import { lrAt, sftLossAndGrad, trainSft } from '../../src/agent/sft-train.ts';
import { formatTagIds } from '../../src/cli/pretrain.ts';
import { createBackend } from '../../src/engine/create.ts';
import type { Backend } from '../../src/engine/types.ts';
import { checkpointTokenizerSlots, createPolicy, loadPolicy, PolicyCheckpointError, worldHash } from '../../src/model/policy.ts';
import { Transformer } from '../../src/model/transformer.ts';
import { createBm25Retriever } from '../../src/retrieval/bm25.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import { buildWorld } from '../../src/world/build.ts';
import { corpusRecords, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import type { CorpusRecord, Question } from '../../src/world/types.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';
import { runCli } from './cli-capture.ts';
import { tempDirs } from './temp-dirs.ts';

let be: Backend;
let tok: PolicyTokenizer;
let corpus: CorpusRecord[];
let data: SftData;
let worldDir: string;

const temp = tempDirs();

beforeAll(async () => {
  be = await createBackend('cpu');
  const world = buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world;
  worldDir = temp.make('sft-world-');
  writeWorld(worldDir, world);
  corpus = corpusRecords(world);
  const all: Question[] = SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p]));
  tok = buildWorldTokenizer(corpus, all);
  const train = [...world.questions.nq.train.slice(0, 12), ...world.questions.hotpotqa.train.slice(0, 12)];
  data = await buildSftData({ tokenizer: tok, ctx: createExpertContext(corpus, createBm25Retriever(corpus), train), questions: train, seed: 0 });
});

afterAll(() => {
  be?.dispose();
  temp.removeAll();
});

const fits = (xs: SftExample[], n = 512): SftExample[] => xs.filter((x) => x.ids.length <= n);
const tinyData = (): Record<'actor' | 'judge' | 'trim', SftExample[]> => ({ actor: fits(data.actor), judge: fits(data.judge), trim: fits(data.trim) });

async function weights(m: Transformer): Promise<Float32Array[]> {
  return Promise.all(m.params.map((p) => m.ops.readF32(p.value)));
}

describe('batching', () => {
  it('pads to the longest example, trains only mask-1 targets, weights sum to 1 with decision tokens weighted', () => {
    const a = data.actor[0];
    const j = data.judge[0];
    const b = makeBatch([a, j], tok.special.pad, 10);
    expect(b.t).toBe(Math.max(a.ids.length, j.ids.length));
    expect(Array.from(b.keyLengths)).toEqual([a.ids.length, j.ids.length]);
    const actorRows = lossPositions(a);
    expect(actorRows.length).toBe(a.mask.reduce((s, v) => s + v, 0) - a.mask[0]);
    expect(b.rows.length).toBe(actorRows.length + 1);
    // The judge row predicts its decision token, from the position before it.
    expect(b.rows[b.rows.length - 1]).toBe(b.t + j.ids.length - 2);
    expect(b.targets[b.targets.length - 1]).toBe(j.target);
    // Padding after the shorter example.
    const short = a.ids.length < j.ids.length ? 0 : 1;
    expect(b.ids[short * b.t + b.t - 1]).toBe(tok.special.pad);
    const sum = b.weights.reduce((s, w) => s + w, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(b.weights[b.weights.length - 1] / b.weights[0]).toBeCloseTo(10, 4);
    // --tag-weight: the Actor's format-tag targets weigh W actor tokens; the judge's decision keeps its weight.
    const tags = formatTagIds(tok);
    const tw = makeBatch([a, j], tok.special.pad, 10, { ids: tags, weight: 3 });
    const plainRow = Array.from(tw.targets).findIndex((t, i) => i < actorRows.length && !tags.has(t));
    const tagRows = Array.from(tw.targets).map((t, i) => (i < actorRows.length && tags.has(t) ? i : -1)).filter((i) => i >= 0);
    expect(tagRows.length).toBeGreaterThan(1);
    for (const i of tagRows) expect(tw.weights[i] / tw.weights[plainRow]).toBeCloseTo(3, 4);
    expect(tw.weights[tw.weights.length - 1] / tw.weights[plainRow]).toBeCloseTo(10, 4);
    expect(tw.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
    expect(() => makeBatch([a], tok.special.pad, 10, { ids: tags, weight: 0 })).toThrow(/tag weight must be > 0/);
  });

  it('role counts are exact shares; the sampler keeps batches under the token budget and is seeded', () => {
    expect(roleCounts({ actor: 0.5, judge: 0.3, trim: 0.2 }, 10, { actor: 1, judge: 1, trim: 1 })).toEqual({ actor: 5, judge: 3, trim: 2, corpus: 0 });
    expect(roleCounts({ actor: 1, judge: 1, trim: 1 }, 4, { actor: 5, judge: 0, trim: 5 })).toEqual({ actor: 2, judge: 0, trim: 2, corpus: 0 });
    // Corpus LM examples only with a share and examples of their own.
    expect(roleCounts({ actor: 0.5, judge: 0.2, trim: 0.1, corpus: 0.2 }, 10, { actor: 1, judge: 1, trim: 1, corpus: 1 })).toEqual({ actor: 5, judge: 2, trim: 1, corpus: 2 });
    expect(roleCounts({ actor: 0.5, judge: 0.2, trim: 0.1, corpus: 0.2 }, 8, { actor: 1, judge: 1, trim: 1 })).toEqual({ actor: 5, judge: 2, trim: 1, corpus: 0 });
    const d = tinyData();
    const mk = (seed: number): SftSampler => new SftSampler(d, { seed, mix: { actor: 0.5, judge: 0.3, trim: 0.2 }, roundExamples: 16, tokenBudget: 1024 });
    const s1 = mk(3);
    const s2 = mk(3);
    const s3 = mk(4);
    const keys = (xs: SftExample[]): string => xs.map((x) => `${x.role}:${x.questionId}:${x.label}`).join(',');
    let differs = false;
    for (let i = 0; i < 12; i++) {
      const a = s1.next();
      const b = s2.next();
      expect(keys(a)).toBe(keys(b));
      differs ||= keys(a) !== keys(s3.next());
      const t = Math.max(...a.map((x) => x.ids.length));
      expect(a.length === 1 || a.length * t <= 1024).toBe(true);
    }
    expect(differs).toBe(true);
  });

  it('balance: groups drawn with probability ~ count^alpha, each group in seeded passes; alpha outside [0, 1] refused', () => {
    // 90 Actor examples of group "big", 10 of "small" (made-up ids; the sampler only reads role, questionId, ids).
    const mkEx = (g: string, i: number): SftExample => ({
      role: 'actor', questionId: `${g}-${i}`, ids: Int32Array.from([1, 2, 3]), mask: Uint8Array.from([0, 1, 1]), promptLength: 1,
      target: null, label: 'good', correct: true, cut: null,
    });
    const actor = [...Array.from({ length: 90 }, (_, i) => mkEx('big', i)), ...Array.from({ length: 10 }, (_, i) => mkEx('small', i))];
    const groupOf = (x: SftExample): string => x.questionId.split('-')[0];
    const sampler = (alpha: number, seed = 1): SftSampler =>
      new SftSampler({ actor, judge: [], trim: [] }, { seed, mix: { actor: 1, judge: 0, trim: 0 }, roundExamples: 20, tokenBudget: 4096, balance: { groupOf, alpha } });
    const draws = (sm: SftSampler, n: number): SftExample[] => {
      const out: SftExample[] = [];
      while (out.length < n) out.push(...sm.next());
      return out.slice(0, n);
    };
    expect(sampler(0).groupShares('actor')).toEqual([{ key: 'big', examples: 90, share: 0.5 }, { key: 'small', examples: 10, share: 0.5 }]);
    const one = sampler(1).groupShares('actor');
    expect(one[0].share).toBeCloseTo(0.9, 12);
    expect(one[1].share).toBeCloseTo(0.1, 12);
    // alpha 0.5: 90^0.5 : 10^0.5 = 3 : 1.
    expect(sampler(0.5).groupShares('actor')[1].share).toBeCloseTo(0.25, 12);
    const small = (xs: SftExample[]): number => xs.filter((x) => groupOf(x) === 'small').length / xs.length;
    expect(small(draws(sampler(0), 4000))).toBeGreaterThan(0.46);
    expect(small(draws(sampler(0), 4000))).toBeLessThan(0.54);
    expect(small(draws(sampler(1), 4000))).toBeLessThan(0.13);
    // A group's examples come in passes: over whole rounds each small example is drawn k or k + 1 times.
    const counts = new Map<string, number>();
    for (const x of draws(sampler(0), 2000)) if (groupOf(x) === 'small') counts.set(x.questionId, (counts.get(x.questionId) ?? 0) + 1);
    expect(counts.size).toBe(10);
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
    // Seeded: the same seed draws the same examples, another seed others.
    const ids = (sm: SftSampler): string => draws(sm, 60).map((x) => x.questionId).join(',');
    expect(ids(sampler(0, 7))).toBe(ids(sampler(0, 7)));
    expect(ids(sampler(0, 7))).not.toBe(ids(sampler(0, 8)));
    // 4000 draws from 100 examples: 40 passes.
    const sm = sampler(0);
    draws(sm, 4000);
    expect(sm.passes().actor).toBe(40);
    // No balance: no groups.
    expect(new SftSampler({ actor, judge: [], trim: [] }, { seed: 1, mix: { actor: 1, judge: 0, trim: 0 }, roundExamples: 20, tokenBudget: 4096 }).groupShares('actor')).toEqual([]);
    expect(() => sampler(1.5)).toThrow(/balance alpha must be in \[0, 1\], got 1.5/);
    // DAgger recovery examples (addActorExtra) are balanced the same way: 18 of "big", 2 of "small", half each.
    const ex = sampler(0);
    ex.addActorExtra([...Array.from({ length: 18 }, (_, i) => mkEx('big', 100 + i)), ...Array.from({ length: 2 }, (_, i) => mkEx('small', 100 + i))], 1);
    const extra = draws(ex, 2000);
    expect(extra.every((x) => Number(x.questionId.split('-')[1]) >= 100)).toBe(true);
    expect(small(extra)).toBeGreaterThan(0.45);
    expect(small(extra)).toBeLessThan(0.55);
  });

  it('learning rate: linear warmup, cosine down to the floor', () => {
    expect(lrAt(1, 100, 1, 10, 0.1)).toBeCloseTo(0.1, 9);
    expect(lrAt(10, 100, 1, 10, 0.1)).toBeCloseTo(1, 9);
    expect(lrAt(55, 100, 1, 10, 0.1)).toBeCloseTo(0.55, 9);
    expect(lrAt(100, 100, 1, 10, 0.1)).toBeCloseTo(0.1, 9);
  });
});

describe('loss and gradients', () => {
  it('masked tokens do not reach the loss; padding does not either; a trained token does', async () => {
    const model = createPolicy(be.ops, 'tiny', tok.size, 5);
    try {
      const a = data.actor.find((x) => x.ids.length <= 400 && x.mask[x.mask.length - 1] === 1) as SftExample;
      expect(a).toBeDefined();
      // A copy whose mask ends before a tail of 5 tokens: those tokens are targets of no loss row and inputs of none.
      const n = a.ids.length;
      const mask = Uint8Array.from(a.mask);
      mask.fill(0, n - 5);
      const base: SftExample = { ...a, mask };
      const loss = async (x: SftExample, pad = tok.special.pad, other?: SftExample): Promise<number> =>
        (await sftLossAndGrad(model, other ? [x, other] : [x], pad, 8, { backward: false })).loss;
      const l0 = await loss(base);
      const changedTail = { ...base, ids: Int32Array.from(base.ids) };
      changedTail.ids[n - 2] = (changedTail.ids[n - 2] + 7) % tok.size;
      expect(await loss(changedTail)).toBe(l0);
      // Changing a trained target changes the loss.
      const trained = lossPositions(base)[3] + 1;
      const changedTarget = { ...base, ids: Int32Array.from(base.ids) };
      changedTarget.ids[trained] = (changedTarget.ids[trained] + 7) % tok.size;
      expect(await loss(changedTarget)).not.toBe(l0);
      // Padding: a batch with a longer example gives the same loss whatever the pad id.
      const longer = data.judge.find((x) => x.ids.length > n && x.ids.length <= 512) as SftExample;
      expect(longer).toBeDefined();
      const p1 = await loss(base, tok.special.pad, longer);
      const p2 = await loss(base, 17, longer);
      expect(Math.abs(p1 - p2)).toBeLessThan(1e-6);
    } finally {
      model.dispose();
    }
  });

  it('the loss falls on a fixed seed (all three roles), and the same seed gives the same weights', async () => {
    const d = tinyData();
    const probe = [d.actor[0], d.actor[1], d.judge[0], d.judge[1], d.trim[0]];
    const run = async (seed: number, steps: number): Promise<{ w: Float32Array[]; before: number; after: number; last: number }> => {
      const model = createPolicy(be.ops, 'tiny', tok.size, seed);
      try {
        const before = (await sftLossAndGrad(model, probe, tok.special.pad, 8, { backward: false })).loss;
        const r = await trainSft(model, d, { steps, seed, lr: 3e-3, warmupSteps: 5, tokenBudget: 1024, padId: tok.special.pad });
        const after = (await sftLossAndGrad(model, probe, tok.special.pad, 8, { backward: false })).loss;
        return { w: await weights(model), before, after, last: r.lastLoss };
      } finally {
        model.dispose();
      }
    };
    const a = await run(1, 40);
    expect(a.after).toBeLessThan(a.before - 1);
    const b = await run(1, 40);
    expect(b.w.length).toBe(a.w.length);
    a.w.forEach((w, i) => expect(Buffer.from(b.w[i].buffer).equals(Buffer.from(w.buffer))).toBe(true));
    expect(b.before).toBe(a.before);
    expect(b.after).toBe(a.after);
    const c = await run(2, 3);
    expect(Buffer.from(c.w[0].buffer).equals(Buffer.from(a.w[0].buffer))).toBe(false);
  });
});

describe('cli pretrain', () => {
  it('writes a checkpoint bound to the world and tokenizer, a train log and a README with the command', async () => {
    const out = temp.make('sft-pretrain-');
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '4', '--questions', '16', '--warmup', '2', '--out', out]);
    expect(r.code).toBe(0);
    const summary = r.last as Record<string, unknown>;
    expect(summary.steps).toBe(4);
    expect(summary.world).toBe(worldHash(corpus));
    expect(summary.tokenizer).toBe(tok.hash);
    expect(existsSync(join(out, 'train-log.jsonl'))).toBe(true);
    expect(readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('pretrain --preset tiny');
    const bytes = readFileSync(join(out, 'model.safetensors'));
    const loaded = loadPolicy(be.ops, bytes, 'model.safetensors', { expect: { tokenizerHash: tok.hash, worldHash: worldHash(corpus) } });
    expect(loaded.model.parameterCount).toBe(summary.parameters);
    expect(loaded.metadata.dtype).toBe('F16');
    loaded.model.dispose();
    // Another world (one passage fewer): refused, naming the world.
    const other = worldHash(corpus.slice(1));
    let err: unknown;
    try {
      loadPolicy(be.ops, bytes, 'model.safetensors', { expect: { tokenizerHash: tok.hash, worldHash: other } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyCheckpointError);
    expect((err as PolicyCheckpointError).field).toBe('world');
    expect((err as Error).message).toContain(`current world is ${other}`);
  });

  it('--shift S gives the policy a token shift (in the checkpoint config and the README command); out of range is refused; --tag-weight is reported', async () => {
    const out = temp.make('sft-pretrain-shift-');
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '8', '--warmup', '1', '--shift', '1', '--tag-weight', '2', '--out', out]);
    const bad = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--shift', '9', '--out', out]);
    expect(r.code).toBe(0);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--shift must be an integer in 0..4, got 9/);
    const summary = r.last as Record<string, unknown>;
    expect(summary.shift).toBe(1);
    expect(summary.tag_weight).toBe(2);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toContain('--shift 1');
    expect(readme).toContain('--tag-weight 2');
    const loaded = loadPolicy(be.ops, readFileSync(join(out, 'model.safetensors')), 'model.safetensors', { expect: { tokenizerHash: tok.hash, worldHash: worldHash(corpus) } });
    expect(loaded.config.shift).toBe(1);
    expect(loaded.model.paramsByName().has('shift.1')).toBe(true);
    loaded.model.dispose();
    const both = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--shift', '1', '--positions', 'sinusoidal', '--init', join(out, 'model.safetensors'), '--out', out]);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/with --init the position embeddings come from the checkpoint/);
  });

  it('--frozen-embeddings keeps tok_emb at its initialization through pretrain (config, summary, README); refused with --init', async () => {
    const out = temp.make('sft-pretrain-frozen-');
    const args = ['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '3', '--questions', '8', '--warmup', '1', '--seed', '4'];
    const r = await runCli([...args, '--frozen-embeddings', '--out', out]);
    expect(r.code).toBe(0);
    expect((r.last as Record<string, unknown>).frozen_embeddings).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--frozen-embeddings');
    const loaded = loadPolicy(be.ops, readFileSync(join(out, 'model.safetensors')), 'model.safetensors', { expect: { tokenizerHash: tok.hash, worldHash: worldHash(corpus) } });
    expect(loaded.config.frozenEmbeddings).toBe(true);
    // The same seed builds the same initial table: the trained checkpoint still holds it (F16 rounding aside).
    const fresh = new Transformer(be.ops, loaded.config, 4);
    const want = await be.ops.readF32(fresh.tokEmb.value);
    const got = await be.ops.readF32(loaded.model.tokEmb.value);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-3);
    // ... while the other weights moved.
    const w1 = await be.ops.readF32(loaded.model.paramsByName().get('h0.mlp.w1')!.value);
    const w1Fresh = await be.ops.readF32(fresh.paramsByName().get('h0.mlp.w1')!.value);
    expect(w1.some((x, i) => Math.abs(x - w1Fresh[i]) > 1e-3)).toBe(true);
    fresh.dispose();
    loaded.model.dispose();
    const both = await runCli([...args, '--frozen-embeddings', '--init', join(out, 'model.safetensors'), '--out', out]);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/--frozen-embeddings sets how a fresh policy is built; with --init the checkpoint's config decides/);
  });

  it('--slots N trains with an entity-slot tokenizer that the checkpoint records and eval rebuilds; refused with --init', async () => {
    const out = temp.make('sft-pretrain-slots-');
    const args = ['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '8', '--warmup', '1'];
    const r = await runCli([...args, '--slots', '16', '--out', out]);
    expect(r.code).toBe(0);
    const last = r.last as { entity_slots: number; vocab: number };
    expect(last.entity_slots).toBe(16);
    expect(last.vocab).toBe(tok.size + 4 * 16);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--slots 16');
    const bytes = readFileSync(join(out, 'model.safetensors'));
    expect(checkpointTokenizerSlots(bytes, 'model.safetensors')).toBe(16);
    // Bound to the slot tokenizer: the plain one is refused by name.
    expect(() => loadPolicy(be.ops, bytes, 'model.safetensors', { expect: { tokenizerHash: tok.hash, worldHash: worldHash(corpus) } })).toThrow(/tokenizer/);
    const ev = await runCli(['eval', '--checkpoint', join(out, 'model.safetensors'), '--world', worldDir, '--split', 'nq', '--limit', '2']);
    expect(ev.code).toBe(0);
    expect((ev.last as { n: number }).n).toBe(2);
    const both = await runCli([...args, '--slots', '16', '--init', join(out, 'model.safetensors'), '--out', out]);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/--slots sets the tokenizer of a fresh policy; with --init the checkpoint's tokenizer decides/);
    for (const bad of ['0', '513', 'x']) {
      const e = await runCli([...args, '--slots', bad, '--out', out]);
      expect(e.code, bad).not.toBe(0);
      expect(e.err).toMatch(/--slots/);
    }
  });

  it('--balance A draws the examples per relation chain (groups and shares in the summary, README command); bad values refused', async () => {
    const out = temp.make('sft-pretrain-balance-');
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '24', '--warmup', '1', '--balance', '0', '--out', out]);
    expect(r.code).toBe(0);
    const b = (r.last as { balance: { alpha: number; actor_groups: { key: string; examples: number; share: number }[] } }).balance;
    expect(b.alpha).toBe(0);
    expect(b.actor_groups.length).toBeGreaterThan(1);
    for (const g of b.actor_groups) {
      expect(g.key).toMatch(/^(nq|hotpotqa):[a-z_]+(\/[a-z_]+)*$/);
      expect(g.share).toBeCloseTo(1 / b.actor_groups.length, 3);
    }
    expect(b.actor_groups.reduce((a, g) => a + g.examples, 0)).toBe((r.last as { examples: { actor: number } }).examples.actor);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--balance 0');
    for (const bad of ['1.5', '-0.1', 'x']) {
      const e = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--balance', bad, '--out', out]);
      expect(e.code).not.toBe(0);
      expect(e.err).toContain(`--balance must be a number in [0, 1], got "${bad}"`);
    }
  });

  it('--copy P --copy-names world renames that share of the Actor examples with world names; bad combinations are refused', async () => {
    const out = temp.make('sft-pretrain-copy-');
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '16', '--warmup', '1', '--copy', '0.5', '--copy-names', 'world', '--out', out]);
    expect(r.code).toBe(0);
    const sft = (r.last as { sft: { good: number; renamed: number } }).sft;
    expect(sft.renamed).toBeGreaterThan(0);
    expect(sft.renamed).toBeLessThan(sft.good);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--copy 0.5 --copy-names world');
    const alone = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--copy-names', 'world', '--out', out]);
    expect(alone.code).not.toBe(0);
    expect(alone.err).toMatch(/--copy-names world needs --copy P with P > 0/);
    const other = await runCli(['pretrain', '--preset', 'tiny', '--world', worldDir, '--steps', '2', '--copy', '0.5', '--copy-names', 'made-up', '--out', out]);
    expect(other.code).not.toBe(0);
    expect(other.err).toMatch(/--copy-names must be fresh or world, got "made-up"/);
  });
});
