// The ablation suite's results (results.json from TrainerWorkerApi.runSuite or the CLI's `ablate`), normalized
// into one table row per preset with a 95% interval over seeds, next to the paper's numbers (DESIGN 8). Pure.
// The reader is liberal in what it accepts (rows per preset or per seed; em as a number, per split, or in keys
// `em_<split>`), since imported files come from other versions too; it never invents a value.

export interface SuiteRow {
  preset: string;
  /** Seeds behind the row. */
  seeds: number;
  /** Average EM over splits, in [0, 1]. */
  avg: number | null;
  /** 95% interval of the average over seeds (Student t), null with one seed. */
  ci95: [number, number] | null;
  perSplit: Record<string, number>;
  /** General (NQ, TriviaQA, PopQA) and multi-hop averages when the results give them. */
  general: number | null;
  multihop: number | null;
  trajectoriesPerStep: number | null;
  secondsPerStep: number | null;
  refineRate: number | null;
}

export interface SuiteTable {
  suite: string;
  rows: SuiteRow[];
  splits: string[];
}

/** The paper's average EM (DESIGN 8) for each preset: the 7B ablation rows, else the 32B rows where only those exist. */
export const PAPER: Record<string, { value: number; model: string }> = {
  'search-r1': { value: 35.0, model: 'Qwen2.5-7B' },
  'search-r1+meta-refiner': { value: 38.9, model: 'Qwen2.5-7B' },
  'search-r1+meta-refiner+process': { value: 39.6, model: 'Qwen2.5-7B' },
  'search-r2': { value: 40.4, model: 'Qwen2.5-7B' },
  'search-r1-x2': { value: 47.8, model: 'Qwen2.5-32B (Search-R2: 50.8)' },
  'search-r2-rev1': { value: 49.3, model: 'Qwen2.5-32B' },
  'search-r2-rev4': { value: 50.9, model: 'Qwen2.5-32B' },
};

const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131];

/** Mean and 95% Student-t interval; null interval for fewer than two values. */
export function meanCi(values: readonly number[]): { mean: number; ci95: [number, number] | null } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  if (n < 2) return { mean, ci95: null };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (T95[n - 1] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, ci95: [mean - half, mean + half] };
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** A number, or the `mean` of a {mean, ci95, n} summary (src/rl/metrics.ts MeanCi). */
const numOrNull = (x: unknown): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : isObj(x) && typeof x.mean === 'number' && Number.isFinite(x.mean) ? x.mean : null;
const pick = (o: Obj, keys: string[]): number | null => {
  for (const k of keys) if (numOrNull(o[k]) !== null) return numOrNull(o[k]);
  return null;
};

function rowsOf(x: unknown): Obj[] {
  if (Array.isArray(x)) return x.filter(isObj);
  if (isObj(x)) for (const k of ['rows', 'results', 'presets', 'table']) if (Array.isArray(x[k])) return (x[k] as unknown[]).filter(isObj);
  return [];
}

const AVG_KEYS = ['avg', 'average', 'em_avg', 'em_average', 'average_em', 'avg_em', 'emAverage', 'emAvg'];

function splitsOf(r: Obj): Record<string, number> {
  const out: Record<string, number> = {};
  const em = r.em ?? r.em_per_split ?? r.emPerSplit ?? r.splits;
  if (isObj(em)) for (const [k, v] of Object.entries(em)) if (numOrNull(v) !== null && !AVG_KEYS.includes(k)) out[k] = numOrNull(v) as number;
  for (const [k, v] of Object.entries(r)) {
    const m = /^em[_.]([a-z0-9]+)$/i.exec(k);
    if (m && numOrNull(v) !== null && !AVG_KEYS.includes(k) && !['avg', 'average'].includes(m[1])) out[m[1]] = numOrNull(v) as number;
  }
  return out;
}

function avgOf(r: Obj, perSplit: Record<string, number>): number | null {
  const direct = pick(r, AVG_KEYS);
  if (direct !== null) return direct;
  if (isObj(r.em) && typeof r.em.mean !== 'number') {
    const inner = pick(r.em, ['avg', 'average']);
    if (inner !== null) return inner;
  }
  if (numOrNull(r.em) !== null) return numOrNull(r.em);
  const vals = Object.values(perSplit);
  return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
}

function seedValues(r: Obj): number[] | null {
  for (const k of ['seed_values', 'seedValues', 'per_seed', 'perSeed', 'seeds_avg', 'avg_per_seed']) {
    const v = r[k];
    if (Array.isArray(v)) {
      const nums = v.map((x) => (isObj(x) ? avgOf(x, splitsOf(x)) : numOrNull(x))).filter((x): x is number => x !== null);
      if (nums.length) return nums;
    }
  }
  return null;
}

