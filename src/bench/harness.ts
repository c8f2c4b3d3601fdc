// Shared benchmark plumbing for the Node (cpu) and browser (webgpu) benchmarks: adaptive repetition counts,
// median timing, numerical agreement checks, and the one-JSON-line-per-case format of DESIGN.md section 9.
import { Rng } from '../engine/rng.ts';

/** One benchmark result, printed as one JSON line on stdout. */
export interface BenchLine {
  case: string;
  /** "m x k x n" for matmuls, "rows x vocab" for logprob. */
  shape: string;
  backend: 'cpu' | 'webgpu';
  adapter: string;
  /** Median ms per call of our implementation. */
  ours: number;
  /** What `ours` is compared with. */
  anchor: string;
  /** Median ms per call of the anchor. */
  anchor_value: number;
  /** anchor_value / ours; > 1 means ours is faster. */
  ratio: number;
  unit: 'ms';
  /** Extension: timed repetitions behind each median (fewer on slow shapes, never fewer than minReps). */
  reps: { ours: number; anchor: number };
}

export interface Timing {
  /** Median ms per call. */
  median: number;
  /** Timed samples taken. */
  reps: number;
  /** Calls per sample (device-resident cases enqueue several calls per sample). */
  calls: number;
  /** Every sample, ms per call. */
  samples: number[];
}

export interface TimeOptions {
  /** Untimed calls before timing (at least 1; the last one sizes the repetition count). */
  warmup?: number;
  /** Timed samples at least / at most; the count in between fits `budgetMs`. */
  minReps?: number;
  maxReps?: number;
  /** Rough wall-clock budget for the timed samples of one side of one case. */
  budgetMs?: number;
  /** Calls made by one invocation of the sampled function (the result is divided by it). */
  calls?: number;
}

export const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Times two implementations of the same work fairly: warm-up calls of both, then timed samples alternating
 * ours / anchor (so a drift in machine load hits both sides alike). The first timed pair sizes the number of
 * pairs: as many as fit 2 x budgetMs, clamped to [minReps, maxReps]. `warmup` may be 0 when the caller already
 * ran both (e.g. the numerical check), which is worth it for shapes that take seconds per call.
 */
export async function timePair(
  ours: () => Promise<unknown>, anchor: () => Promise<unknown>, opts: TimeOptions = {},
): Promise<[Timing, Timing]> {
  const warmup = Math.max(0, opts.warmup ?? 2);
  const minReps = Math.max(1, opts.minReps ?? 3);
  const maxReps = Math.max(minReps, opts.maxReps ?? 30);
  const budget = opts.budgetMs ?? 3000;
  const calls = Math.max(1, opts.calls ?? 1);
  for (let i = 0; i < warmup; i++) {
    await ours();
    await anchor();
  }
  const so: number[] = [];
  const sa: number[] = [];
  const pair = async (): Promise<number> => {
    const t0 = now();
    await ours();
    const t1 = now();
    await anchor();
    const t2 = now();
    so.push((t1 - t0) / calls);
    sa.push((t2 - t1) / calls);
    return t2 - t0;
  };
  const first = await pair();
  const reps = Math.min(maxReps, Math.max(minReps, Math.floor((2 * budget) / Math.max(first, 1e-3))));
  for (let i = 1; i < reps; i++) await pair();
  return [
    { median: median(so), reps, calls, samples: so },
    { median: median(sa), reps, calls, samples: sa },
  ];
}

/** Rounds to 4 significant digits for printing. */
export const sig = (x: number): number => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(4)) : x);

export function benchLine(
  fields: { case: string; shape: string; backend: 'cpu' | 'webgpu'; adapter: string; anchor: string },
  ours: Timing,
  anchor: Timing,
): BenchLine {
  return {
    case: fields.case,
    shape: fields.shape,
    backend: fields.backend,
    adapter: fields.adapter,
    ours: sig(ours.median),
    anchor: fields.anchor,
    anchor_value: sig(anchor.median),
    ratio: sig(anchor.median / ours.median),
    unit: 'ms',
    reps: { ours: ours.reps, anchor: anchor.reps },
  };
}

/** Thrown when two implementations disagree numerically: the case is aborted, since it would not compare equal work. */
export class MismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MismatchError';
  }
}

/** Checks |got - want| <= atol + rtol * |want| elementwise; returns the largest absolute difference. */
export function expectClose(
  what: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number,
): number {
  if (got.length !== want.length) throw new MismatchError(`${what}: ${got.length} values vs ${want.length} expected`);
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= atol + rtol * Math.abs(want[i])))
      throw new MismatchError(`${what}: index ${i}: ${got[i]} vs ${want[i]} (|diff| ${d} > ${atol} + ${rtol}*|want|)`);
    if (d > maxDiff) maxDiff = d;
  }
  return maxDiff;
}

/** Uniform values in [-scale, scale), deterministic in the seed. */
export function randomF32(n: number, seed: number, scale = 1): Float32Array<ArrayBuffer> {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.nextF32() * 2 - 1) * scale;
  return out;
}

export function randomTargets(rows: number, vocab: number, seed: number): Int32Array<ArrayBuffer> {
  const rng = new Rng(seed);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = rng.int(vocab);
  return out;
}

/**
 * An independent check of a matmul result without an O(mkn) host matmul: `count` output entries chosen by a seeded
 * generator (always including the first and the last), each recomputed in float64 from the inputs.
 */
export function expectMatmulSample(
  what: string, got: ArrayLike<number>, a: Float32Array, b: Float32Array, m: number, k: number, n: number,
  tol: { atol: number; rtol: number }, count = 256,
): number {
  if (got.length !== m * n) throw new MismatchError(`${what}: ${got.length} values, expected ${m * n}`);
  const rng = new Rng(m * 31 + k * 7 + n);
  const idx = [0, m * n - 1];
  for (let i = 0; i < count; i++) idx.push(rng.int(m * n));
  const gotS: number[] = [];
  const want: number[] = [];
  for (const e of idx) {
    const i = Math.floor(e / n);
    const j = e % n;
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    gotS.push(got[e]);
    want.push(s);
  }
  return expectClose(`${what} (sampled entries vs a float64 host matmul)`, gotS, want, tol.atol, tol.rtol);
}

/** logits[r, targets[r]] - logsumexp(logits[r]) in float64, on the host. */
export function logprobReference(logits: Float32Array, targets: Int32Array, rows: number, vocab: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) if (logits[o + j] > max) max = logits[o + j];
    let s = 0;
    for (let j = 0; j < vocab; j++) s += Math.exp(logits[o + j] - max);
    out[r] = logits[o + targets[r]] - max - Math.log(s);
  }
  return out;
}

export const matmulShape = (m: number, k: number, n: number): string => `${m}x${k}x${n}`;

/** Matmul shapes (m, k, n) of the contract: decode, small batch, training, logits. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
}

export const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
