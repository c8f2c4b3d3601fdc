// The ablation suite (issue 6, DESIGN 8-9): every preset of a suite trained for each seed from the same warm start,
// then evaluated as the paper deploys (the Actor alone, greedy) on the test part of every split. Rows are shaped
// like the paper's table: EM per split, the general (NQ, TriviaQA, PopQA) and multi-hop (HotpotQA, 2Wiki, Musique,
// Bamboogle) averages and the overall average, each as mean and 95% interval across seeds; plus trajectories and
// seconds per step, refine rate and the covariance terms (DESIGN 4.5). The trajectory-quality report pairs the
// Search-R1 and Search-R2 rows' test trajectories (first seed). Runs the same in Node (cli ablate) and in the worker.
import type { PassageRetriever, Rollout } from '../agent/rollout.ts';
import type { Backend } from '../engine/types.ts';
import type { SuiteProgress, TrainPresetName } from '../worker/train-protocol.ts';
import type { SplitName } from '../world/types.ts';
import { SPLITS } from '../world/types.ts';
import type { TrainerEvent } from './events.ts';
import { evaluatePolicy, GENERAL_SPLITS, MULTIHOP_SPLITS } from './evaluate.ts';
import { mean, meanCi, type MeanCi } from './metrics.ts';
import { presetConfig, SUITES, type SuiteSpec } from './presets.ts';
import { qualityReport, type QualityReport } from './quality.ts';
import { allQuestions, type CheckpointAsset, createTrainer, type WorldAssets } from './trainer-setup.ts';

export interface SuiteOptions {
  seeds?: number;
  steps?: number;
  /** Also evaluate with the Meta-Refiner live and report its cost. */
  evalRefiner?: boolean;
}

export interface SuiteDeps {
  backend: Backend;
  world: WorldAssets;
  checkpoint: CheckpointAsset | null;
  /** Default: BM25 top-k over the corpus. */
  retriever?: PassageRetriever;
  onProgress?: (p: SuiteProgress) => void;
  onEvent?: (e: TrainerEvent) => void;
  log?: (line: string) => void;
  /** Checked between steps; true stops the suite (what has finished is returned). */
  shouldStop?: () => boolean;
}

/** One (preset, seed) run. */
export interface SeedRun {
  preset: TrainPresetName;
  seed: number;
  steps: number;
  em: Partial<Record<SplitName, number>>;
  average: number;
  general: number;
  multihop: number;
  trajectoriesPerStep: number;
  tokensPerStep: number;
  secondsPerStep: number;
  refineRate: number;
  selectionCov: number;
  trimCov: number;
  meanGain: number | null;
  trainReward: { first: number; last: number };
  evalSeconds: number;
  refinerEval: { em: number; extraSeconds: number; extraTokens: number; rejected: number } | null;
}

export interface SuiteRow {
  preset: TrainPresetName;
  seeds: number;
  em: Partial<Record<SplitName, MeanCi>>;
  general: MeanCi;
  multihop: MeanCi;
  average: MeanCi;
  trajectories_per_step: number;
  tokens_per_step: number;
  seconds_per_step: number;
  refine_rate: number;
  selection_cov: number;
  trim_cov: number;
  mean_gain: number | null;
  refiner_eval: { em: number; extra_seconds: number; extra_tokens: number } | null;
}

export interface SuiteResults {
  suite: 'smoke' | 'paper';
  schedule: string;
  seeds: number;
  steps: number;
  eval: { part: 'test'; limit: number; splits: SplitName[]; actor: 'alone, greedy' };
  backend: string;
  warmStart: string;
  rows: SuiteRow[];
  runs: SeedRun[];
  quality: QualityReport | null;
  seconds: number;
}

const avgOf = (em: Partial<Record<SplitName, number>>, splits: readonly SplitName[]): number => {
  const xs = splits.map((s) => em[s]).filter((x): x is number => x !== undefined);
  return xs.length ? mean(xs) : 0;
};

