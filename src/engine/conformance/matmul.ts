// Matmul conformance: every webgpu variant (forced explicitly and through the dispatch rule) against the cpu
// reference, in every transposition case, on random and awkward shapes; int8 weights on the cpu's packing.
import { quantizeInt8 } from '../cpu/matmul.ts';
import type { Rng } from '../rng.ts';
import type { MatmulOptions, Ops, Tensor } from '../types.ts';
import { withMatmulVariant, type MatmulInt8Variant, type MatmulVariant } from '../webgpu/kernels/matmul.ts';
import { mat, rand, runOnBoth, type ConformanceCase, type Tolerance } from './harness.ts';

type Shape = [m: number, k: number, n: number];

const TRANS: MatmulOptions[] = [{}, { transA: true }, { transB: true }, { transA: true, transB: true }];

/** f32 dot products of length k: the absolute error grows like sqrt(k). */
const tolFor = (k: number): Tolerance => ({ rtol: 1e-4, atol: 1e-4 * Math.max(1, Math.sqrt(k) / 4) });

const transName = (o: MatmulOptions): string =>
  o.transA && o.transB ? ' transA transB' : o.transA ? ' transA' : o.transB ? ' transB' : '';

function f32Case(name: string, [m, k, n]: Shape, opts: MatmulOptions, variant?: MatmulVariant): ConformanceCase {
  return {
    kernel: 'matmul',
    name: `${variant ?? 'auto'} ${m}x${k}x${n}${transName(opts)}${name ? ` ${name}` : ''}`,
    run: (ref: Ops, gpu: Ops, rng: Rng) => {
      const a = opts.transA ? mat(rand(rng, k * m), k, m) : mat(rand(rng, m * k), m, k);
      const b = opts.transB ? mat(rand(rng, n * k), n, k) : mat(rand(rng, k * n), k, n);
      return runOnBoth(
        ref,
        gpu,
        { a, b },
        (o, t) => ({
          c: variant ? withMatmulVariant({ f32: variant }, () => o.matmul(t.a, t.b, opts)) : o.matmul(t.a, t.b, opts),
        }),
        tolFor(k),
      );
    },
  };
}

// ---- f32: through the dispatch rule -----------------------------------------------------------------------
const autoShapes: Shape[] = [
  [1, 1, 1],
  [1, 64, 48], // decode
  [3, 1, 5],
  [7, 33, 5],
  [8, 100, 8], // largest gemv
  [9, 100, 8], // smallest non-gemv
  [13, 129, 65],
  [64, 64, 64],
  [100, 72, 96], // vec4, edge tiles
  [65, 33, 66], // >= 64 but unaligned -> tiled
  [200, 40, 136],
];
const autoCases = autoShapes.flatMap((s) => TRANS.map((o) => f32Case('', s, o)));

const bigCases: ConformanceCase[] = [
  f32Case('', [256, 256, 256], {}),
  f32Case('', [256, 256, 256], { transB: true }),
  // Wide rows: logits = h x E^T with tied embeddings, and h x W with a vocabulary-wide W.
  f32Case('wide', [2, 64, 30011], { transB: true }),
  f32Case('wide', [2, 64, 30011], {}),
  f32Case('wide', [1, 128, 30011], { transB: true }),
  // Long dot products on the decode path.
  f32Case('long K', [1, 4099, 33], {}),
  f32Case('long K', [3, 4099, 33], { transB: true }),
  // Empty inner dimension: all zeros.
  f32Case('K=0', [5, 0, 7], {}),
  f32Case('K=0', [70, 0, 68], {}),
];

