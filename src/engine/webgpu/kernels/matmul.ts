// Host side of the matmul kernels: matmul_naive.wgsl, matmul_tiled.wgsl, matmul_vec4.wgsl, matmul_gemv.wgsl
// (f32) and matmul_int8_gemv.wgsl, matmul_int8.wgsl (int8 weights). Dims arrive validated by ops.ts.
//
// Dispatch rule of `matmul` (m, k, n of op(a) [m, k] x op(b) [k, n]):
//   1. m <= 8                                   -> gemv  (decode: a workgroup per block of columns, K split
//                                                         across invocations, fixed-order sum in workgroup memory)
//   2. vec4Aligned(...) && m >= 64 && n >= 64   -> vec4  (64 x 64 register-blocked tiles, 4 x 4 per invocation)
//   3. otherwise                                -> tiled (16 x 16 workgroup-memory tiles, any shape)
// vec4Aligned: the contiguous dimension of each stored input is a multiple of 4 (a: K, or M with transA;
// b: N, or K with transB), because the vec4 kernel binds both inputs as array<vec4<f32>>. Edges (M, N, K not
// multiples of the 64 x 64 x 16 tile) are handled inside the kernel; unaligned shapes fall back to tiled.
// `matmulWith` forces a variant (tests, benchmarks) and throws when the variant cannot run the shape
// (gemv needs m <= 8, vec4 needs vec4Aligned); naive and tiled run any shape.
//
// matmulInt8: m <= 8 -> matmul_int8_gemv (T invocations per output channel walk its packed row), else
// matmul_int8 (16 x 16 tiles, weights unpacked into workgroup memory). Both accept any K (the padding bytes of
// the last word are never used).
//
// Every kernel except naive walks its output blocks grid-stride (grid.ts): one block per workgroup on hardware
// GPUs, a few workgroups looping over many blocks on software adapters, and no 65535-workgroup limit.
import { GpuContext, Params, ceilDiv } from '../context.ts';
import type { GpuTensor } from '../tensor.ts';
import type { MatmulOptions } from '../../types.ts';
import { isSoftwareDevice, strideGrid } from './grid.ts';

export type MatmulVariant = 'naive' | 'tiled' | 'vec4' | 'gemv';
export type MatmulInt8Variant = 'naive' | 'gemv' | 'tiled';

/** Largest M the GEMV kernels handle (they keep one accumulator per row in registers). */
export const GEMV_MAX_ROWS = 8;

const NAIVE_WG = 16; // 16 x 16 invocations, one output each
const TILE = 16; // matmul_tiled / matmul_int8 tile edge: 16 x 16 invocations, 2 KiB workgroup memory
const VEC4_BLOCK = 64; // matmul_vec4 output block per workgroup (16 x 16 invocations x 4 x 4 outputs)
const VEC4_BK = 16; // matmul_vec4 K-step: 2 x 16 x 64 x 4 B = 8 KiB workgroup memory
const GEMV_COLS_TRANS_B = 8; // b [N, K]: 32 invocations share one column and read it contiguously
const GEMV_COLS = 64; // b [K, N]: 64 adjacent columns per step along K, 4 K-slices
const INT8_GEMV_COLS = 8; // 32 invocations per output channel

/** True when the vec4 kernel can bind a and b as arrays of vec4 (see the dispatch rule above). */
export function vec4Aligned(m: number, k: number, n: number, opts: MatmulOptions = {}): boolean {
  const aInner = opts.transA ? m : k;
  const bInner = opts.transB ? k : n;
  return aInner % 4 === 0 && bInner % 4 === 0;
}

/**
 * The variant `matmul` picks for these dims. On software adapters (SwiftShader) every workgroup barrier is
 * expensive, so the barrier-free naive kernel replaces gemv and tiled there (measured by `npm run bench`:
 * matmul-device against ours-naive); the register-blocked vec4 kernel still wins on large aligned shapes.
 */
export function chooseMatmulVariant(
  m: number, k: number, n: number, opts: MatmulOptions = {}, software = false,
): MatmulVariant {
  const big = m >= VEC4_BLOCK && n >= VEC4_BLOCK && vec4Aligned(m, k, n, opts);
  if (software) return big && m * n >= 64 * VEC4_BLOCK * VEC4_BLOCK ? 'vec4' : 'naive';
  if (m <= GEMV_MAX_ROWS) return 'gemv';
  if (big) return 'vec4';
  return 'tiled';
}

/** The int8 variant: barrier-free naive on software adapters (as for fp32), else GEMV for m <= 8, else tiled. */
export function chooseMatmulInt8Variant(m: number, software = false): MatmulInt8Variant {
  if (software) return 'naive';
  return m <= GEMV_MAX_ROWS ? 'gemv' : 'tiled';
}

// A synchronous scope that forces the variant `matmul` / `matmulInt8` use, so that conformance cases can drive
// the public Ops with a chosen kernel. Never active outside `withMatmulVariant`.
let forced: MatmulVariant | null = null;
let forcedInt8: MatmulInt8Variant | null = null;

/** Runs fn with every matmul (and matmulInt8) on the webgpu backend forced to the given variants. */
export function withMatmulVariant<T>(variant: { f32?: MatmulVariant; int8?: MatmulInt8Variant }, fn: () => T): T {
  const prev = forced;
  const prevInt8 = forcedInt8;
  forced = variant.f32 ?? prev;
  forcedInt8 = variant.int8 ?? prevInt8;
  try {
    return fn();
  } finally {
    forced = prev;
    forcedInt8 = prevInt8;
  }
}

