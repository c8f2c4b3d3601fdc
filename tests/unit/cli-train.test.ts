// The CLI contract of DESIGN 9 for train, ablate and export, run in-process on the tiny world: the files they
// promise, the last stdout line one JSON object, bad input refused with the allowed values.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/world/build.ts';
import { writeWorld } from '../../src/world/format.ts';
import { loadSources } from '../../src/world/sources.ts';
import { runCli } from './cli-capture.ts';

let dir: string;
let worldDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-train-'));
  worldDir = join(dir, 'world');
  writeWorld(worldDir, buildWorld({ seed: 0, size: 'tiny', sources: loadSources() }).world);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli', () => {
  it('train writes metrics, trajectories, a resumable checkpoint and the policy', async () => {
    const out = join(dir, 'run');
    const r = await runCli(['train', '--preset', 'search-r2', '--model', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '2', '--seed', '3', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.last).toMatchObject({ preset: 'search-r2', steps: 2, out });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; trajectories: number });
    expect(lines.map((m) => m.step)).toEqual([1, 2]);
    expect(lines[0].trajectories).toBeGreaterThanOrEqual(10);
    expect(readFileSync(join(out, 'trajectories.jsonl'), 'utf8').trim().split('\n')).toHaveLength(20);
    for (const f of ['last-step.json', 'policy.safetensors', 'checkpoints/step-0002/state.safetensors', 'checkpoints/step-0002/run.json']) expect(existsSync(join(out, f))).toBe(true);
    // Resume for one more step.
    const r2 = await runCli(['train', '--resume', join(out, 'checkpoints', 'step-0002'), '--world', worldDir, '--steps', '3', '--out', out]);
    expect(r2.code).toBe(0);
    expect(r2.last).toMatchObject({ steps: 3 });
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    // A knob of the saved config is not silently ignored.
    const r3 = await runCli(['train', '--resume', join(out, 'checkpoints', 'step-0002'), '--world', worldDir, '--steps', '4', '--lr', '0.001', '--seed', '2', '--out', out]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/--resume continues the saved run's config; --seed, --lr cannot be changed \(only --steps can\)/);
  });

  it('train --eval-every writes the dev curve to eval.jsonl, starting with the warm start at step 0', async () => {
    const out = join(dir, 'run-eval');
    const r = await runCli(['train', '--preset', 'search-r1', '--model', 'tiny', '--world', worldDir, '--steps', '2', '--questions', '1', '--eval-every', '2', '--lr', '0.0005', '--out', out]);
    expect(r.code).toBe(0);
    expect((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { lr: number }).lr).toBe(0.0005);
    const evals = readFileSync(join(out, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number; split: string; em: number; formatValid: number; n: number });
    expect(evals.map((e) => e.step)).toEqual([...Array(7).fill(0), ...Array(7).fill(2)]);
    expect(new Set(evals.map((e) => e.split)).size).toBe(7);
    for (const e of evals) {
      expect(e.type).toBe('eval');
      expect(e.n).toBeGreaterThan(0);
      expect(e.em).toBeGreaterThanOrEqual(0);
      expect(e.formatValid).toBeLessThanOrEqual(1);
    }
    expect(r.err).toMatch(/eval step 0 nq: em \d\.\d{3} format \d\.\d{2}/);
  });

  it('train refuses an unknown preset, naming the allowed ones', async () => {
    const r = await runCli(['train', '--preset', 'search-r3', '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown preset "search-r3".*search-r1, search-r1\+meta-refiner/);
  });

  it('train refuses an --lr that is not a number or is out of range', async () => {
    const bad = await runCli(['train', '--preset', 'search-r1', '--model', 'tiny', '--world', worldDir, '--lr', 'fast', '--out', join(dir, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--lr must be a positive number, got "fast"/);
    const big = await runCli(['train', '--preset', 'search-r1', '--model', 'tiny', '--world', worldDir, '--lr', '3', '--out', join(dir, 'x')]);
    expect(big.code).toBe(2);
    expect(big.err).toMatch(/lr/);
  });

  it('train refuses a --balance that is not a number in [0, 1], naming it', async () => {
    const word = await runCli(['train', '--preset', 'search-r1', '--model', 'tiny', '--world', worldDir, '--balance', 'even', '--out', join(dir, 'x')]);
    expect(word.code).toBe(2);
    expect(word.err).toMatch(/--balance must be a number in \[0, 1\], got "even"/);
    const big = await runCli(['train', '--preset', 'search-r1', '--model', 'tiny', '--world', worldDir, '--balance', '2', '--out', join(dir, 'x')]);
    expect(big.code).not.toBe(0);
    expect(big.err).toMatch(/questionBalance.*2 is not a number in \[0, 1\]/);
  });

  it('ablate --suite smoke writes results.json, .csv and .md', async () => {
    const out = join(dir, 'ablate');
    const r = await runCli(['ablate', '--suite', 'smoke', '--steps', '1', '--world', worldDir, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.last).toMatchObject({ suite: 'smoke', steps: 1 });
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: { preset: string; average: { mean: number }; em: Record<string, unknown>; trajectories_per_step: number; seconds_per_step: number; refine_rate: number }[]; quality: unknown };
    expect(res.rows.map((x) => x.preset)).toEqual(['search-r1', 'search-r2']);
    for (const row of res.rows) {
      expect(Object.keys(row.em)).toHaveLength(7);
      expect(row.trajectories_per_step).toBeGreaterThan(0);
      expect(row.seconds_per_step).toBeGreaterThan(0);
    }
    expect(res.rows[0].refine_rate).toBe(0);
    expect(res.quality).not.toBeNull();
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n')[0]).toMatch(/^preset,seeds,em_nq,/);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/\| Method \| NQ \| TriviaQA \|/);
  });

  it('ablate refuses an unknown suite', async () => {
    const r = await runCli(['ablate', '--suite', 'big', '--out', join(dir, 'y')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/smoke or paper/);
  });

  it('export --format search-r1 writes data, corpus and a launch config', async () => {
    const out = join(dir, 'export');
    const r = await runCli(['export', '--format', 'search-r1', '--world', worldDir, '--out', out]);
    expect(r.code).toBe(0);
    for (const f of ['data/corpus.jsonl', 'data/train.jsonl', 'data/test.jsonl', 'data/nq/train.jsonl', 'launch/config.json', 'launch/train_grpo.sh']) expect(existsSync(join(out, f))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'launch/config.json'), 'utf8')) as { actor_rollout_ref: { rollout: { n_agent: number } } };
    expect(cfg.actor_rollout_ref.rollout.n_agent).toBe(5);
    const first = JSON.parse(readFileSync(join(out, 'data/train.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(['id', 'question', 'golden_answers', 'data_source', 'metadata']);
  });
});