export async function runSuite(name: 'smoke' | 'paper', opts: SuiteOptions, deps: SuiteDeps): Promise<SuiteResults> {
  const spec: SuiteSpec = SUITES[name];
  if (!spec) throw new Error(`ablate: unknown suite "${String(name)}" (allowed: smoke, paper)`);
  const seeds = opts.seeds ?? spec.seeds;
  const steps = opts.steps ?? spec.steps;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 30) throw new Error(`ablate: --seeds must be an integer in 1..30, got ${seeds}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`ablate: --steps must be a positive integer, got ${steps}`);
  const log = deps.log ?? ((): void => {});
  const t0 = performance.now();
  const runs: SeedRun[] = [];
  const testRollouts = new Map<string, Map<string, Rollout>>();
  const total = spec.presets.length * seeds;
  let stepSecondsSum = 0;
  let stepsMeasured = 0;
  for (const preset of spec.presets)
    for (let seed = 0; seed < seeds; seed++) {
      if (deps.shouldStop?.()) break;
      const done = runs.length;
      const eta = stepsMeasured > 0 ? (stepSecondsSum / stepsMeasured) * steps * (total - done) : null;
      deps.onProgress?.({ suite: name, done, total, preset, seed, etaSeconds: eta });
      const config = presetConfig(preset, spec.schedule, {
        steps,
        evalEvery: 0,
        backend: deps.backend.kind === 'webgpu' ? 'webgpu' : 'cpu',
        seeds: { init: 0, data: seed, sampling: seed },
        ...(spec.questionsPerStep ? { questionsPerStep: spec.questionsPerStep } : {}),
        ...(spec.trainSubset ? { trainSubset: spec.trainSubset } : {}),
      });
      const { trainer } = createTrainer({
        config, backend: deps.backend, world: deps.world, checkpoint: deps.checkpoint,
        ...(deps.retriever ? { retriever: deps.retriever } : {}),
        ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
      });
      try {
        for (let s = 0; s < steps; s++) {
          if (deps.shouldStop?.()) break;
          const rec = await trainer.step();
          stepSecondsSum += rec.metrics.seconds;
          stepsMeasured++;
          log(`${preset} seed ${seed} step ${rec.step}/${steps}: reward ${rec.metrics.reward.toFixed(3)} em ${rec.metrics.em.toFixed(3)} refine ${rec.metrics.refineRate.toFixed(2)} ${rec.metrics.seconds.toFixed(1)} s`);
        }
        const ctx = { backend: deps.backend, policy: trainer.policy, tokenizer: trainer.tokenizer, retriever: trainer.retriever };
        const evOpts = { part: 'test' as const, limit: spec.evalLimit, topK: trainer.config.topK, maxTurnTokens: trainer.config.maxTurnTokens, weights: trainer.config.rolloutWeights };
        const ev = await evaluatePolicy(ctx, deps.world.questions, evOpts);
        let refinerEval: SeedRun['refinerEval'] = null;
        if (opts.evalRefiner) {
          const evr = await evaluatePolicy(ctx, deps.world.questions, { ...evOpts, refiner: true, tau: trainer.config.tau });
          const ems = Object.values(evr.splits).map((x) => x?.em ?? 0);
          refinerEval = { em: mean(ems), extraSeconds: evr.refiner?.seconds ?? 0, extraTokens: evr.refiner?.tokens ?? 0, rejected: evr.refiner?.rejected ?? 0 };
        }
        if (seed === 0) testRollouts.set(preset, ev.rollouts);
        const em: Partial<Record<SplitName, number>> = {};
        for (const s of SPLITS) if (ev.splits[s]) em[s] = ev.splits[s]?.em;
        const ms = trainer.metrics;
        const nz = ms.filter((m) => m.meanGain !== null);
        runs.push({
          preset,
          seed,
          steps: ms.length,
          em,
          average: avgOf(em, SPLITS),
          general: avgOf(em, GENERAL_SPLITS),
          multihop: avgOf(em, MULTIHOP_SPLITS),
          trajectoriesPerStep: mean(ms.map((m) => m.trajectories)),
          tokensPerStep: mean(ms.map((m) => m.tokensGenerated)),
          secondsPerStep: mean(ms.map((m) => m.seconds)),
          refineRate: mean(ms.map((m) => m.refineRate)),
          selectionCov: mean(ms.map((m) => m.selectionCov)),
          trimCov: mean(ms.map((m) => m.trimCov)),
          meanGain: nz.length ? mean(nz.map((m) => m.meanGain as number)) : null,
          trainReward: { first: ms[0]?.reward ?? 0, last: ms[ms.length - 1]?.reward ?? 0 },
          evalSeconds: ev.seconds,
          refinerEval,
        });
        log(`${preset} seed ${seed}: test EM average ${runs[runs.length - 1].average.toFixed(3)} (${ev.seconds.toFixed(1)} s evaluation)`);
      } finally {
        trainer.dispose();
        trainer.policy.dispose();
        trainer.reference.dispose();
      }
    }
  const rows: SuiteRow[] = spec.presets
    .map((preset) => {
      const rs = runs.filter((r) => r.preset === preset);
      if (rs.length === 0) return null;
      const em: Partial<Record<SplitName, MeanCi>> = {};
      for (const s of SPLITS) {
        const xs = rs.map((r) => r.em[s]).filter((x): x is number => x !== undefined);
        if (xs.length) em[s] = meanCi(xs);
      }
      const gains = rs.map((r) => r.meanGain).filter((x): x is number => x !== null);
      const re = rs.map((r) => r.refinerEval).filter((x): x is NonNullable<SeedRun['refinerEval']> => x !== null);
      return {
        preset,
        seeds: rs.length,
        em,
        general: meanCi(rs.map((r) => r.general)),
        multihop: meanCi(rs.map((r) => r.multihop)),
        average: meanCi(rs.map((r) => r.average)),
        trajectories_per_step: mean(rs.map((r) => r.trajectoriesPerStep)),
        tokens_per_step: mean(rs.map((r) => r.tokensPerStep)),
        seconds_per_step: mean(rs.map((r) => r.secondsPerStep)),
        refine_rate: mean(rs.map((r) => r.refineRate)),
        selection_cov: mean(rs.map((r) => r.selectionCov)),
        trim_cov: mean(rs.map((r) => r.trimCov)),
        mean_gain: gains.length ? mean(gains) : null,
        refiner_eval: re.length ? { em: mean(re.map((x) => x.em)), extra_seconds: mean(re.map((x) => x.extraSeconds)), extra_tokens: mean(re.map((x) => x.extraTokens)) } : null,
      } satisfies SuiteRow;
    })
    .filter((r): r is SuiteRow => r !== null);
  const qs = new Map(allQuestions(deps.world.questions).map((q) => [q.id, q]));
  const r1 = testRollouts.get('search-r1');
  const r2 = testRollouts.get('search-r2') ?? testRollouts.get('search-r2-rev1');
  const quality = r1 && r2 ? await qualityReport('search-r1', r1, 'search-r2', r2, qs) : null;
  return {
    suite: name,
    schedule: spec.schedule,
    seeds,
    steps,
    eval: { part: 'test', limit: spec.evalLimit, splits: [...SPLITS], actor: 'alone, greedy' },
    backend: deps.backend.info.adapter,
    warmStart: deps.checkpoint ? deps.checkpoint.source : `fresh ${spec.schedule} policy (seed 0; no checkpoint)`,
    rows,
    runs,
    quality,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ---- outputs ----

const pct = (x: number): string => (100 * x).toFixed(1);
const ci = (m: MeanCi | undefined): string => (m ? (m.ci95 === null ? pct(m.mean) : `${pct(m.mean)} ± ${pct(m.ci95)}`) : '-');
const SPLIT_HEAD: Record<SplitName, string> = { nq: 'NQ', triviaqa: 'TriviaQA', popqa: 'PopQA', hotpotqa: 'HotpotQA', '2wiki': '2wiki', musique: 'Musique', bamboogle: 'Bamboogle' };

export function resultsCsv(r: SuiteResults): string {
  const head = ['preset', 'seeds', ...SPLITS.flatMap((s) => [`em_${s}`, `em_${s}_ci95`]), 'general', 'general_ci95', 'multihop', 'multihop_ci95', 'average', 'average_ci95',
    'trajectories_per_step', 'tokens_per_step', 'seconds_per_step', 'refine_rate', 'selection_cov', 'trim_cov', 'mean_gain'];
  const f = (x: number | null | undefined): string => (x === null || x === undefined ? '' : String(Math.round(x * 1e6) / 1e6));
  const lines = r.rows.map((row) =>
    [row.preset, String(row.seeds), ...SPLITS.flatMap((s) => [f(row.em[s]?.mean), f(row.em[s]?.ci95)]), f(row.general.mean), f(row.general.ci95), f(row.multihop.mean), f(row.multihop.ci95),
      f(row.average.mean), f(row.average.ci95), f(row.trajectories_per_step), f(row.tokens_per_step), f(row.seconds_per_step), f(row.refine_rate), f(row.selection_cov), f(row.trim_cov), f(row.mean_gain)].join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

export function resultsMarkdown(r: SuiteResults): string {
  const out: string[] = [];
  out.push(`# Ablation suite \`${r.suite}\``, '');
  out.push(`Schedule \`${r.schedule}\`, ${r.steps} GRPO steps, ${r.seeds} seed(s); warm start: ${r.warmStart}; backend: ${r.backend}.`);
  out.push(`Evaluation: the Actor alone, greedy, on the first ${r.eval.limit} test questions of each split. EM in %, mean ± 95% interval across seeds. ${r.seconds.toFixed(0)} s in all.`, '');
  out.push(`| Method | ${SPLITS.map((s) => SPLIT_HEAD[s]).join(' | ')} | General avg | Multi-hop avg | Avg. |`);
  out.push(`| --- | ${SPLITS.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
  for (const row of r.rows) out.push(`| ${row.preset} | ${SPLITS.map((s) => ci(row.em[s])).join(' | ')} | ${ci(row.general)} | ${ci(row.multihop)} | ${ci(row.average)} |`);
  out.push('', '| Method | trajectories / step | tokens / step | seconds / step | refine rate | cov(reject, -R) | cov(cut, gain) | mean gain |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const n = (x: number | null, d = 3): string => (x === null ? '-' : x.toFixed(d));
  for (const row of r.rows)
    out.push(`| ${row.preset} | ${row.trajectories_per_step.toFixed(1)} | ${row.tokens_per_step.toFixed(0)} | ${row.seconds_per_step.toFixed(2)} | ${pct(row.refine_rate)}% | ${n(row.selection_cov)} | ${n(row.trim_cov)} | ${n(row.mean_gain)} |`);
  const re = r.rows.filter((x) => x.refiner_eval);
  if (re.length) {
    out.push('', 'Evaluation with the Meta-Refiner live (tau 0.5, argmax cut, one greedy regeneration):', '', '| Method | EM avg | extra seconds | extra tokens |', '| --- | ---: | ---: | ---: |');
    for (const row of re) out.push(`| ${row.preset} | ${pct(row.refiner_eval?.em ?? 0)} | ${(row.refiner_eval?.extra_seconds ?? 0).toFixed(1)} | ${(row.refiner_eval?.extra_tokens ?? 0).toFixed(0)} |`);
  }
  if (r.quality) {
    out.push('', `## Trajectory quality: ${r.quality.b} vs ${r.quality.a} (${r.quality.pairs} paired test questions, seed 0)`, '');
    out.push('| Rubric | win | tie | loss | mean (R1) | mean (R2) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [k, v] of Object.entries(r.quality.rubrics)) out.push(`| ${k} | ${pct(v.winRate)}% | ${pct(v.tieRate)}% | ${pct(v.lossRate)}% | ${v.meanA.toFixed(3)} | ${v.meanB.toFixed(3)} |`);
  }
  return `${out.join('\n')}\n`;
}
