// Everything the playground shows is a function of this state, and all of it lives in the URL's query string, so
// a link reopens the same state (DESIGN 2: shareable links, panels hidden by the educator, presentation mode).
// Pure (no DOM): parse and serialize with validation, tested in tests/unit/ui-url-state.test.ts.
import { PRESET_NAMES, PRESETS as PRESET_KNOBS, presetConfig, SCHEDULES, type ScheduleName } from '../rl/presets.ts';
import type { TrainConfig, TrainPresetName } from '../worker/train-protocol.ts';

export const PRESETS: readonly TrainPresetName[] = PRESET_NAMES;

export const PRESET_LABELS: Record<TrainPresetName, string> = {
  'search-r1': 'Search-R1 (baseline, EM reward)',
  'search-r1+meta-refiner': '+ Meta-Refiner',
  'search-r1+meta-refiner+process': '+ Meta-Refiner + process reward',
  'search-r2': 'Search-R2 (full, refiner trained jointly)',
  'search-r1-x2': 'Search-R1, doubled rollouts (G = 10)',
  'search-r2-rev1': 'Search-R2, revision limit 1',
  'search-r2-rev2': 'Search-R2, revision limit 2',
  'search-r2-rev3': 'Search-R2, revision limit 3',
  'search-r2-rev4': 'Search-R2, revision limit 4',
};

export const PANELS = ['trajectories', 'credit', 'charts', 'runs', 'selftest'] as const;
export type PanelId = (typeof PANELS)[number];
export const PANEL_TITLES: Record<PanelId, string> = {
  trajectories: 'Trajectory viewer',
  credit: 'Credit view',
  charts: 'Charts',
  runs: 'Ablations & runs',
  selftest: 'Engine self-test',
};

export const MODELS = ['tiny', 'small', 'base'] as const;
export const JUDGES = ['gold-evidence', 'answer-containment', 'external'] as const;
export const REWARDS = ['em', 'hybrid'] as const;
export const BACKENDS = ['webgpu', 'cpu'] as const;
export const COLOURINGS = ['advantage', 'loss'] as const;

export interface UrlState {
  preset: TrainPresetName;
  model: TrainConfig['model'];
  groupSize: number;
  revisionLimit: number;
  reward: TrainConfig['reward'];
  lr: number;
  judge: TrainConfig['judge'];
  seedInit: number;
  seedData: number;
  seedSampling: number;
  backend: TrainConfig['backend'];
  /** Counterfactual probe samples per cut point of each rejected trajectory (0: no gain curve). */
  probe: number;
  /** Panels hidden (educator links: ?hide=charts,runs). */
  hide: PanelId[];
  /** Presentation mode: large type, one panel at a time. */
  present: boolean;
  /** Panel shown in presentation mode (index into the visible panels). */
  slide: number;
  /** Question (group) shown in the trajectory and credit views. */
  group: number;
  /** Trajectory opened in the viewer (id), or null. */
  traj: string | null;
  /** Token colouring in the credit view. */
  colour: (typeof COLOURINGS)[number];
}

/** The trainer's schedule for a model size (src/rl/presets.ts: `tiny` for tests, `small` shipped; base uses small's). */
export function scheduleOf(model: TrainConfig['model']): ScheduleName {
  return model === 'tiny' ? 'tiny' : 'small';
}

/** The knobs a preset and schedule fix (DESIGN 8's ablation rows); the URL stores only what differs from them. */
export function presetKnobs(preset: TrainPresetName, model: TrainConfig['model'] = 'small'): Pick<UrlState, 'groupSize' | 'revisionLimit' | 'reward' | 'lr'> {
  const p = PRESET_KNOBS[preset];
  const sch = SCHEDULES[scheduleOf(model)];
  return { groupSize: sch.groupSize * p.groupMultiplier, revisionLimit: p.revisionLimit, reward: p.reward, lr: sch.lr };
}

export function defaultState(preset: TrainPresetName = 'search-r2', model: TrainConfig['model'] = 'small'): UrlState {
  return {
    preset,
    model,
    ...presetKnobs(preset, model),
    judge: 'gold-evidence',
    seedInit: 0,
    seedData: 0,
    seedSampling: 0,
    backend: 'webgpu',
    probe: 0,
    hide: [],
    present: false,
    slide: 0,
    group: 0,
    traj: null,
    colour: 'advantage',
  };
}

export const LIMITS = {
  groupSize: { min: 2, max: 16 },
  revisionLimit: { min: 1, max: 4 },
  lr: { min: 1e-8, max: 1 },
  seed: { min: 0, max: 2 ** 31 - 1 },
  probe: { min: 0, max: 16 },
} as const;

/** URL parameter name of each field. */
const KEYS = {
  preset: 'preset',
  model: 'model',
  groupSize: 'g',
  revisionLimit: 'rev',
  reward: 'reward',
  lr: 'lr',
  judge: 'judge',
  seedInit: 'seed_init',
  seedData: 'seed_data',
  seedSampling: 'seed_sampling',
  backend: 'backend',
  probe: 'probe',
  hide: 'hide',
  present: 'present',
  slide: 'slide',
  group: 'q',
  traj: 'traj',
  colour: 'colour',
} as const satisfies Record<keyof UrlState, string>;

export interface ParseResult {
  state: UrlState;
  /** One line per parameter that was present but invalid (and so ignored). */
  warnings: string[];
}

function oneOf<T extends string>(list: readonly T[], v: string): T | undefined {
  return (list as readonly string[]).includes(v) ? (v as T) : undefined;
}

