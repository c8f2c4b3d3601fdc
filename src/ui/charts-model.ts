// What the Charts panel plots, as pure data: one spec per chart, series read from StepMetrics (DESIGN 4.5).
import type { StepMetrics } from '../rl/events.ts';

export interface SeriesSpec {
  label: string;
  colour: string;
  get(m: StepMetrics): number | null | undefined;
  dash?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  hint: string;
  series: SeriesSpec[];
}

const C = ['#2166ac', '#b2182b', '#1b7837', '#8a5a00', '#762a83', '#35978f', '#5b6478'];

export function chartSpecs(metrics: readonly StepMetrics[]): ChartSpec[] {
  const splits = [...new Set(metrics.flatMap((m) => Object.keys(m.devEm ?? {})))].sort();
  // The refiner's decision tokens get their own KL series once a step has trained them (search-r2 and its variants).
  const decisionRoles = (['judge', 'trim'] as const).filter((r) => metrics.some((m) => m.klByRole?.[r] !== undefined));
  return [
    { id: 'reward', title: 'EM and reward (training questions)', hint: 'mean over the final trajectories of each step', series: [
      { label: 'EM', colour: C[0], get: (m) => m.em },
      { label: 'reward', colour: C[1], get: (m) => m.reward },
      { label: 'F1', colour: C[2], get: (m) => m.f1, dash: true },
    ] },
    { id: 'dev', title: 'Dev EM per split', hint: splits.length ? 'evaluated every few steps' : 'no evaluation has run yet (evalEvery)', series: splits.map((sp, i) => ({ label: sp, colour: C[i % C.length], get: (m: StepMetrics) => m.devEm?.[sp] })) },
    { id: 'refine', title: 'Refiner: intervention volume and selection', hint: 'share rejected; precision and recall of rejecting a wrong trajectory', series: [
      { label: 'refine rate', colour: C[0], get: (m) => m.refineRate },
      { label: 'selection precision', colour: C[1], get: (m) => m.selectionPrecision },
      { label: 'selection recall', colour: C[2], get: (m) => m.selectionRecall, dash: true },
    ] },
    { id: 'skill', title: 'Refiner: selection and trimming skill', hint: 'cov(reject, −R_original), cov(cut, gain), mean gain per revision', series: [
      { label: 'selection cov', colour: C[0], get: (m) => m.selectionCov },
      { label: 'trimming cov', colour: C[1], get: (m) => m.trimCov },
      { label: 'mean gain', colour: C[2], get: (m) => m.meanGain },
    ] },
    { id: 'opt', title: 'KL and clip fraction', hint: 'k3 KL to the warm-start policy (all tokens, and the refiner\'s decision tokens); share of clipped ratios', series: [
      { label: 'KL', colour: C[0], get: (m) => m.kl },
      ...decisionRoles.map((r, i) => ({ label: `KL ${r}`, colour: C[2 + i], get: (m: StepMetrics) => m.klByRole?.[r], dash: true })),
      { label: 'clip fraction', colour: C[1], get: (m) => m.clipFraction },
    ] },
    { id: 'entropy', title: 'Entropy and policy loss', hint: 'nats per policy token', series: [
      { label: 'entropy', colour: C[0], get: (m) => m.entropy },
      { label: 'policy loss', colour: C[1], get: (m) => m.policyLoss, dash: true },
    ] },
    { id: 'searches', title: 'Searches per trajectory', hint: 'and share of well-formed trajectories', series: [
      { label: 'searches', colour: C[0], get: (m) => m.searchesPerTrajectory },
      { label: 'format valid', colour: C[2], get: (m) => m.formatValid, dash: true },
    ] },
    { id: 'cost', title: 'Trajectories and revisions per step', hint: 'the refiner adds regenerated trajectories', series: [
      { label: 'trajectories', colour: C[0], get: (m) => m.trajectories },
      { label: 'revisions', colour: C[1], get: (m) => m.revisions },
    ] },
    { id: 'time', title: 'Seconds per step', hint: 'wall time in this tab', series: [{ label: 'seconds', colour: C[3], get: (m) => m.seconds }] },
  ];
}

/** uPlot's aligned data: x = step, one array per series, null where a value is missing. */
export function alignedData(metrics: readonly StepMetrics[], spec: ChartSpec): (number | null)[][] {
  const sorted = [...metrics].sort((a, b) => a.step - b.step);
  const x = sorted.map((m) => m.step);
  const ys = spec.series.map((se) => sorted.map((m) => {
    const v = se.get(m);
    return v === undefined || v === null || !Number.isFinite(v) ? null : v;
  }));
  return [x, ...ys];
}
