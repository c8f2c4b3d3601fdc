// Corpus language-modelling examples (src/agent/corpus-lm.ts) on the tiny world: every passage's tokens in exactly
// one chunk, chunks within the limit, loss on every token but <bos>, seeded order; the sampler's corpus share; and
// `cli pretrain --mix A,J,T,C` training on them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusExamples } from '../../src/agent/corpus-lm.ts';
import { makeBatch, SftSampler } from '../../src/agent/sft-batch.ts';
import { buildWorldTokenizer } from '../../src/agent/sft-data.ts';
import { passagesToString } from '../../src/retrieval/format.ts';
import type { PolicyTokenizer } from '../../src/text/policy-tokenizer.ts';
import { buildWorld } from '../../src/world/build.ts';
import { type LoadedWorld, readWorld, writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import { PARTS, SPLITS } from '../../src/world/types.ts';
import { runCli } from './cli-capture.ts';

let dir: string;
let world: LoadedWorld;
let tok: PolicyTokenizer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'corpus-lm-'));
  writeWorld(join(dir, 'world'), buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world);
  world = readWorld(join(dir, 'world'));
  tok = buildWorldTokenizer(world.corpus, SPLITS.flatMap((s) => PARTS.flatMap((p) => world.questions[s][p])));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('corpusExamples', () => {
  it('packs every passage once, within the chunk limit, loss on every token but <bos>; seeded', () => {
    const xs = corpusExamples(tok, world.corpus, { seed: 1, chunkTokens: 300 });
    const encoded = world.corpus.map((r) => Array.from(tok.encode(passagesToString([r.contents]).trim()).subarray(0, 299)));
    const total = encoded.reduce((a, e) => a + e.length, 0);
    expect(xs.reduce((a, x) => a + x.ids.length - 1, 0)).toBe(total);
    for (const x of xs) {
      expect(x.role).toBe('corpus');
      expect(x.ids.length).toBeLessThanOrEqual(300);
      expect(x.ids[0]).toBe(tok.special.bos);
      expect(x.mask[0]).toBe(0);
      expect(x.mask.subarray(1).every((m) => m === 1)).toBe(true);
    }
    // Each passage appears whole and in one piece in some chunk (spot check on every 10th passage).
    const joined = xs.map((x) => Array.from(x.ids.subarray(1)).join(','));
    for (let i = 0; i < encoded.length; i += 10) expect(joined.some((j) => `,${j},`.includes(`,${encoded[i].join(',')},`))).toBe(true);
    const again = corpusExamples(tok, world.corpus, { seed: 1, chunkTokens: 300 });
    expect(again.map((x) => Array.from(x.ids))).toEqual(xs.map((x) => Array.from(x.ids)));
    const other = corpusExamples(tok, world.corpus, { seed: 2, chunkTokens: 300 });
    expect(other.map((x) => Array.from(x.ids))).not.toEqual(xs.map((x) => Array.from(x.ids)));
    expect(() => corpusExamples(tok, world.corpus, { seed: 1, chunkTokens: 4 })).toThrow(/chunkTokens must be an integer >= 8/);
  });

  it('weighs like Actor tokens in a batch, and the sampler draws its share', () => {
    const xs = corpusExamples(tok, world.corpus, { seed: 1, chunkTokens: 64 });
    const b = makeBatch(xs.slice(0, 2), tok.special.pad, 10);
    expect(b.rowRoles.every((r) => r === 'corpus')).toBe(true);
    expect(Math.max(...b.weights)).toBeCloseTo(Math.min(...b.weights), 6);
    const actor = xs.slice(0, 20).map((x) => ({ ...x, role: 'actor' as const }));
    const s = new SftSampler({ actor, judge: [], trim: [], corpus: xs }, { seed: 0, mix: { actor: 0.5, judge: 0, trim: 0, corpus: 0.5 }, roundExamples: 10, tokenBudget: 1 << 20 });
    const round = s.next();
    expect(round.filter((x) => x.role === 'corpus')).toHaveLength(5);
  });
});

describe('cli pretrain --mix A,J,T,C', () => {
  it('trains on corpus chunks with the share given and puts it in the command', async () => {
    const out = mkdtempSync(join(tmpdir(), 'corpus-pretrain-'));
    const r = await runCli(['pretrain', '--preset', 'tiny', '--world', join(dir, 'world'), '--steps', '3', '--questions', '8', '--warmup', '1', '--mix', '0.7,0.1,0.1,0.3', '--out', out]);
    const bad = await runCli(['pretrain', '--preset', 'tiny', '--world', join(dir, 'world'), '--steps', '1', '--mix', '0,0,0,1', '--out', out]);
    expect(r.code).toBe(0);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--mix must be three or four non-negative numbers/);
    const summary = r.last as unknown as { examples: Record<string, number> };
    expect(summary.examples.corpus).toBeGreaterThan(0);
    const steps = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { role_loss: Record<string, number | null> });
    expect(steps.some((x) => (x.role_loss.corpus ?? 0) > 0)).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--mix 0.7,0.1,0.1,0.3');
    rmSync(out, { recursive: true, force: true });
  });
});
