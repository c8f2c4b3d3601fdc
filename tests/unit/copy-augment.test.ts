// Copy augmentation (src/agent/copy-augment.ts): whole-word simultaneous renaming, observation spans that still
// enclose the information blocks, renamed demonstrations on a tiny world that stay consistent (the renamed answer
// is what the renamed passage states), and buildSftData's copyRate (seeded, judge/trim untouched).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorPrefixes, nameRole, NameSource, planNames, renamedActorText, renameMapping, renameResponse, replaceNames, WorldNameSource } from '../../src/agent/copy-augment.ts';
import type { Demonstration, ExpertContext } from '../../src/agent/expert.ts';
import { buildSftData } from '../../src/agent/sft-data.ts';
import { parseTrajectory } from '../../src/agent/trajectory.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import type { Question } from '../../src/world/types.ts';
import { type ExpertFixture, tinyExpertFixture } from './expert-fixture.ts';

describe('replaceNames', () => {
  it('replaces whole words only, longest name first, all at once (no chained replacement)', () => {
    const m = new Map([
      ['Sudan', 'Foo'],
      ['South Sudan', 'Bar'],
      ['Foo', 'Baz'],
    ]);
    expect(replaceNames('South Sudan borders Sudan, not Sudanese Foo.', m)).toBe('Bar borders Foo, not Sudanese Baz.');
  });

  it('also matches the lower-cased name and writes the lower-cased replacement', () => {
    expect(replaceNames('what is the capital of moldova? Moldova', new Map([['Moldova', 'Keci Za']]))).toBe('what is the capital of keci za? Keci Za');
  });

  it('leaves text without a name untouched, and an empty mapping is the identity', () => {
    expect(replaceNames('Nothing here.', new Map([['Chad', 'X']]))).toBe('Nothing here.');
    expect(replaceNames('Chad', new Map())).toBe('Chad');
  });
});

describe('renameResponse', () => {
  it('moves the observation spans with the text', () => {
    const response = '<think> Chad? </think> <search> Chad capital </search> <information> Chad: its capital is N\'Djamena. </information> <answer> N\'Djamena </answer>';
    const open = response.indexOf('<information>');
    const close = response.indexOf('</information>') + '</information>'.length;
    const r = renameResponse(response, [{ start: open, end: close }], new Map([['Chad', 'Republic Of Zumbavoti'], ["N'Djamena", 'Ka']]));
    const [o] = r.observations;
    expect(r.response.slice(o.start, o.end)).toBe('<information> Republic Of Zumbavoti: its capital is Ka. </information>');
    expect(r.response).toMatch(/<answer> Ka <\/answer>$/);
  });
});

let fx: ExpertFixture;
let train: Question[];
let ctx: ExpertContext;
let tok: PolicyTokenizer;
let demos: Demonstration[];

beforeAll(async () => {
  fx = await tinyExpertFixture('copy-aug-', 60);
  ({ train, ctx, tok, demos } = fx);
});

afterAll(() => fx?.dispose());