function intIn(v: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

function numIn(v: string, min: number, max: number): number | undefined {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

/** Parses a query string (with or without the leading '?'); invalid values fall back to defaults with a warning. */
export function parseUrlState(search: string): ParseResult {
  const p = new URLSearchParams(search);
  const warnings: string[] = [];
  const get = (k: keyof UrlState): string | null => p.get(KEYS[k]);
  const take = <V>(k: keyof UrlState, parse: (v: string) => V | undefined, expected: string): V | undefined => {
    const raw = get(k);
    if (raw === null) return undefined;
    const v = parse(raw);
    if (v === undefined) warnings.push(`ignored ${KEYS[k]}=${JSON.stringify(raw)}: expected ${expected}`);
    return v;
  };
  const preset = take('preset', (v) => oneOf(PRESETS, v), PRESETS.join(' | ')) ?? 'search-r2';
  const model = take('model', (v) => oneOf(MODELS, v), MODELS.join(' | ')) ?? 'small';
  const s = defaultState(preset, model);
  const set = <K extends keyof UrlState>(k: K, v: UrlState[K] | undefined): void => {
    if (v !== undefined) s[k] = v;
  };
  set('groupSize', take('groupSize', (v) => intIn(v, LIMITS.groupSize.min, LIMITS.groupSize.max), `an integer ${LIMITS.groupSize.min}..${LIMITS.groupSize.max}`));
  set('revisionLimit', take('revisionLimit', (v) => intIn(v, LIMITS.revisionLimit.min, LIMITS.revisionLimit.max), `an integer ${LIMITS.revisionLimit.min}..${LIMITS.revisionLimit.max}`));
  set('reward', take('reward', (v) => oneOf(REWARDS, v), REWARDS.join(' | ')));
  set('lr', take('lr', (v) => numIn(v, LIMITS.lr.min, LIMITS.lr.max), `a number in [${LIMITS.lr.min}, ${LIMITS.lr.max}]`));
  set('judge', take('judge', (v) => oneOf(JUDGES, v), JUDGES.join(' | ')));
  const seed = `an integer ${LIMITS.seed.min}..${LIMITS.seed.max}`;
  set('seedInit', take('seedInit', (v) => intIn(v, LIMITS.seed.min, LIMITS.seed.max), seed));
  set('seedData', take('seedData', (v) => intIn(v, LIMITS.seed.min, LIMITS.seed.max), seed));
  set('seedSampling', take('seedSampling', (v) => intIn(v, LIMITS.seed.min, LIMITS.seed.max), seed));
  set('backend', take('backend', (v) => oneOf(BACKENDS, v), BACKENDS.join(' | ')));
  set('probe', take('probe', (v) => intIn(v, LIMITS.probe.min, LIMITS.probe.max), `an integer ${LIMITS.probe.min}..${LIMITS.probe.max}`));
  const hideRaw = get('hide');
  if (hideRaw !== null) {
    const hide: PanelId[] = [];
    for (const part of hideRaw.split(',').map((x) => x.trim()).filter(Boolean)) {
      const id = oneOf(PANELS, part);
      if (id === undefined) warnings.push(`ignored hide=${JSON.stringify(part)}: expected one of ${PANELS.join(', ')}`);
      else if (!hide.includes(id)) hide.push(id);
    }
    s.hide = PANELS.filter((x) => hide.includes(x));
  }
  set('present', take('present', (v) => (v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined), '1 | 0'));
  set('slide', take('slide', (v) => intIn(v, 0, PANELS.length - 1), `an integer 0..${PANELS.length - 1}`));
  set('group', take('group', (v) => intIn(v, 0, 1023), 'an integer 0..1023'));
  set('traj', take('traj', (v) => (v.length > 0 && v.length <= 200 ? v : undefined), 'a trajectory id'));
  set('colour', take('colour', (v) => oneOf(COLOURINGS, v), COLOURINGS.join(' | ')));
  return { state: s, warnings };
}

/** Serializes the state as a query string (with '?', or '' when everything is default); only non-defaults are kept. */
export function serializeUrlState(s: UrlState): string {
  const d = defaultState(s.preset, s.model);
  const p = new URLSearchParams();
  if (s.preset !== 'search-r2') p.set(KEYS.preset, s.preset);
  if (s.model !== 'small') p.set(KEYS.model, s.model);
  const plain = ['groupSize', 'revisionLimit', 'reward', 'lr', 'judge', 'seedInit', 'seedData', 'seedSampling', 'backend', 'probe', 'slide', 'group', 'colour'] as const;
  for (const k of plain) if (s[k] !== d[k]) p.set(KEYS[k], String(s[k]));
  if (s.hide.length) p.set(KEYS.hide, PANELS.filter((x) => s.hide.includes(x)).join(','));
  if (s.present) p.set(KEYS.present, '1');
  if (s.traj !== null) p.set(KEYS.traj, s.traj);
  const q = p.toString().replace(/%2C/g, ',');
  return q ? `?${q}` : '';
}

/**
 * The training configuration the state asks for: the trainer's preset on the model's schedule (src/rl/presets.ts)
 * with the knobs from the URL. Throws the trainer's ConfigError when a combination is out of range.
 */
export function toTrainConfig(s: UrlState): TrainConfig {
  return presetConfig(s.preset, scheduleOf(s.model), {
    model: s.model,
    groupSize: s.groupSize,
    revisionLimit: s.revisionLimit,
    reward: s.reward,
    judge: s.judge,
    lr: s.lr,
    seeds: { init: s.seedInit, data: s.seedData, sampling: s.seedSampling },
    backend: s.backend,
    probeSamples: s.probe,
  });
}

/** Which state changes need the trainer re-initialized (everything that is part of TrainConfig). */
export function configChanged(a: UrlState, b: UrlState): boolean {
  return JSON.stringify(toTrainConfig(a)) !== JSON.stringify(toTrainConfig(b));
}
