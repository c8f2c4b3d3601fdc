import { describe, expect, it } from 'vitest';
import { meanCi, normalizeSuiteResults, PAPER, tableToCsv } from '../../src/ui/suite-results.ts';
import { alignedData, chartSpecs } from '../../src/ui/charts-model.ts';
import { stepFixture } from '../e2e/fixtures/step-fixture.ts';

describe('suite results', () => {
  it('computes a Student-t 95% interval', () => {
    expect(meanCi([0.5]).ci95).toBeNull();
    const { mean, ci95 } = meanCi([0.3, 0.4, 0.5]);
    expect(mean).toBeCloseTo(0.4, 12);
    // sd = 0.1, t(2) = 4.303, half = 4.303 * 0.1 / sqrt(3)
    expect(ci95?.[1]).toBeCloseTo(0.4 + (4.303 * 0.1) / Math.sqrt(3), 9);
  });

  it('reads one row per seed, grouping by preset', () => {
    const t = normalizeSuiteResults({ suite: 'smoke', rows: [
      { preset: 'search-r1', seed: 0, em: { nq: 0.2, hotpotqa: 0.1 }, trajectories_per_step: 10, seconds_per_step: 2, refine_rate: 0 },
      { preset: 'search-r1', seed: 1, em: { nq: 0.4, hotpotqa: 0.3 }, trajectories_per_step: 10, seconds_per_step: 4, refine_rate: 0 },
      { preset: 'search-r2', seed: 0, em: { nq: 0.5, hotpotqa: 0.3 }, trajectories_per_step: 13, seconds_per_step: 3, refine_rate: 0.3 },
    ] });
    expect(t.suite).toBe('smoke');
    expect(t.splits).toEqual(['nq', 'hotpotqa']);
    const r1 = t.rows[0];
    expect(r1.preset).toBe('search-r1');
    expect(r1.seeds).toBe(2);
    expect(r1.avg).toBeCloseTo(0.25, 12);
    expect(r1.ci95).not.toBeNull();
    expect(r1.perSplit.nq).toBeCloseTo(0.3, 12);
    expect(r1.secondsPerStep).toBe(3);
    expect(t.rows[1].avg).toBeCloseTo(0.4, 12);
    expect(t.rows[1].ci95).toBeNull();
  });

  it('reads a row per preset with em_<split> keys, percentages and a given interval', () => {
    const t = normalizeSuiteResults([{ preset: 'search-r2', em_nq: 40, em_musique: 20, average: 30, ci95: [25, 35], seeds: 3 }]);
    expect(t.rows[0]).toMatchObject({ preset: 'search-r2', seeds: 3, avg: 0.3, ci95: [0.25, 0.35], perSplit: { nq: 0.4, musique: 0.2 } });
    expect(t.splits).toEqual(['nq', 'musique']);
  });

  it('reads per-seed values and writes CSV with the paper column', () => {
    const t = normalizeSuiteResults({ results: [{ preset: 'search-r1', per_seed: [0.1, 0.2, 0.3], avg: 0.2 }] });
    expect(t.rows[0].seeds).toBe(3);
    expect(t.rows[0].ci95).not.toBeNull();
    const csv = tableToCsv(t).split('\n');
    expect(csv[0]).toBe('preset,seeds,em_avg,ci95_low,ci95_high,em_general,em_multihop,trajectories_per_step,seconds_per_step,refine_rate,paper_em,paper_model');
    expect(csv[1]).toMatch(/^search-r1,3,0\.2,/);
    expect(csv[1]).toContain(',35,Qwen2.5-7B');
    expect(PAPER['search-r2'].value).toBe(40.4);
  });

  it("reads the trainer's results.json (src/rl/suite.ts: MeanCi summaries with half-width intervals)", () => {
    const mc = (mean: number, ci95: number | null, n = 3) => ({ mean, ci95, n });
    const t = normalizeSuiteResults({ suite: 'paper', rows: [
      { preset: 'search-r2', seeds: 3, em: { nq: mc(0.5, 0.1), musique: mc(0.2, 0.05) }, general: mc(0.5, 0.1), multihop: mc(0.2, 0.05), average: mc(0.35, 0.07),
        trajectories_per_step: 13.5, tokens_per_step: 900, seconds_per_step: 3.2, refine_rate: 0.3, selection_cov: 0.1, trim_cov: 0.05, mean_gain: 0.4, refiner_eval: null },
    ], runs: [] });
    expect(t.suite).toBe('paper');
    const r = t.rows[0];
    expect(r).toMatchObject({ preset: 'search-r2', seeds: 3, avg: 0.35, perSplit: { nq: 0.5, musique: 0.2 }, general: 0.5, multihop: 0.2, trajectoriesPerStep: 13.5, refineRate: 0.3 });
    expect(r.ci95?.[0]).toBeCloseTo(0.28, 12);
    expect(r.ci95?.[1]).toBeCloseTo(0.42, 12);
    const one = normalizeSuiteResults({ rows: [{ preset: 'search-r1', seeds: 1, em: { nq: mc(0.25, null, 1) }, average: mc(0.25, null, 1) }] }).rows[0];
    expect(one.avg).toBe(0.25);
    expect(one.ci95).toBeNull();
  });

  it('never invents rows from unreadable input', () => {
    expect(normalizeSuiteResults(null).rows).toEqual([]);
    expect(normalizeSuiteResults({ foo: 1 }).rows).toEqual([]);
    expect(normalizeSuiteResults([{ em: 0.3 }]).rows).toEqual([]);
  });
});

describe('chart data', () => {
  it('aligns StepMetrics by step with nulls for missing values', () => {
    const m1 = stepFixture({ step: 2 }).metrics;
    const m2 = { ...stepFixture({ step: 1 }).metrics, selectionPrecision: null, devEm: undefined };
    const specs = chartSpecs([m1, m2]);
    const refine = specs.find((s) => s.id === 'refine');
    if (!refine) throw new Error('no refine chart');
    const d = alignedData([m1, m2], refine);
    expect(d[0]).toEqual([1, 2]);
    expect(d[2]).toEqual([null, 1]);
    const dev = specs.find((s) => s.id === 'dev');
    expect(dev?.series.map((s) => s.label)).toEqual(['hotpotqa', 'nq']);
    expect(dev && alignedData([m1, m2], dev)[2]).toEqual([null, 0.4]);
    // Per-role KL series only where a step recorded them (runs saved before have none).
    expect(specs.find((s) => s.id === 'opt')?.series.map((s) => s.label)).toEqual(['KL', 'clip fraction']);
    const m3 = { ...stepFixture({ step: 3 }).metrics, klByRole: { actor: 0.01, judge: 0.2 } };
    const opt = chartSpecs([m1, m3]).find((s) => s.id === 'opt');
    expect(opt?.series.map((s) => s.label)).toEqual(['KL', 'KL judge', 'clip fraction']);
    expect(opt && alignedData([m1, m3], opt)[2]).toEqual([null, 0.2]);
  });
});
