// Training presets (issue 6): the paper's ablation rows as TrainConfigs, the `tiny` / `small` schedules, and the
// validation every config goes through (invalid presets or knob values are rejected with the allowed range).
//
//   search-r1                       no refiner, R = EM                          (the baseline)
//   search-r1+meta-refiner          refiner on but fixed (not trained), R = EM
//   search-r1+meta-refiner+process  refiner fixed, R = EM * (1 + r_process)
//   search-r2                       refiner trained jointly, hybrid reward      (the full method)
//   search-r1-x2                    no refiner, EM, 10 rollouts per question    (doubled compute)
//   search-r2-rev1..4               search-r2 with revision limit 1..4          (rev1 == search-r2)
// Defaults follow DESIGN 4.4 (Search-R1's GRPO script): G = 5, epsilon 0.2, beta 0.001, token-mean, lambda 0.05,
// tau 0.5, revision limit 1, top-3 passages.
import type { TrainConfig, TrainPresetName } from '../worker/train-protocol.ts';

export const PRESET_NAMES: readonly TrainPresetName[] = [
  'search-r1',
  'search-r1+meta-refiner',
  'search-r1+meta-refiner+process',
  'search-r2',
  'search-r1-x2',
  'search-r2-rev1',
  'search-r2-rev2',
  'search-r2-rev3',
  'search-r2-rev4',
];

export type ScheduleName = 'tiny' | 'small';
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['tiny', 'small'];

/** What a preset fixes (the method); the schedule fixes the rest (size and length of the run). */
export interface PresetKnobs {
  refiner: boolean;
  trainRefiner: boolean;
  reward: 'em' | 'hybrid';
  /** Multiplier on the schedule's group size (2 for search-r1-x2). */
  groupMultiplier: number;
  revisionLimit: number;
}

export const PRESETS: Readonly<Record<TrainPresetName, Readonly<PresetKnobs>>> = Object.freeze({
  'search-r1': { refiner: false, trainRefiner: false, reward: 'em', groupMultiplier: 1, revisionLimit: 1 },
  'search-r1+meta-refiner': { refiner: true, trainRefiner: false, reward: 'em', groupMultiplier: 1, revisionLimit: 1 },
  'search-r1+meta-refiner+process': { refiner: true, trainRefiner: false, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 1 },
  'search-r2': { refiner: true, trainRefiner: true, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 1 },
  'search-r1-x2': { refiner: false, trainRefiner: false, reward: 'em', groupMultiplier: 2, revisionLimit: 1 },
  'search-r2-rev1': { refiner: true, trainRefiner: true, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 1 },
  'search-r2-rev2': { refiner: true, trainRefiner: true, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 2 },
  'search-r2-rev3': { refiner: true, trainRefiner: true, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 3 },
  'search-r2-rev4': { refiner: true, trainRefiner: true, reward: 'hybrid', groupMultiplier: 1, revisionLimit: 4 },
});

/** A schedule: the run's size and length. */
export interface Schedule {
  model: TrainConfig['model'];
  groupSize: number;
  questionsPerStep: number;
  steps: number;
  lr: number;
  evalEvery: number;
  evalLimit: number;
  maxTurnTokens: number;
  temperature: number;
}

export const SCHEDULES: Readonly<Record<ScheduleName, Readonly<Schedule>>> = Object.freeze({
  // CI and tests: the tiny policy, 4 questions x 5 rollouts, a handful of steps.
  tiny: { model: 'tiny', groupSize: 5, questionsPerStep: 4, steps: 4, lr: 1e-3, evalEvery: 0, evalLimit: 10, maxTurnTokens: 48, temperature: 1 },
  // The shipped policy on 2 CPU cores: 8 questions x 5 rollouts per step.
  small: { model: 'small', groupSize: 5, questionsPerStep: 8, steps: 100, lr: 2e-5, evalEvery: 25, evalLimit: 50, maxTurnTokens: 96, temperature: 1 },
});

/** Knob defaults of DESIGN 4.4 for the optional TrainConfig fields. */
export const KNOB_DEFAULTS = Object.freeze({
  interventionCost: 0.05,
  tau: 0.5,
  clipLow: 0.2,
  clipHigh: 0.2,
  aggregation: 'token-mean' as const,
  judgeLossWeight: 1,
  trimLossWeight: 1,
  topK: 3,
  probeSamples: 0,
  maxGradNorm: 1,
  miniBatches: 1,
});

export function isPresetName(x: string): x is TrainPresetName {
  return (PRESET_NAMES as readonly string[]).includes(x);
}

/** The config of a preset on a schedule, with overrides (validated). */
export function presetConfig(
  preset: string,
  schedule: ScheduleName = 'tiny',
  overrides: Partial<TrainConfig> = {},
): TrainConfig {
  if (!isPresetName(preset)) throw new ConfigError('preset', `unknown preset "${preset}" (allowed: ${PRESET_NAMES.join(', ')})`);
  const s = SCHEDULES[schedule];
  if (!s) throw new ConfigError('schedule', `unknown schedule "${String(schedule)}" (allowed: ${SCHEDULE_NAMES.join(', ')})`);
  const p = PRESETS[preset];
  const base: TrainConfig = {
    preset,
    model: s.model,
    groupSize: s.groupSize * p.groupMultiplier,
    questionsPerStep: s.questionsPerStep,
    revisionLimit: p.revisionLimit,
    reward: p.reward,
    judge: 'gold-evidence',
    refiner: p.refiner,
    trainRefiner: p.trainRefiner,
    lr: s.lr,
    klBeta: 0.001,
    temperature: s.temperature,
    seeds: { init: 0, data: 0, sampling: 0 },
    backend: 'cpu',
    steps: s.steps,
    evalEvery: s.evalEvery,
    evalLimit: s.evalLimit,
    maxTurnTokens: s.maxTurnTokens,
  };
  const c: TrainConfig = { ...base, ...overrides, seeds: { ...base.seeds, ...(overrides.seeds ?? {}) } };
  validateConfig(c);
  return c;
}