function ciOf(r: Obj): [number, number] | null {
  // A {mean, ci95: half-width} summary of the average.
  for (const k of ['average', 'avg', 'em_avg']) {
    const v = r[k];
    if (isObj(v) && typeof v.mean === 'number' && typeof v.ci95 === 'number') return [v.mean - v.ci95, v.mean + v.ci95];
  }
  for (const k of ['ci95', 'em_ci95', 'avg_ci95', 'average_ci95', 'ci']) {
    const v = r[k];
    if (Array.isArray(v) && v.length === 2 && v.every((x) => numOrNull(x) !== null)) return [v[0] as number, v[1] as number];
    if (isObj(v) && numOrNull(v.low) !== null && numOrNull(v.high) !== null) return [v.low as number, v.high as number];
  }
  const lo = pick(r, ['ci95_low', 'ci_low']);
  const hi = pick(r, ['ci95_high', 'ci_high']);
  return lo !== null && hi !== null ? [lo, hi] : null;
}

const toUnit = (x: number | null, pct: boolean): number | null => (x === null ? null : pct ? x / 100 : x);

export function normalizeSuiteResults(x: unknown): SuiteTable {
  const raw = rowsOf(x);
  const suite = isObj(x) && typeof x.suite === 'string' ? x.suite : 'suite';
  // Percentages (0..100) or shares (0..1)? Shares unless some EM is above 1.
  const pct = raw.some((r) => {
    const a = avgOf(r, splitsOf(r));
    return (a !== null && a > 1) || Object.values(splitsOf(r)).some((v) => v > 1);
  });
  const byPreset = new Map<string, Obj[]>();
  for (const r of raw) {
    const p = typeof r.preset === 'string' ? r.preset : typeof r.name === 'string' ? r.name : null;
    if (p === null) continue;
    byPreset.set(p, [...(byPreset.get(p) ?? []), r]);
  }
  const rows: SuiteRow[] = [];
  const splitSet = new Set<string>();
  for (const [preset, rs] of byPreset) {
    const per = rs.map((r) => splitsOf(r));
    const perSplit: Record<string, number> = {};
    for (const k of new Set(per.flatMap((p) => Object.keys(p)))) {
      const vals = per.map((p) => p[k]).filter((v): v is number => v !== undefined);
      perSplit[k] = toUnit(vals.reduce((a, b) => a + b, 0) / vals.length, pct) as number;
      splitSet.add(k);
    }
    const mean = (f: (r: Obj) => number | null): number | null => {
      const vals = rs.map(f).filter((v): v is number => v !== null);
      return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    };
    let avg: number | null;
    let ci95: [number, number] | null;
    let seeds: number;
    const sv = rs.length === 1 ? seedValues(rs[0]) : null;
    if (rs.length > 1) {
      const vals = rs.map((r, i) => avgOf(r, per[i])).filter((v): v is number => v !== null);
      const mc = meanCi(vals);
      avg = vals.length ? mc.mean : null;
      ci95 = mc.ci95;
      seeds = rs.length;
    } else if (sv) {
      const mc = meanCi(sv);
      avg = avgOf(rs[0], per[0]) ?? mc.mean;
      ci95 = ciOf(rs[0]) ?? mc.ci95;
      seeds = sv.length;
    } else {
      avg = avgOf(rs[0], per[0]);
      ci95 = ciOf(rs[0]);
      seeds = pick(rs[0], ['seeds', 'n_seeds', 'nSeeds']) ?? (isObj(rs[0].average) && typeof rs[0].average.n === 'number' ? rs[0].average.n : 1);
    }
    rows.push({
      preset,
      seeds,
      avg: toUnit(avg, pct),
      ci95: ci95 && pct ? [ci95[0] / 100, ci95[1] / 100] : ci95,
      perSplit,
      general: toUnit(mean((r) => pick(r, ['general', 'em_general'])), pct),
      multihop: toUnit(mean((r) => pick(r, ['multihop', 'multi_hop', 'em_multihop'])), pct),
      trajectoriesPerStep: mean((r) => pick(r, ['trajectories_per_step', 'trajectoriesPerStep'])),
      secondsPerStep: mean((r) => pick(r, ['seconds_per_step', 'secondsPerStep'])),
      refineRate: mean((r) => pick(r, ['refine_rate', 'refineRate'])),
    });
  }
  const ORDER = ['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wiki', 'musique', 'bamboogle'];
  const splits = [...splitSet].sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return { suite, rows, splits };
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tableToCsv(t: SuiteTable): string {
  const head = ['preset', 'seeds', 'em_avg', 'ci95_low', 'ci95_high', ...t.splits.map((s) => `em_${s}`), 'em_general', 'em_multihop', 'trajectories_per_step', 'seconds_per_step', 'refine_rate', 'paper_em', 'paper_model'];
  const lines = [head.join(',')];
  for (const r of t.rows) {
    const paper = PAPER[r.preset];
    lines.push([r.preset, r.seeds, r.avg, r.ci95?.[0] ?? null, r.ci95?.[1] ?? null, ...t.splits.map((s) => r.perSplit[s] ?? null), r.general, r.multihop, r.trajectoriesPerStep, r.secondsPerStep, r.refineRate, paper?.value ?? null, paper?.model ?? null].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
