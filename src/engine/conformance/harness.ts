// Kernel conformance: run the same op on the reference (cpu) and the candidate (webgpu) Ops and compare.
// Used by the Node and Chromium test suites and by the in-page self-test panel.
import type { Rng } from '../rng.ts';
import type { AnyTypedArray, Ops, Tensor } from '../types.ts';

export interface Tolerance {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance (scaled by |reference|). */
  rtol: number;
}

export interface CaseResult {
  pass: boolean;
  /** Largest |got - want| over all outputs. */
  maxAbsErr: number;
  /** Number of elements compared. */
  elements: number;
  detail: string;
}

export interface ConformanceCase {
  /** The kernel family, e.g. "matmul". */
  kernel: string;
  /** The case, e.g. "7x33x5 transB". */
  name: string;
  run(ref: Ops, gpu: Ops, rng: Rng): Promise<CaseResult>;
}

export const DEFAULT_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

/** Compares two arrays elementwise; integers must match exactly. */
export function compareArrays(label: string, got: AnyTypedArray, want: AnyTypedArray, tol: Tolerance): CaseResult {
  if (got.length !== want.length)
    return { pass: false, maxAbsErr: Infinity, elements: 0, detail: `${label}: length ${got.length} vs ${want.length}` };
  const exact = !(want instanceof Float32Array);
  let maxAbsErr = 0;
  let worst = -1;
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const ok = exact ? g === w : (Number.isNaN(w) ? Number.isNaN(g) : err <= tol.atol + tol.rtol * Math.abs(w)) && !Number.isNaN(g);
    if (!ok) {
      bad++;
      if (worst < 0) worst = i;
    }
    if (err > maxAbsErr || Number.isNaN(err)) maxAbsErr = Number.isNaN(err) ? Infinity : err;
  }
  const detail =
    bad === 0
      ? `${label}: ${want.length} values, max |err| ${maxAbsErr.toExponential(2)}`
      : `${label}: ${bad}/${want.length} values out of tolerance; first at [${worst}]: got ${got[worst]}, want ${want[worst]}`;
  return { pass: bad === 0, maxAbsErr, elements: want.length, detail };
}

export function mergeResults(results: CaseResult[]): CaseResult {
  return {
    pass: results.every((r) => r.pass),
    maxAbsErr: Math.max(0, ...results.map((r) => r.maxAbsErr)),
    elements: results.reduce((a, r) => a + r.elements, 0),
    detail: results.map((r) => r.detail).join('; '),
  };
}

/** Host data for one case, uploaded to each backend by `build`. */
export type Inputs = Record<string, AnyTypedArray | { data: AnyTypedArray; shape: number[] }>;

/**
 * Runs `build` on both backends with the same host inputs and compares every named output.
 * `build` gets tensors uploaded from `inputs` (1-D unless a shape is given) and returns named outputs.
 */
export async function runOnBoth(
  ref: Ops,
  gpu: Ops,
  inputs: Inputs,
  build: (ops: Ops, t: Record<string, Tensor>) => Record<string, Tensor>,
  tol: Tolerance | Record<string, Tolerance> = DEFAULT_TOL,
): Promise<CaseResult> {
  const exec = async (ops: Ops): Promise<Record<string, AnyTypedArray>> => {
    const t: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) {
      const { data, shape } = 'shape' in v && !ArrayBuffer.isView(v) ? v : { data: v as AnyTypedArray, shape: [(v as AnyTypedArray).length] };
      t[k] = ops.tensor(data, shape);
    }
    const outs = build(ops, t);
    const res: Record<string, AnyTypedArray> = {};
    for (const [k, v] of Object.entries(outs)) res[k] = await ops.read(v);
    const seen = new Set<Tensor>();
    for (const v of [...Object.values(t), ...Object.values(outs)]) {
      if (!seen.has(v)) ops.dispose(v);
      seen.add(v);
    }
    return res;
  };
  const want = await exec(ref);
  const got = await exec(gpu);
  const results = Object.keys(want).map((k) => {
    const tk = 'atol' in tol ? (tol as Tolerance) : ((tol as Record<string, Tolerance>)[k] ?? DEFAULT_TOL);
    return compareArrays(k, got[k], want[k], tk);
  });
  return mergeResults(results);
}

/** Inputs helper: a 2-D f32 input. */
export const mat = (data: Float32Array, rows: number, cols: number) => ({ data, shape: [rows, cols] });

export const rand = (rng: Rng, n: number, scale = 1): Float32Array => rng.uniformArray(n, -scale, scale);
