// The exports of the WebAssembly kernels (src/engine/cpu/wasm/assembly/index.ts), as the host sees them, and how the
// compiled module is found: `build/kernels.wasm` (plain memory) and `build/kernels-mt.wasm` (shared memory, for the
// 2-thread runtime), produced by scripts/build-wasm.mjs. Node (vitest, scripts/node-run.mjs) reads the file next to
// this source; the browser fetches the URL Vite serves (dev) or emits as an asset (build).
// All pointers are byte addresses into the imported memory.

export interface Kernels {
  heapBase(): number;
  gemmScratchBytes(): number;
  gemmPath(m: number, n: number, k: number, rsA: number, csA: number, rsB: number, csB: number): number;
  gemm(path: number, m: number, n: number, k: number, a: number, rsA: number, csA: number, b: number, rsB: number,
    csB: number, c: number, ldc: number, work: number): void;
  logprobRows(x: number, t: number, logp: number, lse: number, vocab: number, r0: number, r1: number): void;
  logprobBackwardRows(x: number, t: number, lse: number, w: number, vocab: number, r0: number, r1: number): void;
  attentionForward(q: number, k: number, v: number, out: number, lse: number, heads: number, tq: number, tk: number,
    d: number, scale: number, p0: number, p1: number, s: number, work: number, causal: number, lens: number): void;
  attentionDecode(q: number, k: number, v: number, out: number, lse: number, heads: number, tk: number, d: number,
    scale: number, b0: number, b1: number, s: number, lens: number): void;
  attentionRows(q: number, k: number, v: number, out: number, heads: number, d: number, blockRows: number, scale: number,
    slots: number, lens: number, s: number, r0: number, r1: number): void;
  attentionBackward(dout: number, q: number, k: number, v: number, out: number, lse: number, dq: number, dk: number,
    dv: number, heads: number, tq: number, tk: number, d: number, scale: number, p0: number, p1: number, ps: number,
    dps: number, work: number, causal: number, lens: number): void;
  layernormRows(x: number, g: number, b: number, y: number, mean: number, rstd: number, n: number, eps: number,
    r0: number, r1: number): void;
  layernormBackwardRows(dy: number, x: number, g: number, mean: number, rstd: number, dx: number, dg: number,
    db: number, n: number, r0: number, r1: number): void;
  f64ToF32(src: number, dst: number, n: number): void;
  l2normalizeRows(x: number, y: number, norm: number, n: number, eps: number, r0: number, r1: number): void;
  l2normalizeBackwardRows(dy: number, y: number, norm: number, dx: number, n: number, eps: number, r0: number,
    r1: number): void;
  gelu(x: number, y: number, i0: number, i1: number): void;
  geluBackward(dy: number, x: number, dx: number, i0: number, i1: number): void;
  adamw(p: number, g: number, m: number, v: number, lr: number, b1: number, b2: number, eps: number, wd: number,
    c1: number, c2: number, i0: number, i1: number): void;
  add(a: number, b: number, y: number, i0: number, i1: number): void;
  mul(a: number, b: number, y: number, i0: number, i1: number): void;
  scale(a: number, s: number, y: number, i0: number, i1: number): void;
  addBias(x: number, bias: number, y: number, n: number, r0: number, r1: number): void;
  sumRows(x: number, acc: number, m: number, n: number, c0: number, c1: number): void;
  int8PackedBytes(k: number, n: number): number;
  int8ScratchBytes(k: number): number;
  int8Pack(q: number, k: number, n: number, dst: number): void;
  int8Gemm(m: number, n: number, k: number, a: number, lda: number, w: number, scales: number, c: number, ldc: number,
    work: number, j0: number, j1: number): void;
  int8Dequant(q: number, k: number, n: number, dst: number): void;
  scaleCols(c: number, scales: number, n: number, r0: number, r1: number): void;
  sampleRows(x: number, u: number, out: number, vocab: number, invT: number, topP: number, r0: number, r1: number): void;
  pickRows(x: number, u: number, out: number, logp: number, vocab: number, invT: number, topP: number, greedy: number,
    r0: number, r1: number): void;
}

export type KernelName = Exclude<keyof Kernels, 'heapBase' | 'gemmScratchBytes' | 'gemmPath' | 'int8PackedBytes' | 'int8ScratchBytes'>;

/** Kernels a helper thread may be asked to run (by index into this list). */
export const THREADED_KERNELS: readonly KernelName[] = [
  'gemm', 'logprobRows', 'logprobBackwardRows', 'attentionForward', 'attentionBackward', 'gelu', 'geluBackward', 'adamw',
  'int8Gemm', 'sampleRows', 'pickRows', 'attentionDecode', 'attentionRows',
];

/** gemm paths (see assembly/gemm.ts). */
export const GEMM_PACKED = 0;
export const GEMM_ROWS = 1;
export const GEMM_DOT = 2;

export type KernelVariant = 'single' | 'shared';

const modules = new Map<KernelVariant, Promise<WebAssembly.Module>>();

function kernelUrl(variant: KernelVariant): URL {
  // Literal `new URL('./...', import.meta.url)` forms, so Vite serves and bundles both files.
  return variant === 'shared'
    ? new URL('./build/kernels-mt.wasm', import.meta.url)
    : new URL('./build/kernels.wasm', import.meta.url);
}

async function kernelBytes(variant: KernelVariant): Promise<ArrayBuffer> {
  const url = kernelUrl(variant);
  if (url.protocol === 'file:') {
    const fsName = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    try {
      const buf = await fs.readFile(url);
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    } catch (e) {
      throw new Error(`cpu (wasm): cannot read ${url.pathname} (${e instanceof Error ? e.message : String(e)}); build it with npm run build:wasm`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cpu (wasm): fetching ${url.href} failed with HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** The compiled kernel module of one variant (compiled once per realm). */
export function kernelModule(variant: KernelVariant): Promise<WebAssembly.Module> {
  let p = modules.get(variant);
  if (!p) {
    p = kernelBytes(variant).then((bytes) => WebAssembly.compile(bytes));
    p.catch(() => modules.delete(variant));
    modules.set(variant, p);
  }
  return p;
}