// ---- f32: every variant forced, every transposition -------------------------------------------------------
const forcedShapes: Record<MatmulVariant, Shape[]> = {
  naive: [[1, 1, 1], [7, 33, 5], [37, 70, 19]],
  tiled: [[1, 1, 1], [7, 33, 5], [33, 16, 17], [37, 70, 19], [13, 129, 65]],
  // vec4 needs the stored inputs' contiguous dims to be multiples of 4: all dims multiples of 4 suit every
  // transposition. Shapes that are not multiples of the 64 x 64 x 16 tile exercise the edges.
  vec4: [[4, 4, 4], [8, 20, 12], [64, 64, 64], [68, 36, 132], [36, 20, 68], [132, 160, 4]],
  gemv: [[1, 1, 1], [1, 33, 65], [3, 300, 37], [8, 257, 70], [5, 16, 300]],
};
const forcedWide = f32Case('wide', [1, 128, 30011], { transB: true }, 'gemv');
const forcedCases = (Object.keys(forcedShapes) as MatmulVariant[]).flatMap((v) =>
  forcedShapes[v].flatMap((s) => TRANS.map((o) => f32Case('', s, o, v))),
);

// ---- int8 weights -----------------------------------------------------------------------------------------
function int8Case(name: string, [m, k, n]: Shape, variant?: MatmulInt8Variant, randomWords = false): ConformanceCase {
  return {
    kernel: 'matmulInt8',
    name: `${variant ?? 'auto'} ${m}x${k}x${n}${name ? ` ${name}` : ''}`,
    run: (ref: Ops, gpu: Ops, rng: Rng) => {
      const words = Math.ceil(k / 4);
      let q: Uint32Array;
      let scales: Float32Array;
      if (randomWords) {
        // Every byte value (including -128) and garbage in the padding bytes past K, which must be ignored.
        q = new Uint32Array(n * words);
        for (let i = 0; i < q.length; i++) q[i] = rng.nextU32();
        scales = rng.uniformArray(n, 0.001, 0.02);
      } else {
        ({ q, scales } = quantizeInt8(rand(rng, k * n), k, n));
      }
      const build = (o: Ops, t: Record<string, Tensor>): Record<string, Tensor> => {
        const w = { q: t.q, scales: t.scales, k, n };
        return { c: variant ? withMatmulVariant({ int8: variant }, () => o.matmulInt8(t.a, w)) : o.matmulInt8(t.a, w) };
      };
      return runOnBoth(
        ref,
        gpu,
        { a: mat(rand(rng, m * k), m, k), q: { data: q, shape: [n, words] }, scales },
        build,
        tolFor(k),
      );
    },
  };
}

const int8Cases: ConformanceCase[] = [
  int8Case('', [1, 1, 1]),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((m) => int8Case('odd K', [m, 33, 37])),
  int8Case('odd K', [1, 67, 65]),
  int8Case('odd K', [8, 130, 19]),
  int8Case('', [2, 64, 30011]),
  ...[9, 17, 40].map((m) => int8Case('odd K', [m, 33, 37])),
  int8Case('', [64, 128, 96]),
  int8Case('odd K', [100, 257, 70]),
  int8Case('random words', [1, 35, 50], undefined, true),
  int8Case('random words', [20, 35, 50], undefined, true),
  // Both variants forced on shapes the other would normally take.
  // Every variant forced (software adapters pick naive, hardware GPUs gemv / tiled).
  ...(['naive', 'gemv', 'tiled'] as const).flatMap((v) => [
    int8Case('', [1, 5, 3], v),
    int8Case('odd K', [8, 67, 33], v),
    int8Case('random words', [4, 31, 129], v, true),
  ]),
  ...[1, 2, 3, 5, 7].map((m) => int8Case('odd K', [m, 33, 37], 'gemv')),
  int8Case('', [2, 64, 30011], 'gemv'),
  ...(['naive', 'tiled'] as const).flatMap((v) => [int8Case('odd K', [30, 67, 33], v), int8Case('odd K', [17, 33, 37], v)]),
];

export const matmulCases: ConformanceCase[] = [...autoCases, ...bigCases, ...forcedCases, forcedWide, ...int8Cases];