/** A config value outside its allowed range; `field` names it. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`TrainConfig.${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

function int(c: TrainConfig, field: keyof TrainConfig, lo: number, hi: number, optional = false): void {
  const v = c[field];
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new ConfigError(field, `${JSON.stringify(v)} is not an integer in ${lo}..${hi}`);
}

function num(c: TrainConfig, field: keyof TrainConfig, lo: number, hi: number, optional = false, open = false): void {
  const v = c[field];
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && v === lo))
    throw new ConfigError(field, `${JSON.stringify(v)} is not a number in ${open ? '(' : '['}${lo}, ${hi}]`);
}

function oneOf(c: TrainConfig, field: keyof TrainConfig, allowed: readonly unknown[], optional = false): void {
  const v = c[field];
  if (v === undefined && optional) return;
  if (!allowed.includes(v)) throw new ConfigError(field, `${JSON.stringify(v)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
}

/** Throws ConfigError naming the first field outside its allowed range. */
export function validateConfig(c: TrainConfig): void {
  oneOf(c, 'preset', PRESET_NAMES);
  oneOf(c, 'model', ['tiny', 'small', 'base']);
  int(c, 'groupSize', 2, 64);
  int(c, 'questionsPerStep', 1, 256);
  int(c, 'revisionLimit', 1, 4);
  oneOf(c, 'reward', ['em', 'hybrid']);
  oneOf(c, 'judge', ['gold-evidence', 'answer-containment', 'external']);
  oneOf(c, 'refiner', [true, false]);
  oneOf(c, 'trainRefiner', [true, false]);
  if (c.trainRefiner && !c.refiner) throw new ConfigError('trainRefiner', 'true needs refiner: true');
  num(c, 'lr', 0, 1, false, true);
  num(c, 'klBeta', 0, 10);
  num(c, 'temperature', 0, 5, false, true);
  for (const k of ['init', 'data', 'sampling'] as const) {
    const v = c.seeds?.[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new ConfigError(`seeds.${k}`, `${JSON.stringify(v)} is not an integer in 0..4294967295`);
  }
  oneOf(c, 'backend', ['webgpu', 'cpu']);
  int(c, 'steps', 1, 100_000);
  int(c, 'evalEvery', 0, 100_000);
  num(c, 'interventionCost', 0, 1, true);
  num(c, 'tau', 0, 1, true);
  num(c, 'clipLow', 0, 1, true, true);
  num(c, 'clipHigh', 0, 1, true, true);
  oneOf(c, 'aggregation', ['token-mean', 'seq-mean-token-mean', 'dr-grpo'], true);
  num(c, 'judgeLossWeight', 0, 10, true);
  num(c, 'trimLossWeight', 0, 10, true);
  int(c, 'topK', 1, 10, true);
  int(c, 'maxTurnTokens', 4, 512, true);
  oneOf(c, 'rolloutWeights', ['int8', 'fp32'], true);
  int(c, 'probeSamples', 0, 16, true);
  num(c, 'maxGradNorm', 0, 1e6, true);
  int(c, 'miniBatches', 1, 64, true);
  int(c, 'evalLimit', 1, 100_000, true);
  int(c, 'trainSubset', 1, 1_000_000, true);
  num(c, 'questionBalance', 0, 1, true);
}

/** Every knob resolved (optional fields filled with their defaults). */
export type ResolvedConfig = TrainConfig & Required<Pick<TrainConfig, keyof typeof KNOB_DEFAULTS | 'maxTurnTokens' | 'evalLimit' | 'rolloutWeights'>>;

export function resolveConfig(c: TrainConfig): ResolvedConfig {
  validateConfig(c);
  return {
    ...KNOB_DEFAULTS,
    maxTurnTokens: 96,
    evalLimit: 50,
    rolloutWeights: c.backend === 'cpu' ? 'fp32' : 'int8',
    ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)),
  } as ResolvedConfig; // every required key is present: the defaults, then the config's defined fields
}

// ---- ablation suites ----

export interface SuiteSpec {
  name: 'smoke' | 'paper';
  schedule: ScheduleName;
  presets: readonly TrainPresetName[];
  seeds: number;
  steps: number;
  /** Test questions per split in the final evaluation. */
  evalLimit: number;
  /** Training questions drawn from (the data subset). */
  trainSubset?: number;
  questionsPerStep?: number;
  groupSize?: number;
}

export const SUITES: Readonly<Record<'smoke' | 'paper', Readonly<SuiteSpec>>> = Object.freeze({
  // CI: two rows, one seed, two steps on the tiny policy, a few test questions per split.
  smoke: { name: 'smoke', schedule: 'tiny', presets: ['search-r1', 'search-r2'], seeds: 1, steps: 2, evalLimit: 4, questionsPerStep: 2 },
  // The paper's table (DESIGN 8): the four ablation rows, doubled rollouts and revision limits 2..4 (rev1 is search-r2).
  paper: {
    name: 'paper',
    schedule: 'small',
    presets: ['search-r1', 'search-r1+meta-refiner', 'search-r1+meta-refiner+process', 'search-r2', 'search-r1-x2', 'search-r2-rev2', 'search-r2-rev3', 'search-r2-rev4'],
    seeds: 3,
    steps: 100,
    evalLimit: 100,
  },
});