describe('renamed demonstrations', () => {
  it('rename every plan name consistently: question, queries, passages and answer', () => {
    expect(demos.length).toBeGreaterThan(20);
    const names = new NameSource(tok);
    let multiHop = 0;
    for (const [i, d] of demos.entries()) {
      const t = renamedActorText(d, names, new Rng(i));
      const parsed = parseTrajectory(t.response);
      expect(parsed.steps).toHaveLength(d.steps.length);
      expect(parsed.answer).toBe(t.answer);
      for (const o of t.observations) {
        expect(t.response.slice(o.start, o.start + '<information>'.length)).toBe('<information>');
        expect(t.response.slice(0, o.end).endsWith('</information>')).toBe(true);
      }
      // The renamed answer is stated in the last retrieved block (the reader can copy it from there).
      const lastObs = t.observations[t.observations.length - 1];
      if (d.plan.kind === 'chain') expect(t.response.slice(lastObs.start, lastObs.end)).toContain(t.answer);
      const renamed = planNames(d).filter((n) => n.length > 3 && !/^\d/.test(n));
      for (const n of renamed) expect(t.response, `${n} left in ${d.question.id}`).not.toMatch(new RegExp(`(?<![\\p{L}\\p{N}])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'u'));
      if (d.plan.hops.length > 1) multiHop++;
    }
    expect(multiHop).toBeGreaterThan(0);
  });

  it('world names: each name becomes a real name of the same role from another plan, consistently', () => {
    const names = new WorldNameSource(demos.map((d) => d.plan));
    const roleNames = new Map<string, Set<string>>();
    const add = (role: string, n: string | undefined): void => {
      if (n !== undefined) (roleNames.get(role) ?? roleNames.set(role, new Set()).get(role))?.add(n);
    };
    for (const d of demos)
      for (const h of d.plan.hops) {
        add(`subject:${h.relation}`, h.subject);
        add(`value:${h.relation}`, h.value);
        add('context', h.context);
      }
    let replaced = 0;
    for (const [i, d] of demos.entries()) {
      const text = `${d.question.question} ${d.response}`;
      const mapping = renameMapping(d, names, new Rng(i));
      const fresh = [...mapping.values()];
      expect(new Set(fresh).size).toBe(fresh.length);
      for (const [from, to] of mapping) {
        expect(to).not.toBe(from);
        if (/^\d/.test(from)) {
          expect(to.replace(/\d/g, '0')).toBe(from.replace(/\d/g, '0'));
          continue;
        }
        replaced++;
        const role = nameRole(d.plan, from);
        expect(role).not.toBeNull();
        expect(roleNames.get(role ?? '')?.has(to), `${to} is not a ${role}`).toBe(true);
        // Never a name the text already contains: the renamed text names each entity one way.
        expect(replaceNames(text, new Map([[to, '']]))).toBe(text);
      }
      const t = renamedActorText(d, names, new Rng(i));
      const lastObs = t.observations[t.observations.length - 1];
      if (d.plan.kind === 'chain') expect(t.response.slice(lastObs.start, lastObs.end)).toContain(t.answer);
      expect(parseTrajectory(t.response).answer).toBe(t.answer);
    }
    expect(replaced).toBeGreaterThan(demos.length / 2);
  });

  it('numbers keep their grouping and get new digits', () => {
    const names = new NameSource(tok);
    const rng = new Rng(3);
    for (const n of ['22,881', '7', '1,877,155', '3.5']) {
      const x = names.number(n, rng);
      expect(x.replace(/\d/g, '0')).toBe(n.replace(/\d/g, '0'));
      if (n.length > 1) expect(x[0]).not.toBe('0');
    }
  });
});

describe('buildSftData copyRate', () => {
  it('renames the share asked for, by seed, and leaves judge and trim examples alone', async () => {
    const base = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2 });
    const all = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1 });
    const half = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 0.5 });
    const again = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 0.5 });
    expect(base.stats.renamed).toBe(0);
    expect(all.stats.renamed).toBe(all.actor.length);
    expect(half.stats.renamed).toBeGreaterThan(0);
    expect(half.stats.renamed).toBeLessThan(half.actor.length);
    expect(half.actor.map((x) => Array.from(x.ids))).toEqual(again.actor.map((x) => Array.from(x.ids)));
    expect(all.judge.map((x) => Array.from(x.ids))).toEqual(base.judge.map((x) => Array.from(x.ids)));
    expect(all.trim.map((x) => Array.from(x.ids))).toEqual(base.trim.map((x) => Array.from(x.ids)));
    // Renamed Actor examples differ from the plain ones but keep the loss on the response only.
    let differ = 0;
    for (let i = 0; i < all.actor.length; i++) {
      const a = all.actor[i];
      if (Array.from(a.ids).join() !== Array.from(base.actor[i].ids).join()) differ++;
      expect(a.mask.slice(0, a.promptLength).every((m) => m === 0)).toBe(true);
    }
    expect(differ).toBe(all.actor.length);
    await expect(buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1.5 })).rejects.toThrow(/copyRate/);
  });

  it("copyNames 'world' renames with real names, seeded; an unknown source is refused", async () => {
    const fresh = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1 });
    const world = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1, copyNames: 'world' });
    const again = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1, copyNames: 'world' });
    expect(world.stats.renamed).toBe(world.actor.length);
    expect(world.actor.map((x) => Array.from(x.ids))).toEqual(again.actor.map((x) => Array.from(x.ids)));
    expect(world.actor.map((x) => Array.from(x.ids))).not.toEqual(fresh.actor.map((x) => Array.from(x.ids)));
    await expect(buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1, copyNames: 'other' as 'world' })).rejects.toThrow(/copyNames must be fresh or world/);
  });

  it('copyPrefixes adds the cuts of each renamed example: up to the first </search>, up to the think after the first read', async () => {
    const all = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1 });
    const pre = await buildSftData({ tokenizer: tok, ctx, questions: train, seed: 2, copyRate: 1, copyPrefixes: true });
    const full = pre.actor.filter((x) => all.actor.some((y) => y.ids.length === x.ids.length && y.ids.every((v, i) => v === x.ids[i])));
    expect(full).toHaveLength(all.actor.length);
    expect(pre.actor.length).toBeGreaterThan(2 * all.actor.length - 1);
    const s = tok.special;
    for (const x of all.actor) {
      const cuts = actorPrefixes(x, s);
      expect(cuts.length).toBeGreaterThanOrEqual(1);
      const [first, second] = cuts;
      expect(first.ids[first.ids.length - 1]).toBe(s.searchEnd);
      expect(Array.from(first.ids.slice(first.promptLength)).filter((v) => v === s.searchEnd)).toHaveLength(1);
      expect(Array.from(first.ids)).toEqual(Array.from(x.ids.slice(0, first.ids.length)));
      expect(Array.from(first.mask)).toEqual(Array.from(x.mask.slice(0, first.ids.length)));
      expect(tok.decode(first.ids.slice(first.promptLength))).toMatch(/^<think> .* <\/think> <search> .* <\/search>$/);
      if (second) {
        expect(second.ids[second.ids.length - 1]).toBe(s.thinkEnd);
        expect(Array.from(second.ids.slice(second.promptLength)).filter((v) => v === s.informationEnd)).toHaveLength(1);
        expect(second.mask.reduce((a, b) => a + b, 0)).toBeGreaterThan(first.mask.reduce((a, b) => a + b, 0));
      }
    }
  });
});