/** op(a) [m, k] x op(b) [k, n] with the dispatch rule above. */
export function matmul(
  ctx: GpuContext, a: GpuTensor, b: GpuTensor, m: number, k: number, n: number, opts: MatmulOptions = {},
): GpuTensor {
  return matmulWith(forced ?? chooseMatmulVariant(m, k, n, opts, isSoftwareDevice(ctx.device)), ctx, a, b, m, k, n, opts);
}

/** op(a) [m, k] x op(b) [k, n] with a chosen kernel. */
export function matmulWith(
  variant: MatmulVariant, ctx: GpuContext, a: GpuTensor, b: GpuTensor, m: number, k: number, n: number,
  opts: MatmulOptions = {},
): GpuTensor {
  const out = ctx.empty([m, n], 'f32', 'matmul');
  if (m === 0 || n === 0) return out;
  const TRANS_A = opts.transA ? 1 : 0;
  const TRANS_B = opts.transB ? 1 : 0;
  const params = new Params().u32(m).u32(k).u32(n);
  const buffers = [a, b, out];
  switch (variant) {
    case 'naive':
      ctx.dispatch({
        shader: 'matmul_naive',
        overrides: { WX: NAIVE_WG, WY: NAIVE_WG, TRANS_A, TRANS_B },
        buffers,
        params,
        workgroups: [ceilDiv(n, NAIVE_WG), ceilDiv(m, NAIVE_WG)],
      });
      break;
    case 'tiled': {
      const tilesN = ceilDiv(n, TILE);
      const tiles = tilesN * ceilDiv(m, TILE);
      ctx.dispatch({
        shader: 'matmul_tiled',
        overrides: { TILE, TRANS_A, TRANS_B },
        buffers,
        params: params.u32(tilesN).u32(tiles),
        workgroups: [strideGrid(ctx, tiles)],
      });
      break;
    }
    case 'vec4': {
      if (!vec4Aligned(m, k, n, opts))
        throw new Error(
          `matmul(vec4): ${m}x${k}x${n}${opts.transA ? ' transA' : ''}${opts.transB ? ' transB' : ''} needs the ` +
            `contiguous dimension of a (${opts.transA ? 'M' : 'K'}) and of b (${opts.transB ? 'K' : 'N'}) to be multiples of 4`,
        );
      const blocksN = ceilDiv(n, VEC4_BLOCK);
      const blocks = blocksN * ceilDiv(m, VEC4_BLOCK);
      ctx.dispatch({
        shader: 'matmul_vec4',
        overrides: { BK: VEC4_BK, TRANS_A, TRANS_B },
        buffers,
        params: params.u32(blocksN).u32(blocks),
        workgroups: [strideGrid(ctx, blocks)],
      });
      break;
    }
    case 'gemv': {
      if (m > GEMV_MAX_ROWS) throw new Error(`matmul(gemv): m = ${m} rows, the GEMV kernel handles at most ${GEMV_MAX_ROWS}`);
      const COLS = TRANS_B ? GEMV_COLS_TRANS_B : GEMV_COLS;
      ctx.dispatch({
        shader: 'matmul_gemv',
        overrides: { COLS, TRANS_A, TRANS_B },
        buffers,
        params,
        workgroups: [strideGrid(ctx, ceilDiv(n, COLS))],
      });
      break;
    }
    default: {
      const never: never = variant;
      throw new Error(`matmul: unknown variant ${String(never)}`);
    }
  }
  return out;
}

/** a [m, k] x dequant(W) [k, n]; q is u32 [n, ceil(k/4)], scales f32 [n] (layout in types.ts Int8Weight). */
export function matmulInt8(
  ctx: GpuContext, a: GpuTensor, q: GpuTensor, scales: GpuTensor, m: number, k: number, n: number,
): GpuTensor {
  return matmulInt8With(forcedInt8 ?? chooseMatmulInt8Variant(m, isSoftwareDevice(ctx.device)), ctx, a, q, scales, m, k, n);
}

export function matmulInt8With(
  variant: MatmulInt8Variant, ctx: GpuContext, a: GpuTensor, q: GpuTensor, scales: GpuTensor, m: number, k: number,
  n: number,
): GpuTensor {
  const out = ctx.empty([m, n], 'f32', 'matmulInt8');
  if (m === 0 || n === 0) return out;
  const params = new Params().u32(m).u32(k).u32(n).u32(Math.ceil(k / 4));
  const buffers = [a, q, scales, out];
  if (variant === 'naive') {
    ctx.dispatch({
      shader: 'matmul_int8_naive',
      overrides: { WX: NAIVE_WG, WY: NAIVE_WG },
      buffers,
      params,
      workgroups: [ceilDiv(n, NAIVE_WG), ceilDiv(m, NAIVE_WG)],
    });
  } else if (variant === 'gemv') {
    if (m > GEMV_MAX_ROWS) throw new Error(`matmulInt8(gemv): m = ${m} rows, the GEMV kernel handles at most ${GEMV_MAX_ROWS}`);
    ctx.dispatch({
      shader: 'matmul_int8_gemv',
      overrides: { COLS: INT8_GEMV_COLS },
      buffers,
      params,
      workgroups: [strideGrid(ctx, ceilDiv(n, INT8_GEMV_COLS))],
    });
  } else {
    const tilesN = ceilDiv(n, TILE);
    const tiles = tilesN * ceilDiv(m, TILE);
    ctx.dispatch({
      shader: 'matmul_int8',
      overrides: { TILE },
      buffers,
      params: params.u32(tilesN).u32(tiles),
      workgroups: [strideGrid(ctx, tiles)],
    });
  }
  return out;
}
